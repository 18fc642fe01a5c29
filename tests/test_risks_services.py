"""risks/services.py: register, reassess, controls, linked case, close, the overdue sweep."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from cases.models import Case, Channel
from grid.models import Role
from portal.errors import DomainError
from risks import services
from risks.grading import Grade
from risks.models import PhotoStage, Risk, RiskAssessment, RiskStatus
from risks.selectors import risks_visible_to

from .cases_factories import category
from .risks_factories import NOW, people, png, register, risk_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(city, make_user):
    return people(city, make_user)


def test_register_stores_path_grade_first_assessment_and_review(city, crew):
    risk = register(city, crew["worker"], photos=[png()])
    assert (risk.grid_id, risk.community_id, risk.street_id, risk.district_id) == (
        city.grid_a.pk, city.community_a.pk, city.street_a.pk, city.district.pk)
    assert risk.grade == Grade.ORANGE and risk.score == 16
    assert risk.review_on == datetime.date(2026, 12, 8)  # 15 days after 2026-11-23 for orange
    (first,) = risk.assessments.all()
    assert (first.grade, first.previous_grade, first.by) == (Grade.ORANGE, "", crew["worker"])
    assert risk.photos.get().stage == PhotoStage.FOUND


def test_register_on_a_community_without_building(city, crew):
    risk = services.risk_register(place=city.community_a, acting_user=crew["staff"], now=NOW,
                                  **risk_fields(kind="geological", likelihood=5, severity=5))
    assert risk.grid_id is None and risk.community_id == city.community_a.pk and risk.grade == Grade.RED
    assert risk.review_on == datetime.date(2026, 11, 30)


@pytest.mark.parametrize(("overrides", "code"), [
    ({"likelihood": None}, "missing_score"),  # a grade without both scores
    ({"severity": ""}, "missing_score"),
    ({"likelihood": 9}, "bad_score"),
    ({"kind": "ufo"}, "bad_kind"),
    ({"title": "  "}, "blank"),
    ({"measures": ""}, "blank"),
    ({"responsible": ""}, "blank"),
    ({"responsible_phone": "call me"}, "bad_phone"),
    ({"responsible_phone": "12345"}, "bad_phone"),  # too few digits to be called back
    ({"title": "长" * 81}, "too_long"),
])
def test_bad_register_input_is_refused_and_nothing_written(city, crew, overrides, code):
    with pytest.raises(DomainError) as refused:
        register(city, crew["worker"], **overrides)
    assert refused.value.code == code
    assert not Risk.objects.exists() and not RiskAssessment.objects.exists()


def test_register_outside_ones_scope_and_by_a_chief_is_refused(city, crew):
    with pytest.raises(DomainError):
        register(city, crew["outsider"])
    with pytest.raises(DomainError):
        register(city, crew["chief"])
    with pytest.raises(DomainError):
        register(city, crew["worker"], building=city.building_a2)  # grid_a2 is not hers
    assert not Risk.objects.exists()


def test_a_non_image_photo_is_refused(city, crew):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(DomainError):
        register(city, crew["worker"], photos=[SimpleUploadedFile("x.jpg", b"not an image")])
    assert not Risk.objects.exists()


def test_reassessment_is_the_only_way_the_grade_changes_and_keeps_history(city, crew):
    risk = register(city, crew["worker"])
    later = NOW + datetime.timedelta(days=3)
    risk = services.risk_reassess(risk=risk, method="lec", likelihood=10, exposure=6, severity=7, note="更严重了",
                                  acting_user=crew["staff"], now=later)
    assert risk.grade == Grade.RED and risk.review_on == datetime.date(2026, 12, 3)
    grades = list(risk.assessments.order_by("at").values_list("grade", "previous_grade"))
    assert grades == [(Grade.ORANGE, ""), (Grade.RED, Grade.ORANGE)]
    with pytest.raises(DomainError):
        services.risk_reassess(risk=risk, method="matrix", likelihood=3, acting_user=crew["staff"], now=later)
    assert Risk.objects.get().grade == Grade.RED and RiskAssessment.objects.count() == 2


def test_controls_change_without_touching_the_grade(city, crew):
    risk = register(city, crew["worker"])
    risk = services.risk_set_controls(risk=risk, responsible="王经理", measures="每日巡查", acting_user=crew["staff"],
                                      now=NOW)
    assert (risk.responsible, risk.grade) == ("王经理", Grade.ORANGE)
    with pytest.raises(DomainError):
        services.risk_set_controls(risk=risk, responsible="", measures="x", acting_user=crew["staff"], now=NOW)


def test_close_needs_evidence_text_and_photo(city, crew):
    risk = register(city, crew["worker"])
    for evidence, photos in (("", [png()]), ("已清理", []), ("  ", [])):
        with pytest.raises(DomainError):
            services.risk_close(risk=risk, evidence=evidence, photos=photos, acting_user=crew["worker"], now=NOW)
        assert Risk.objects.get().status == RiskStatus.OPEN
    risk = services.risk_close(risk=risk, evidence="杂物已清空，物业签字确认", photos=[png()],
                               acting_user=crew["worker"], now=NOW)
    assert risk.status == RiskStatus.CLOSED and risk.photos.filter(stage=PhotoStage.CLOSE).count() == 1
    with pytest.raises(DomainError):
        services.risk_close(risk=risk, evidence="again", photos=[png()], acting_user=crew["worker"], now=NOW)


def test_the_database_refuses_a_close_without_evidence(city, crew):
    risk = register(city, crew["worker"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Risk.objects.filter(pk=risk.pk).update(status=RiskStatus.CLOSED, closed_at=NOW, closed_by=crew["worker"])


def test_open_case_goes_through_the_hook_as_a_patrol_report(city, crew):
    risk = register(city, crew["worker"])
    risk = services.risk_open_case(risk=risk, category=category("E0601"), acting_user=crew["worker"], now=NOW)
    case = Case.objects.get()
    assert risk.case_id == case.pk and case.channel == Channel.PATROL and case.building_id == city.building_a.pk
    with pytest.raises(DomainError):
        services.risk_open_case(risk=risk, category=category("E0601"), acting_user=crew["worker"], now=NOW)
    assert Case.objects.count() == 1


def test_a_risk_is_not_written_off_while_its_case_is_open(city, crew):
    risk = register(city, crew["worker"])
    risk = services.risk_open_case(risk=risk, category=category("E0601"), acting_user=crew["worker"], now=NOW)
    case = Case.objects.get()
    with pytest.raises(DomainError) as refused:
        services.risk_close(risk=risk, evidence="已整改", photos=[png()], acting_user=crew["worker"], now=NOW)
    assert refused.value.code == "case_open" and case.number in refused.value.message
    assert Risk.objects.get().status == RiskStatus.OPEN and not Risk.objects.get().photos.filter(
        stage=PhotoStage.CLOSE).exists()
    # The case closed (as its verify and close would leave it): now the risk can be written off.
    Case.objects.filter(pk=case.pk).update(status="closed", resolved_at=NOW, closed_at=NOW)
    risk = services.risk_close(risk=risk, evidence="已整改", photos=[png()], acting_user=crew["worker"], now=NOW)
    assert risk.status == RiskStatus.CLOSED


def test_overdue_sweep_marks_each_risk_once(city, crew):
    risk = register(city, crew["worker"])  # orange: review on 2026-12-08
    assert services.risks_flag_overdue(now=NOW + datetime.timedelta(days=15)) == 0  # due today, not overdue
    later = NOW + datetime.timedelta(days=16)
    assert services.risks_flag_overdue(now=later) == 1
    assert services.risks_flag_overdue(now=later + datetime.timedelta(hours=1)) == 0
    assert Risk.objects.get().review_overdue_since == later
    services.risk_reassess(risk=risk, method="matrix", likelihood=2, severity=2, acting_user=crew["worker"],
                           now=later)
    assert Risk.objects.get().review_overdue_since is None


def test_visibility_follows_the_tree_and_leaves_chiefs_out(city, crew, make_user):
    risk = register(city, crew["worker"])
    for name in ("worker", "staff", "street"):
        assert list(risks_visible_to(crew[name])) == [risk]
    for name in ("outsider", "chief"):
        assert not risks_visible_to(crew[name]).exists()
    other_worker = make_user(Role.GRID_WORKER, city.grid_a2)
    assert not risks_visible_to(other_worker).exists()

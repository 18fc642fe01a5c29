"""The risk and patrol pages: every URL with one object inside the user's subtree and one outside
(404), every form's bad input (a clear error, nothing written), and the day page's queries."""

import datetime

import pytest
from django.urls import reverse

from cases.models import Case
from risks import patrols
from risks.models import Finding, FindingKind, Patrol, Risk, RiskAssessment, RiskStatus

from .cases_factories import category, png
from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]


@pytest.fixture
def crew(city, make_user):
    return people(city, make_user)


@pytest.fixture
def risks(city, crew):
    other = register(city, crew["outsider"], building=city.building_b)
    return register(city, crew["worker"], photos=[png()]), other


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["detail", "photo", "reassess", "close", "case"])
def test_risk_urls_inside_and_outside(client, crew, risks, name):
    mine, other = risks
    client = signed_in(client, crew["staff"])
    for risk, expected in ((mine, {200, 302, 400}), (other, {404})):
        args = [risk.pk] + ([risk.photos.first().pk if risk.photos.exists() else 1] if name == "photo" else [])
        url = reverse(f"risks:{name}", args=args)
        response = client.get(url) if name in ("detail", "photo") else client.post(url, {})
        assert response.status_code in expected, (name, risk, response.status_code)


def test_list_and_export_show_only_the_subtree(client, crew, risks):
    mine, other = risks
    client = signed_in(client, crew["staff"])
    page = client.get(reverse("risks:list")).content.decode()
    assert mine.title in page and f'/risks/{other.pk}/' not in page
    rows = client.get(reverse("risks:export")).content.decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and rows[1].startswith(f"{mine.pk},")
    assert client.get(reverse("risks:export") + "?grade=1red").content.decode("utf-8-sig").count("\n") == 1


def test_a_building_chief_sees_no_register(client, crew, risks):
    client = signed_in(client, crew["chief"])
    assert client.get(reverse("risks:detail", args=[risks[0].pk])).status_code == 404
    assert risks[0].title not in client.get(reverse("risks:list")).content.decode()


def test_day_page_of_the_worker_and_its_queries(client, crew, risks, django_assert_max_num_queries):
    client = signed_in(client, crew["worker"])
    with django_assert_max_num_queries(12):  # +1: the navigation's badges (queue and unread notices, one statement)
        page = client.get(reverse("risks:day"))
    assert page.status_code == 200 and "risks/patrols/start/" in page.content.decode()


def test_register_a_risk_through_the_page_and_bad_input(client, city, crew):
    client = signed_in(client, crew["worker"])
    good = {"kind": "gas", "place": f"b{city.building_a.pk}", "title": "燃气管老化", "description": "3单元燃气管锈蚀",
            "method": "matrix", "likelihood": "3", "severity": "5", "responsible": "燃气公司", "measures": "报燃气公司更换"}
    for bad in ({"likelihood": ""}, {"severity": ""}, {"place": f"b{city.building_b.pk}"}, {"place": "x"},
                {"kind": ""}, {"title": ""}, {"method": "lec"}, {"likelihood": "9"}, {"responsible_phone": "abc"}):
        response = client.post(reverse("risks:new"), {**good, **bad})
        assert response.status_code == 400, bad
        assert 'class="form-errors"' in response.content.decode()
    assert not Risk.objects.exists()
    response = client.post(reverse("risks:new"), good)
    risk = Risk.objects.get()
    assert response.status_code == 302 and risk.grade == "2orange"  # 3 × 5 = 15: orange


def test_a_refused_risk_says_its_photo_must_be_chosen_again(client, city, crew):
    client = signed_in(client, crew["worker"])
    data = {"kind": "gas", "place": f"b{city.building_a.pk}", "title": "", "description": "燃气管锈蚀",
            "method": "matrix", "likelihood": "3", "severity": "5", "responsible": "燃气公司", "measures": "报修"}
    response = client.post(reverse("risks:new"), {**data, "photo": png()})
    assert response.status_code == 400
    assert "field-photo has-error" in response.content.decode()
    assert not Risk.objects.exists()


def test_the_scales_say_what_each_step_means_grouped_by_method(client, city, crew):
    client = signed_in(client, crew["worker"])
    html = client.get(reverse("risks:new"), headers={"Accept-Language": "en"}).content.decode()
    assert '<optgroup label="risk matrix (L × S)">' in html and '<optgroup label="LEC (L × E × C)">' in html
    assert "3 · possible" in html and "3 · unusual but possible" in html and "100 · catastrophe, many deaths" in html
    assert "10 · continuously" in html
    # A refused LEC form lists the LEC steps first, so the number chosen shows with its LEC meaning.
    response = client.post(reverse("risks:new"), {"method": "lec", "likelihood": "3", "severity": "7"},
                           headers={"Accept-Language": "en"})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.index('<optgroup label="LEC (L × E × C)">') < html.index('<optgroup label="risk matrix (L × S)">')
    assert '<option value="3" selected>3 · unusual but possible</option>' in html


def test_reassess_close_and_case_forms_refuse_bad_input(client, crew, risks):
    mine = risks[0]
    client = signed_in(client, crew["staff"])
    for bad in ({"method": "matrix", "likelihood": "4"}, {"method": "matrix"}, {"method": "x", "likelihood": "1",
                                                                                  "severity": "1"}):
        assert client.post(reverse("risks:reassess", args=[mine.pk]), bad).status_code == 400
    assert RiskAssessment.objects.filter(risk=mine).count() == 1
    assert client.post(reverse("risks:close", args=[mine.pk]), {"evidence": "已清理"}).status_code == 400
    assert client.post(reverse("risks:close", args=[mine.pk]), {"evidence": "", "photo": png()}).status_code == 400
    assert client.post(reverse("risks:close", args=[mine.pk]),
                       {"evidence": "已清理", "photo": png(name="x.png", size=(1, 1)).__class__(
                           "x.png", b"not an image")}).status_code == 400
    assert Risk.objects.get(pk=mine.pk).status == RiskStatus.OPEN
    assert client.post(reverse("risks:case", args=[mine.pk]), {"category": "NOPE"}).status_code == 400
    assert not Case.objects.exists()
    response = client.post(reverse("risks:reassess", args=[mine.pk]),
                           {"method": "matrix", "likelihood": "5", "severity": "4", "note": "加重"})
    assert response.status_code == 302 and Risk.objects.get(pk=mine.pk).grade == "1red"
    category("E0601")
    assert client.post(reverse("risks:case", args=[mine.pk]), {"category": "E0601"}).status_code == 302
    case = Case.objects.get()
    assert Risk.objects.get(pk=mine.pk).case_id == case.pk
    # Not written off while the work on it is open: refused on the page, the case named.
    refused = client.post(reverse("risks:close", args=[mine.pk]), {"evidence": "已清理完毕", "photo": png()})
    assert refused.status_code == 400 and case.number in refused.content.decode()
    assert Risk.objects.get(pk=mine.pk).status == RiskStatus.OPEN
    Case.objects.filter(pk=case.pk).update(status="closed", resolved_at=case.created_at, closed_at=case.created_at)
    assert client.post(reverse("risks:close", args=[mine.pk]),
                       {"evidence": "已清理完毕", "photo": png()}).status_code == 302
    assert Risk.objects.get(pk=mine.pk).status == RiskStatus.CLOSED


def test_patrol_flow_and_its_refusals(client, city, crew):
    worker = signed_in(client, crew["worker"])
    assert worker.post(reverse("risks:patrol_start"), {"grid": city.grid_b.pk}).status_code == 302
    assert not Patrol.objects.exists()  # not her grid
    worker.post(reverse("risks:patrol_start"), {"grid": city.grid_a.pk, "track": "on"})
    patrol = Patrol.objects.get()
    assert patrol.track_consent
    url = reverse("risks:patrol_fixed", args=[patrol.pk])
    for bad in ({"description": "扶正倒伏的垃圾桶", "before": png()}, {"description": "", "before": png(), "after": png()}):
        assert worker.post(url, bad).status_code == 400
    assert not Finding.objects.exists()
    assert worker.post(url, {"description": "扶正倒伏的垃圾桶", "before": png(), "after": png(),
                             "building": city.building_a.pk}).status_code == 302
    finding = Finding.objects.get()
    assert finding.kind == FindingKind.FIXED and not Case.objects.exists()
    assert worker.get(reverse("risks:finding_photo", args=[finding.pk, "after"])).status_code == 200
    # Route points: unreadable ones are refused; far-away ones are kept and flagged.
    end = reverse("risks:patrol_end", args=[patrol.pk])
    worker.post(end, {"route": "[[\"x\", 1]]"})
    assert Patrol.objects.get().ended_at is None
    patrol.grid.boundary = {"type": "Polygon", "coordinates": [[[104.7, 31.4], [104.8, 31.4], [104.8, 31.5],
                                                                  [104.7, 31.5], [104.7, 31.4]]]}
    patrol.grid.save(update_fields=["boundary"])
    worker.post(end, {"route": "[[31.45, 104.75], [39.9, 116.4]]"})
    patrol.refresh_from_db()
    assert patrol.ended_at is not None and patrol.route_flagged and len(patrol.route) == 2


def test_a_patrol_cannot_end_before_it_started_nor_carry_a_route_without_consent(city, crew):
    patrol = patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)
    from portal.errors import DomainError

    with pytest.raises(DomainError) as refused:
        patrols.patrol_end(patrol=patrol, acting_user=crew["worker"], now=NOW - datetime.timedelta(minutes=1))
    assert refused.value.code == "ends_before_start"
    with pytest.raises(DomainError) as refused:
        patrols.patrol_end(patrol=patrol, route=[[31.4, 104.7]], acting_user=crew["worker"], now=NOW)
    assert refused.value.code == "no_consent"
    with pytest.raises(DomainError):
        patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)  # one under way already
    with pytest.raises(DomainError):
        patrols.patrol_end(patrol=patrol, acting_user=crew["staff"], now=NOW)  # not hers


@pytest.mark.parametrize("name", ["patrol_end", "patrol_fixed", "patrol_case"])
def test_patrol_urls_are_the_workers_own(client, city, crew, make_user, name):
    from grid.models import Role

    colleague = make_user(Role.GRID_WORKER, city.grid_a)
    patrol = patrols.patrol_start(grid=city.grid_a, acting_user=colleague, now=NOW)
    client = signed_in(client, crew["worker"])
    assert client.post(reverse(f"risks:{name}", args=[patrol.pk]), {}).status_code == 404
    assert Patrol.objects.get().ended_at is None
    mine = patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)
    assert client.post(reverse(f"risks:{name}", args=[mine.pk]), {}).status_code in (302, 400)


def test_finding_photo_inside_and_outside(client, city, crew, make_user):
    from grid.models import Role

    patrol = patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)
    finding = patrols.finding_fixed(patrol=patrol, description="清走楼道纸箱", before=png(), after=png(),
                                    acting_user=crew["worker"], now=NOW)
    url = reverse("risks:finding_photo", args=[finding.pk, "before"])
    assert signed_in(client, crew["staff"]).get(url).status_code == 200
    assert signed_in(client, crew["outsider"]).get(url).status_code == 404
    assert signed_in(client, make_user(Role.GRID_WORKER, city.grid_b)).get(url).status_code == 404


def test_day_page_queries_do_not_grow_with_what_is_due_or_found(client, city, crew):
    """No N+1: more risks due (one hung on the community, no grid), more plans and more findings cost
    the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from risks import plans, services

    ten_days_ago = NOW - datetime.timedelta(days=10)  # red: reviewed every 7 days, so due 3 days ago

    def due_risk(n, **place):
        place = place or {"building": city.building_a}
        return services.risk_register(kind="gas", title=f"燃气{n}", description="管道锈蚀", method="matrix",
                                      likelihood=5, severity=4, responsible="燃气公司", measures="更换",
                                      acting_user=crew["staff"], now=ten_days_ago, **place)

    def count(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("risks:day")).status_code == 200
        return len(queries)

    patrol = patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)
    due_risk(0)
    plans.plan_add(grid=city.grid_a, building=city.building_a, title="巡查0", interval_days=7,
                   first_due=NOW.date(), acting_user=crew["staff"], now=NOW)
    patrols.finding_fixed(patrol=patrol, description="扶正", before=png(), after=png(), acting_user=crew["worker"],
                          now=NOW)
    worker_before, staff_before = count(crew["worker"]), count(crew["staff"])
    for n in range(1, 6):
        due_risk(n)
        due_risk(f"c{n}", place=city.community_a)
        plans.plan_add(grid=city.grid_a, building=city.building_a, title=f"巡查{n}", interval_days=7,
                       first_due=NOW.date(), acting_user=crew["staff"], now=NOW)
        patrols.finding_risk(patrol=patrol, building=city.building_a, acting_user=crew["worker"], now=NOW,
                             kind="gas", title=f"发现{n}", description="燃气", method="matrix", likelihood=2,
                             severity=2, responsible="物业", measures="清理")
    assert count(crew["worker"]) == worker_before
    assert count(crew["staff"]) == staff_before

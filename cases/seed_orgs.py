"""The organisation track in the seeded city: routing rules and the 准入 list for every district,
and, in the demo, big matters in every state of the track on the demo street (awaiting dispatch,
in 城管's queue, signed in, answered, returned awaiting a ruling, ruled to the 派出所) plus a few
private matters referred. The matters go through the services, as staff would make them.
"""

import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from grid.models import Area, AreaKind, Building, OrgFunction, Organisation

from . import escalation, routing_orgs, services, services_orgs, services_report
from .models import Category, Channel, GridExclusion, ReferralTarget, RoutingRule

# (category code, responsible function): the field reports' usual owners of these matters.
RULES = (
    ("E0201", OrgFunction.URBAN_MANAGEMENT),  # 违法建设
    ("E0301", OrgFunction.URBAN_MANAGEMENT),  # 占道经营
    ("E0203", OrgFunction.ENVIRONMENT),       # 工地扬尘
    ("E0304", OrgFunction.POLICE),            # 噪声扰民
    ("E0402", OrgFunction.GAS),               # 燃气泄漏
    ("C0105", OrgFunction.WATER),             # 供水设施损坏
    ("E0504", OrgFunction.JUSTICE),           # 劳资纠纷
)
# 准入: enforcement matters a district never gives to a grid worker.
NOT_FOR_GRID = (("E0201", "违法建设查处属执法事项，网格员只报不办"), ("E0301", "占道经营查处属执法事项"))

DESCRIPTIONS = {
    "E0201": ["小区楼顶有人私自搭建彩钢板房", "一楼住户违规扩建院墙占用绿地", "楼道尽头加建储物间"],
    "E0301": ["小区门口早市摊贩占道经营，堵塞人行道", "路口水果摊占用盲道", "夜宵摊占道经营至凌晨"],
}


def _png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 140, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile("reply.png", buffer.getvalue(), content_type="image/png")


def seed_rules(*, now):
    """Every district's routing rules and 准入 list (reference data for the city's districts)."""
    categories = {c.code: c for c in Category.objects.filter(code__in=[c for c, _f in RULES + NOT_FOR_GRID])}
    districts = list(Area.objects.filter(kind=AreaKind.DISTRICT, is_active=True))
    rules = [RoutingRule(district=d, category=categories[code], function=function, created_at=now)
             for d in districts for code, function in RULES if code in categories]
    RoutingRule.objects.bulk_create(rules, ignore_conflicts=True, batch_size=1000)
    exclusions = [GridExclusion(district=d, category=categories[code], reason=reason, created_at=now)
                  for d in districts for code, reason in NOT_FOR_GRID if code in categories]
    GridExclusion.objects.bulk_create(exclusions, ignore_conflicts=True, batch_size=1000)
    return len(rules)


def seed_demo_matters(*, rng, now):
    """Big matters through every state of the track on the demo street; returns how many."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["street", "community", "chengguan"])}
    if len(users) < 3:
        return 0
    street, community, staff = users["street"], users["community"], users["chengguan"]
    chengguan = Organisation.objects.filter(posts__user=staff, posts__ended_at__isnull=True).first()
    street_area = street.posts.filter(ended_at__isnull=True).first().area
    police = Organisation.objects.filter(seat=street_area, function=OrgFunction.POLICE, is_active=True).first()
    community_area = community.posts.filter(ended_at__isnull=True).first().area
    buildings = list(Building.objects.filter(grid__parent=community_area).order_by("id")[:12])
    if chengguan is None or not buildings:
        return 0
    # What each matter goes through, oldest first: the states the demo shows.
    plan = ["waiting", "waiting", "queued", "queued", "queued_late", "signed", "signed", "replied",
            "returned", "returned", "ruled", "referred", "referred"]
    made = 0
    for n, stage in enumerate(plan):
        at = now - timedelta(hours=30 - 2 * n)
        code = "E0201" if n % 2 else "E0301"
        if stage == "queued_late":
            at = now - timedelta(days=3)
        if stage == "referred":
            code = "E0502"
        building = buildings[n % len(buildings)]
        text = rng.choice(DESCRIPTIONS.get(code, ["家中夫妻争吵，邻居担心"]))
        case = services_report.case_report(category=code, description=text, channel=Channel.WEB, building=building,
                                           reporter_name="居民", reporter_phone="13900000000", now=at)
        step = timedelta(minutes=20)
        if stage == "referred":
            services_orgs.case_refer(case=case, acting_user=community, referred_to=ReferralTarget.MEDIATION,
                                     told="已告知可到社区人民调解室申请调解", now=at + step)
            made += 1
            continue
        case = services.case_register(case=case, acting_user=community, triage="public", now=at + step)
        if stage == "waiting":
            made += 1
            continue
        case = services_orgs.case_org_dispatch(case=case, acting_user=street, lead=chengguan, now=at + 2 * step)
        if stage in ("signed", "replied"):
            case = services_orgs.case_org_sign_in(case=case, acting_user=staff, now=at + 3 * step)
        if stage == "replied":
            services_orgs.case_org_reply(case=case, acting_user=staff, note="已现场处置，恢复原状", photos=[_png()],
                                         now=at + 4 * step)
        if stage in ("returned", "ruled"):
            case = services_orgs.case_org_return(case=case, acting_user=staff,
                                                 reason="经核实属住户私搭乱建引发的相邻纠纷，非执法事项", now=at + 3 * step)
        if stage == "ruled" and police is not None:
            services_orgs.case_org_rule(case=case, acting_user=street, lead=police,
                                        reason="涉及治安，由派出所主办", now=at + 4 * step)
        made += 1
    escalation.supervise_overdue_org_matters(now=now)
    return made


def seed(*, scale, rng, stdout, now):
    rules = seed_rules(now=now)
    matters = seed_demo_matters(rng=rng, now=now) if scale.name == "demo" else 0
    routing_orgs.log.debug("seeded %d routing rules, %d organisation matters", rules, matters)
    stdout.write(f"    {rules:,} routing rules, {matters} organisation matters")

"""Demo whistles (吹哨报到) and 12345 work orders, written through the live services.

Run by cases.seed.seed() at the end, at demo scale only: it needs the demo
accounts (the street's staff, the community's, the grid worker, the street's
城管执法中队 staff), which only the demo city has. Everything is dated relative to
`now`: a whistle with two report-ins (one late) and the street's ratings on a
closed case, an open one with a no-show, one the 城管 demo account still has to
report in to; hotline orders with a reply, a follow-up call and a hand-back.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from grid import services as grid_services
from grid.models import Role
from grid.selectors import organisations_covering
from portal.errors import DomainError

from . import services, services_report, whistles
from .models import Case, Category, Status


def _png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 140, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile("result.png", buffer.getvalue(), content_type="image/png")


def _staff_of(org, now):
    """A staff account of `org` (the demo's 城管 has one; others get a sign-in-less one)."""
    User = get_user_model()
    found = User.objects.filter(posts__organisation=org, posts__ended_at__isnull=True).order_by("pk").first()
    if found is not None:
        return found
    user = User.objects.create(username=f"org{org.pk}-duty", full_name=f"{org.name}值班员")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    grid_services.post_grant(user=user, role=Role.ORG_STAFF, place=org, now=now)
    return User.objects.get(pk=user.pk)


def _two_orgs(case, enforcement):
    covering = list(organisations_covering(area=case.grid or case.community, building=case.building)
                    .order_by("kind", "function", "pk"))
    first = enforcement if enforcement in covering else (covering[0] if covering else None)
    second = next((o for o in covering if o != first and o.kind in ("utility", "department")), None)
    return [o for o in (first, second) if o is not None]


def seed(*, stdout, now):
    User = get_user_model()
    street = User.objects.filter(username="street").first()
    community = User.objects.filter(username="community").first()
    chengguan = User.objects.filter(username="chengguan").first()
    if street is None or community is None:
        stdout.write("    whistles and hotline orders: no demo accounts, skipped")
        return
    enforcement = chengguan.posts.filter(organisation__isnull=False).first().organisation if chengguan else None
    street_id = street.posts.filter(area__isnull=False).first().area_id
    community_id = community.posts.filter(area__isnull=False).first().area_id
    made = _seed_whistles(street, community, enforcement, street_id, community_id, now)
    orders = _seed_hotline(community, street_id, community_id, now)
    stdout.write(f"    {made} whistles, {orders} hotline work orders")


def _patrol_case(worker, grid, text, now, category):
    """A matter the demo grid worker reports on patrol at `now` and takes in hand. The callers choose a
    category that fits the text (a walk of the demo found 井盖缺失 on a night market) and that no rule of
    cases/seed_orgs.py routes to an organisation, so the worker keeps the matter; the first service
    category stands in if it is missing."""
    if not Category.objects.filter(code=category, is_active=True).exists():
        category = _category_code()
    case = services_report.case_report(category=category, description=text, channel="patrol", grid=grid,
                                       acting_user=worker, now=now)
    if case.assignee_id == worker.pk:
        case = services.case_accept(case=case, acting_user=worker, now=now + timedelta(minutes=5))
    return case


def _seed_whistles(street, community, enforcement, street_id, community_id, now):
    """Three whistles on matters the demo grid worker reported (dated from `now`, so the same every run)."""
    worker = get_user_model().objects.filter(username="gridworker").first()
    if worker is None:
        return 0
    grid = worker.posts.filter(area__isnull=False).first().area
    made = 0
    # 1. Closed and rated: 城管 reports in on time, the second organisation late; the worker
    #    resolves, the community verifies and closes, the street rates both.
    case = _patrol_case(worker, grid, "夜市收摊后路面油污遍地，多次劝导无效", now - timedelta(hours=8), "E0102")
    orgs = _two_orgs(case, enforcement)
    if len(orgs) == 2 and case.status == Status.HANDLING:
        start = now - timedelta(hours=6)
        whistle = whistles.whistle_blow(case=case, organisations=orgs, acting_user=street, urgent=True,
                                        situation="enforcement", now=start,
                                        reason="占道经营反复整治无效，需城管与相关部门联合处置")
        rows = {s.organisation_id: s for s in whistle.summons.all()}
        whistles.summons_report_in(summons=rows[orgs[0].pk], acting_user=_staff_of(orgs[0], now),
                                   note="两名队员到场", now=start + timedelta(minutes=18))
        whistles.summons_report_in(summons=rows[orgs[1].pk], acting_user=_staff_of(orgs[1], now),
                                   now=start + timedelta(minutes=47))
        services.case_resolve(case=case, acting_user=worker, note="摊位已清理，设置限时经营区", photos=[_png()],
                              now=now - timedelta(hours=3))
        services.case_verify(case=case, acting_user=community, passed=True, note="现场已恢复",
                             now=now - timedelta(hours=2))
        services.case_close(case=case, acting_user=community, now=now - timedelta(hours=2))
        whistles.whistle_rate(whistle=whistle, ratings={rows[orgs[0].pk].pk: (5, "到场迅速，处置到位"),
                                                        rows[orgs[1].pk].pk: (3, "迟到十七分钟")},
                              acting_user=street, now=now - timedelta(hours=1))
        made += 1
    # 2. Open: one organisation reported in, the other never came (swept as a no-show).
    case = _patrol_case(worker, grid, "小区围墙外工地夜间施工，居民多次投诉", now - timedelta(hours=3), "E0202")
    orgs = _two_orgs(case, enforcement)
    if orgs:
        start = now - timedelta(hours=2)
        whistle = whistles.whistle_blow(case=case, organisations=orgs, acting_user=street, urgent=True,
                                        situation="pressing", reason="居民多次投诉，社区协调无果，请相关单位到场",
                                        now=start)
        whistles.summons_report_in(summons=whistle.summons.get(organisation=orgs[0]),
                                   acting_user=_staff_of(orgs[0], now), now=start + timedelta(minutes=25))
        whistles.summonses_mark_no_shows(now=now)
        made += 1
    # 3. Just blown, not urgent: the 城管 demo account has a report-in waiting.
    if enforcement is not None:
        case = _patrol_case(worker, grid, "工地围挡占用人行道，夜间施工扰民", now - timedelta(minutes=40), "E0202")
        try:
            whistles.whistle_blow(case=case, organisations=[enforcement], acting_user=street, situation="enforcement",
                                  reason="围挡是否合规需执法认定", now=now - timedelta(minutes=10))
            made += 1
        except DomainError:
            pass  # the squad does not cover this place
    return made


def _seed_hotline(community, street_id, community_id, now):
    from grid.models import Area, Building

    from .hotline import services as hotline
    from .open311 import services as open311_services

    district = Area.objects.get(pk=street_id).parent
    try:
        client, _key = open311_services.client_issue(name="12345 市民服务热线", area=district, acting_user=None,
                                                     rate_limit=600, is_hotline=True, now=now)
    except DomainError:
        return 0
    buildings = list(Building.objects.filter(grid__parent_id=community_id).order_by("pk")[:4])
    texts = ["楼道堆放杂物，存在消防隐患", "小区门口路灯不亮一周", "楼上漏水至我家卫生间", "夜间施工噪音扰民"]
    day = now.strftime("%Y%m%d")
    orders = []
    for index, (building, text) in enumerate(zip(buildings, texts), start=1):
        order, _created = hotline.order_receive(client=client, now=now - timedelta(hours=30 - index), data={
            "order_number": f"GD{day}{index:04d}", "service_code": _category_code(), "description": text,
            "address_id": str(building.pk), "caller_name": "市民", "caller_phone": f"1390000{index:04d}",
        })
        orders.append(order)
    if not orders:
        return 0
    # Replied and followed up: handled by the grid worker, replied by the community, called back.
    for order, result in zip(orders[:2], ("satisfied", None)):
        case = Case.objects.get(pk=order.case_id)
        if case.assignee_id is None:
            continue
        services.case_accept(case=case, acting_user=case.assignee, now=now - timedelta(hours=20))
        services.case_resolve(case=case, acting_user=case.assignee, note="已处理完毕", photos=[_png()],
                              now=now - timedelta(hours=10))
        hotline.order_reply(case=case, text="经网格员现场处置，问题已解决。", acting_user=community,
                            now=now - timedelta(hours=9))
        if result:
            hotline.order_visit(case=case, result=result, note="来电人对处理结果表示满意", client=client,
                                now=now - timedelta(hours=3))
    # Handed back within its window: not the community's matter.
    if len(orders) > 3:
        try:
            hotline.order_return(case=orders[3].case, reason="施工单位属市重点工程，应由市住建部门受理",
                                 acting_user=community, now=now - timedelta(hours=3))
        except DomainError:
            pass  # its window closed (a long seed)
    return len(orders)


def _category_code():
    from .open311.selectors import services as open311_categories

    return open311_categories().values_list("code", flat=True).first()

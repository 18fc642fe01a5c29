"""Risks and patrol history for `manage.py seed_city` (the app seeder hook, SEEDER_APPS).

Written through risks/services.py and risks/patrols.py, so every seeded row
is one the portal could have written: risks of every grade with their first
assessment (some reassessed, some closed with evidence, some past their
review), a fortnight of patrols with findings fixed on the spot, and the open
warnings the rules raise over them. The demo
accounts' grid gets all of it; other grids a sample, without photos.
"""

import io
from datetime import timedelta

from django.core.files.base import ContentFile

from .models import RiskType

RISKS_BY_SCALE = {"demo": 40, "medium": 400, "large": 2000}
PATROL_DAYS = 14

# (type, title, description, method, L, S or C, E, responsible, measures): one per grade at least.
SAMPLES = [
    (RiskType.DANGEROUS_BUILDING, "楼体外墙开裂", "东侧外墙出现贯穿裂缝，雨后渗水", "matrix", 4, 5, None,
     "房管所", "设置警戒区，委托鉴定，禁止靠近"),  # 20: red
    (RiskType.FIRE_LANE, "消防通道堆放杂物", "一楼楼道堆放纸箱和旧家具", "matrix", 4, 4, None,
     "物业公司", "通知物业清理，每周复查"),  # 16: orange
    (RiskType.EBIKE, "电动车入户充电", "三楼住户将电动车推入室内充电", "matrix", 3, 4, None,
     "楼栋长", "入户劝导，引导到集中充电点"),  # 12: yellow
    (RiskType.FALLING_OBJECTS, "阳台花盆未固定", "临街阳台花盆放在护栏外", "matrix", 2, 3, None,
     "住户本人", "提醒住户移入护栏内"),  # 6: blue
    (RiskType.GAS, "燃气管道锈蚀", "二单元燃气立管锈蚀明显", "lec", 3, 15, 6,
     "燃气公司", "报燃气公司检修，张贴安全提示"),  # 270: orange
    (RiskType.GEOLOGICAL, "挡土墙渗水", "小区后山挡土墙底部渗水", "lec", 1, 40, 3,
     "社区居委会", "汛期每日巡查，设置警示牌"),  # 120: yellow
    (RiskType.GROUP_CONFLICT, "物业费纠纷", "多户业主对物业费上调有异议", "matrix", 3, 3, None,
     "社区调解委员会", "召开业主协商会"),  # 9: yellow
]


def _png(seed):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), ((seed * 53) % 256, (seed * 97) % 256, 120)).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=f"seed-{seed}.png")


def seed(*, scale, rng, stdout, now):
    from grid.models import Area, AreaKind, Building, Post, Role

    from . import patrols, services

    workers = dict(Post.objects.filter(role=Role.GRID_WORKER, ended_at__isnull=True, area__kind=AreaKind.GRID,
                                       area__is_active=True).order_by("id").values_list("area_id", "user_id"))
    if not workers:
        stdout.write("  risks: no grid workers, nothing to seed")
        return
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(set(workers.values()))
    demo = scale.name == "demo"
    grid_ids = list(workers)
    first = grid_ids[0]  # the demo worker's grid (the first post) gets the full story
    total = RISKS_BY_SCALE.get(scale.name, 40)
    buildings = {}
    for pk, grid_id in Building.objects.filter(grid_id__in=grid_ids).values_list("id", "grid_id"):
        buildings.setdefault(grid_id, []).append(pk)
    building_objects = Building.objects.in_bulk([b for bs in buildings.values() for b in bs[:3]])

    made = 0
    for index in range(total):
        grid_id = first if index < len(SAMPLES) else rng.choice(grid_ids)
        user = users[workers[grid_id]]
        kind, title, description, method, lik, sev, exp, responsible, measures = SAMPLES[index % len(SAMPLES)]
        at = now - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 8))
        building = building_objects.get((buildings.get(grid_id) or [None])[0])
        risk = services.risk_register(
            kind=kind, title=title, description=description, method=method, likelihood=lik, severity=sev,
            exposure=exp, responsible=responsible, measures=measures, building=building,
            place=None if building else Area.objects.get(pk=grid_id),
            photos=[_png(index)] if demo else [], acting_user=user, now=at)
        made += 1
        roll = rng.random()
        if roll < 0.25:  # looked at again since: a reassessment (sometimes a better grade)
            services.risk_reassess(risk=risk, method="matrix", likelihood=max(1, min(5, lik - 1)) if method == "matrix"
                                   else 2, severity=sev if method == "matrix" else 3, note="整改后复查",
                                   acting_user=user, now=at + timedelta(days=rng.randint(1, 10)))
        elif roll < 0.4 and index >= len(SAMPLES):  # removed: closed with evidence
            services.risk_close(risk=risk, evidence="隐患已消除，现场复核确认", photos=[_png(index + 1000)],
                                acting_user=user, now=at + timedelta(days=rng.randint(1, 10)))
    flagged = services.risks_flag_overdue(now=now)

    patrol_count = 0
    patrol_grids = [first] + (rng.sample(grid_ids[1:], min(5, len(grid_ids) - 1)) if demo else [])
    for grid_id in patrol_grids:
        user = users[workers[grid_id]]
        for day in range(PATROL_DAYS, 0, -1):
            if rng.random() < 0.3:
                continue
            start = (now - timedelta(days=day)).replace(hour=9, minute=rng.randint(0, 50), second=0, microsecond=0)
            patrol = patrols.patrol_start(grid=grid_id, acting_user=user, now=start)
            if demo and rng.random() < 0.4:
                # At a building of the grid, as a worker records it: the dashboard's patrol coverage counts it.
                where = rng.choice(buildings[grid_id]) if buildings.get(grid_id) else None
                patrols.finding_fixed(patrol=patrol, description="清理楼道堆放的纸箱", before=_png(day),
                                      after=_png(day + 500), building=where, acting_user=user,
                                      now=start + timedelta(minutes=40))
            patrols.patrol_end(patrol=patrol, acting_user=user, now=start + timedelta(hours=2))
            patrol_count += 1
    # Open warnings for the panel (the demo's "Done when"): the rules over the seeded register. Marked as
    # told, so the first beat after seeding does not send the demo's staff a message per seeded warning.
    from .early_warning import warnings_raise
    from .models import EarlyWarning

    raised = warnings_raise(now=now)
    EarlyWarning.objects.filter(notified_at__isnull=True).update(notified_at=now)
    stdout.write(f"  risks: {made} risks ({flagged} reviews overdue), {patrol_count} patrols, {raised} warnings")

"""Helpers for the risks tests: a registered risk, a worker on patrol."""

from datetime import datetime
from zoneinfo import ZoneInfo

from grid.models import Role
from risks import services
from risks.models import RiskType

from .cases_factories import png

TZ = ZoneInfo("Asia/Shanghai")
# A Monday 09:00 (2026-11-23).
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def risk_fields(**overrides):
    fields = {
        "kind": RiskType.FIRE_LANE, "title": "1号楼消防通道堆放杂物", "description": "一楼楼道堆放纸箱和旧家具",
        "method": "matrix", "likelihood": 4, "severity": 4, "responsible": "幸福物业公司",
        "responsible_phone": "0816-2345678", "measures": "通知物业清理，每周复查",
    }
    fields.update(overrides)
    return fields


def register(city, user, *, building=None, now=NOW, **overrides):
    return services.risk_register(building=building or city.building_a, acting_user=user, now=now,
                                  **risk_fields(**overrides))


def people(city, make_user):
    return {
        "worker": make_user(Role.GRID_WORKER, city.grid_a, full_name="网格员甲"),
        "staff": make_user(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部乙"),
        "street": make_user(Role.STREET_STAFF, city.street_a, full_name="街道干部丙"),
        "outsider": make_user(Role.COMMUNITY_STAFF, city.community_b, full_name="别处干部丁"),
        "chief": make_user(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长戊"),
    }


__all__ = ["NOW", "TZ", "png", "people", "register", "risk_fields"]

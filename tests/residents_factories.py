"""Households and residents for the residents tests, through the services."""

import datetime
import itertools

from django.utils import timezone
from stdnum.cn import ric

from grid.models import Role
from residents import services
from residents.models import Relation

from .factories import user_with_post

_serial = itertools.count(1)


def valid_id_number(*, area="110105", birth=datetime.date(1980, 5, 17), serial=None):
    """A synthetic ID number that passes GB 11643 (a fresh one per call)."""
    serial = next(_serial) % 1000 if serial is None else serial
    body = f"{area}{birth:%Y%m%d}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function ignores the last character


def worker_of(grid):
    return user_with_post(Role.GRID_WORKER, grid)


def household_in(unit, number="301", *, acting_user=None):
    grid = unit.building.grid
    return services.household_add(unit=unit, number=number, acting_user=acting_user or worker_of(grid))


def resident_in(household, name="张三", *, acting_user=None, id_number=None, phone="13800138000",
                relation=Relation.OTHER, **fields):
    return services.resident_add(
        household=household, name=name, id_number=valid_id_number() if id_number is None else id_number,
        phone=phone, relation=relation, acting_user=acting_user or worker_of(household.grid),
        now=fields.pop("now", timezone.now()), **fields,
    )


def tag(code):
    """A built-in tag; a transactional test elsewhere may have flushed the migrated ones."""
    from importlib import import_module

    from residents.models import Tag

    found = Tag.objects.filter(code=code).first()
    if found is None:
        shipped = import_module("residents.migrations.0002_immutable_history_and_tags").BUILTIN_TAGS
        _code, name, interval, sensitive = next(t for t in shipped if t[0] == code)
        found = Tag.objects.create(code=code, name=name, visit_interval_days=interval, sensitive=sensitive,
                                   builtin=True)
    return found


def builtin_tags():
    """Every built-in tag, recreated if a transactional test elsewhere flushed them."""
    from importlib import import_module

    shipped = import_module("residents.migrations.0002_immutable_history_and_tags").BUILTIN_TAGS
    return [tag(code) for code, *_rest in shipped]

"""Moving a subtree inside one district's nested-set tree with one UPDATE.

django-mptt's `move_to` rewrites every row of the tree (`WHERE tree_id = …`) to shift
the nodes between the old and the new position. Only the rows between the two
positions change, so this move touches only them: a community moving to the next
street rewrites a few dozen rows instead of the district's thousands (issue #24).

The caller holds the tree's lock (`grid.services.lock_trees`) and passes nodes
re-read under it. A move that would change the node's depth or its tree is not
handled here (the caller falls back to django-mptt); the place kinds never ask for
one today, since a place moves only under a place of the kind right above its own.
"""

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat, Substr

from .models import Area


def can_move_in_place(area, new_parent):
    """Whether `move_last_child` can do this move: same tree, same depth after the move."""
    return area.tree_id == new_parent.tree_id and new_parent.level == area.level - 1


def move_last_child(area, new_parent, *, new_code):
    """Make `area` (with its subtree) the last child of `new_parent` and give it `new_code`,
    carrying the new prefix down to its descendants, in one statement.

    The subtree [lft, rght] (width w) moves to end right before the new parent's right
    bound; the nodes between the old and the new position shift by w the other way.
    """
    if not can_move_in_place(area, new_parent):
        raise ValueError("move_last_child moves a node within its tree at its own depth")
    left, right, target = area.lft, area.rght, new_parent.rght
    width = right - left + 1
    if target > right:  # moving right: the nodes in between move left
        low, high, shift, offset = right + 1, target - 1, -width, target - right - 1
        span = (left, target - 1)
    else:  # moving left (the new parent is never inside the subtree): the nodes in between move right
        low, high, shift, offset = target, left - 1, width, target - left
        span = (target, right)
    in_subtree_lft, in_subtree_rght = Q(lft__gte=left, lft__lte=right), Q(rght__gte=left, rght__lte=right)
    between_lft, between_rght = Q(lft__gte=low, lft__lte=high), Q(rght__gte=low, rght__lte=high)
    rows = Area.objects.filter(Q(lft__gte=span[0], lft__lte=span[1]) | Q(rght__gte=span[0], rght__lte=span[1]),
                               tree_id=area.tree_id)
    updates = {
        "lft": F("lft") + Case(When(in_subtree_lft, then=Value(offset)), When(between_lft, then=Value(shift)),
                               default=Value(0)),
        "rght": F("rght") + Case(When(in_subtree_rght, then=Value(offset)), When(between_rght, then=Value(shift)),
                                 default=Value(0)),
        "parent_id": Case(When(pk=area.pk, then=Value(new_parent.pk)), default=F("parent_id"),
                          output_field=Area._meta.get_field("parent").target_field),
        "code": Case(When(in_subtree_lft, then=Concat(Value(new_code), Substr("code", len(area.code) + 1))),
                     default=F("code")),
    }
    return rows.update(**updates)

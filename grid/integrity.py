"""Checks of the nested-set invariants, for the verify_tree command, the nightly
task and the tests (which run it after every service)."""

from bisect import bisect_left, bisect_right
from collections import defaultdict

from .models import KIND_CODE_LENGTH, KIND_LEVEL, Area


def tree_problems(tree_ids=None):
    """Return a list of human-readable problems; empty when every tree is sound."""
    rows = Area.objects.order_by("tree_id", "lft")
    if tree_ids is not None:
        rows = rows.filter(tree_id__in=list(tree_ids))
    by_tree = defaultdict(list)
    for row in rows.values("id", "tree_id", "lft", "rght", "level", "parent_id", "kind", "code"):
        by_tree[row["tree_id"]].append(row)
    problems = []
    for tree_id, nodes in by_tree.items():
        problems.extend(_tree_problems(tree_id, nodes))
    return problems


def _tree_problems(tree_id, nodes):
    problems = []
    by_id = {n["id"]: n for n in nodes}
    roots = [n for n in nodes if n["parent_id"] is None]
    if len(roots) != 1:
        problems.append(f"tree {tree_id}: {len(roots)} roots")
    lefts = sorted(n["lft"] for n in nodes)
    bounds = sorted([n["lft"] for n in nodes] + [n["rght"] for n in nodes])
    if bounds != list(range(1, 2 * len(nodes) + 1)):
        problems.append(f"tree {tree_id}: lft/rght values are not exactly 1..{2 * len(nodes)}")
    for n in nodes:
        label = f"tree {tree_id} node {n['id']} ({n['code']})"
        if n["lft"] >= n["rght"]:
            problems.append(f"{label}: lft {n['lft']} >= rght {n['rght']}")
        if KIND_LEVEL.get(n["kind"]) != n["level"]:
            problems.append(f"{label}: kind {n['kind']} at level {n['level']}")
        if len(n["code"]) != KIND_CODE_LENGTH.get(n["kind"], -1):
            problems.append(f"{label}: code length {len(n['code'])} for kind {n['kind']}")
        if not (n["code"].isascii() and n["code"].isdigit()):
            problems.append(f"{label}: code is not all digits")
        parent = by_id.get(n["parent_id"])
        if n["parent_id"] is not None and parent is None:
            problems.append(f"{label}: parent {n['parent_id']} is in another tree")
            continue
        if parent:
            if not (parent["lft"] < n["lft"] and n["rght"] < parent["rght"]):
                problems.append(f"{label}: not inside its parent's bounds")
            if n["level"] != parent["level"] + 1:
                problems.append(f"{label}: level {n['level']} under parent level {parent['level']}")
            if not n["code"].startswith(parent["code"]):
                problems.append(f"{label}: code does not extend parent code {parent['code']}")
        # The number of descendants must match the span of the bounds.
        inside = bisect_left(lefts, n["rght"]) - bisect_right(lefts, n["lft"])
        if n["rght"] - n["lft"] - 1 != 2 * inside:
            problems.append(f"{label}: bounds span {n['rght'] - n['lft'] - 1} for {inside} descendants")
    problems.extend(_nesting_problems(tree_id, nodes))
    return problems


def _nesting_problems(tree_id, nodes):
    """The bounds must nest, and the innermost node around each one must be its parent.

    Without this, a node can sit inside a sibling's bounds while its parent_id
    still names the right parent: every count adds up, yet the sibling's
    subtree (and so everyone's scope) silently includes it.
    """
    problems = []
    around = []  # the nodes whose bounds are still open, outermost first
    for n in sorted(nodes, key=lambda n: n["lft"]):
        while around and around[-1]["rght"] < n["lft"]:
            around.pop()
        inner = around[-1] if around else None
        label = f"tree {tree_id} node {n['id']} ({n['code']})"
        if inner is not None and inner["rght"] < n["rght"]:
            problems.append(f"{label}: bounds overlap node {inner['id']} without nesting in it")
        elif (inner["id"] if inner else None) != n["parent_id"]:
            problems.append(
                f"{label}: bounds place it under node {inner['id'] if inner else None}, "
                f"but its parent is {n['parent_id']}"
            )
        around.append(n)
    return problems

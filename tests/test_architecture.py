"""Apps form layers, and every import obeys them (README "Architecture").

    portal  →  grid  →  cases | residents | volunteers | risks  →  dashboards | hub

A module may import its own app and the layers below it. It never imports a
higher layer, not even inside a function, and the domain apps (one layer) never
import each other: a reaction of one to another travels by a signal or a hook
that the top layer connects (hub/apps.py). Import cycles are refused as well,
between apps and inside one app.

Every `import x` and `from x import y` of every module of the app packages is
read with ast, at module level and inside functions and classes alike, with
relative imports resolved. Imports of anything outside the project (Django,
Celery...) do not count. Neither do names looked up at run time (a Celery task
sent by name, `apps.get_model`): they are how the rules are kept, and
README "Architecture" lists where.
"""

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "grid", "cases", "residents", "volunteers", "risks", "dashboards", "hub")
LAYERS = ("portal", "grid", "domain", "top", "root URLconf")

# Where a module sits: (layer, app). The longest matching prefix of its dotted name wins;
# nested apps (cases.open311, residents.participation) belong to the app they sit in.
PLACES = {
    "portal": (0, "portal"),
    "grid": (1, "grid"),
    "cases": (2, "cases"),
    "residents": (2, "residents"),
    "volunteers": (2, "volunteers"),
    "risks": (2, "risks"),
    "dashboards": (3, "dashboards"),
    "hub": (3, "hub"),
    # The root URLconf mounts every app's pages: it stands above them all, whatever its package.
    "portal.urls": (4, "portal.urls"),
}

@dataclass(frozen=True)
class Import:
    path: str  # the importing file, relative to the repository
    line: int
    importer: str  # dotted name of the importing module
    target: str  # dotted name of the project module imported
    name: str  # the name taken from it; "" for the module itself

    def __str__(self):
        return f"{self.target}.{self.name}" if self.name else self.target


def project_modules(root=ROOT):
    """{dotted module name: file} for every module of the app packages (a package is its __init__)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _project_module(dotted, modules):
    """The longest prefix of `dotted` that is a project module, or None."""
    parts = (dotted or "").split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_in(source, *, module, is_package, path, modules):
    """Every import of a project module in `source`, wherever it stands (ast.walk: functions too)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _project_module(alias.name, modules)
                if target:
                    yield Import(path, node.lineno, module, target, "")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source_module = ".".join(base + ([node.module] if node.module else []))
            else:
                source_module = node.module
            for alias in node.names:
                submodule = f"{source_module}.{alias.name}"
                if submodule in modules:  # from package import module
                    yield Import(path, node.lineno, module, submodule, "")
                    continue
                target = _project_module(source_module, modules)
                if target:
                    yield Import(path, node.lineno, module, target, alias.name)


def all_imports(root=ROOT):
    modules = project_modules(root)
    found = []
    for module, path in modules.items():
        found += imports_in(path.read_text(encoding="utf-8"), module=module, is_package=path.name == "__init__.py",
                            path=str(path.relative_to(root)), modules=modules)
    return found


def place(module):
    prefix = max((p for p in PLACES if module == p or module.startswith(p + ".")), key=len)
    return PLACES[prefix]


def layer_violations(imports):
    problems = []
    for imp in imports:
        (layer, app), (target_layer, target_app) = place(imp.importer), place(imp.target)
        if app == target_app or layer > target_layer:
            continue
        why = ("a higher layer" if layer < target_layer
               else f"another app of the {LAYERS[layer]} layer (they never import each other)")
        problems.append(f"{imp.path}:{imp.line}: {imp.importer} [{LAYERS[layer]}: {app}] imports {imp} "
                        f"[{LAYERS[target_layer]}: {target_app}]: {why}")
    return problems


def import_graph(imports, key=lambda module: module):
    """{node: {imported node: first Import making that edge}} with nodes = key(module), self-edges left out."""
    graph = {}
    for imp in imports:
        source, target = key(imp.importer), key(imp.target)
        if source != target:
            graph.setdefault(source, {}).setdefault(target, imp)
    return graph


def strongly_connected(graph):
    """Tarjan's strongly connected components with more than one node, each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def a_cycle(graph, component):
    """One shortest cycle through the component's first node, as the imports that make it."""
    members, start = set(component), component[0]
    previous = {start: None}  # node: (node before it, the import between them)
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target, imp in sorted(graph.get(node, {}).items()):
            if target not in members:
                continue
            if target == start:
                path = [imp]
                while previous[node] is not None:
                    node, step = previous[node]
                    path.append(step)
                return path[::-1]
            if target not in previous:
                previous[target] = (node, imp)
                queue.append(target)
    return []


def describe_cycles(components, graph):
    """Each component: one shortest cycle through it, then every other import that ties it together."""
    described = []
    for component in components:
        cycle = a_cycle(graph, component)
        rest = [imp for source in component for target, imp in sorted(graph.get(source, {}).items())
                if target in component and imp not in cycle]
        lines = [f"    {imp.path}:{imp.line}: {imp.importer} imports {imp}" for imp in cycle]
        lines += [f"      also {imp.path}:{imp.line}: {imp.importer} imports {imp}" for imp in rest]
        described.append("cycle of " + ", ".join(component) + ":\n" + "\n".join(lines))
    return described


def cycles(imports, *, across_apps):
    graph = import_graph(imports)
    components = [c for c in strongly_connected(graph)
                  if (len({place(m)[1] for m in c}) > 1) == across_apps]
    return describe_cycles(components, graph)


def app_cycles(imports):
    """Apps importing each other round a circle, even through different modules (cases → residents → cases)."""
    graph = import_graph(imports, key=lambda module: place(module)[1])
    return describe_cycles(strongly_connected(graph), graph)


def _report(title, problems):
    return f"{len(problems)} {title}:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def imports():
    return all_imports()


def test_imports_follow_the_layers(imports):
    problems = layer_violations(imports)
    assert not problems, _report("import(s) against the layer order portal → grid → domain → top → root URLconf", problems)


def test_no_import_cycle_between_apps(imports):
    problems = cycles(imports, across_apps=True) + app_cycles(imports)
    assert not problems, _report("import cycle(s) between apps (modules, then apps)", problems)


def test_no_import_cycle_inside_an_app(imports):
    problems = cycles(imports, across_apps=False)
    assert not problems, _report("import cycle(s) inside an app", problems)


def tasks_sent_by_name(root=ROOT):
    """{task name: "file:line"} of every `send_by_name("<task>", ...)` in the app packages."""
    found = {}
    for module, path in project_modules(root).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "send_by_name"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found[node.args[0].value] = f"{path.relative_to(root)}:{node.lineno}"
    return found


def test_every_task_named_by_a_string_exists(settings):
    """The beat schedule and the services' on-commit sends name tasks by string (to keep the
    imports one way): a task that moved or was renamed must not leave a name nothing answers."""
    from portal.celery import app

    app.autodiscover_tasks(force=True)  # what a worker does at start: import every app's tasks module
    named = {entry["task"]: f"CELERY_BEAT_SCHEDULE[{key!r}]" for key, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    named.update(tasks_sent_by_name())
    assert len(named) > 10
    assert not [f"{where}: {name}" for name, where in sorted(named.items()) if name not in app.tasks]


# --- the reader itself --------------------------------------------------------------------------

SAMPLE = '''
import os
import cases.models
from grid import selectors
from grid.models import Area, Building as B
from . import services
from .models import Case


def late():
    from ..volunteers.tasks import award
    from residents import views as resident_views

    class Inner:
        import portal.errors
'''


def test_the_reader_sees_every_kind_of_import():
    modules = dict.fromkeys(["cases", "cases.models", "cases.services", "cases.views", "grid", "grid.selectors",
                             "grid.models", "volunteers", "volunteers.tasks", "residents", "residents.views",
                             "portal", "portal.errors"])
    found = {(i.line, i.target, i.name) for i in imports_in(SAMPLE, module="cases.views", is_package=False,
                                                             path="cases/views.py", modules=modules)}
    assert found == {
        (3, "cases.models", ""), (4, "grid.selectors", ""), (5, "grid.models", "Area"), (5, "grid.models", "Building"),
        (6, "cases.services", ""), (7, "cases.models", "Case"), (11, "volunteers.tasks", "award"),
        (12, "residents.views", ""), (15, "portal.errors", ""),
    }


def test_a_cycle_is_reported_with_its_imports():
    imports = [Import("a.py", 1, "cases.a", "cases.b", ""), Import("b.py", 2, "cases.b", "cases.c", "x"),
               Import("c.py", 3, "cases.c", "cases.a", ""), Import("d.py", 4, "grid.d", "cases.a", "")]
    assert cycles(imports, across_apps=True) == app_cycles(imports) == []
    assert cycles(imports, across_apps=False) == [
        "cycle of cases.a, cases.b, cases.c:\n    a.py:1: cases.a imports cases.b\n"
        "    b.py:2: cases.b imports cases.c.x\n    c.py:3: cases.c imports cases.a"]

"""Accessibility check for the browser tests: axe-core run in the page, failing on serious and
critical violations (issue #21, "Accessibility and checks").

    from .axe import check_accessibility
    page.goto(...)
    check_accessibility(page, "queue-phone")

axe-core is vendored for tests only (tests/browser/vendor/axe-core/, MPL-2.0). The portal's
CSP allows no inline script, so the library is not added as a <script> tag: it is evaluated
through the DevTools protocol (Playwright's evaluate), which the page's CSP does not govern,
and the page's own CSP violations are still recorded by the tests' `open_page`.
"""

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")

_source = None


def _axe_source():
    global _source
    if _source is None:
        _source = AXE_SOURCE.read_text(encoding="utf-8")
    return _source


def inject(page):
    """Load axe into the page (once per document)."""
    if page.evaluate("typeof window.axe") == "undefined":
        # A program evaluated as a script: axe.min.js assigns window.axe.
        page.evaluate(f"{_axe_source()}\n;void 0")
    version = page.evaluate("window.axe && window.axe.version")
    assert version == AXE_VERSION, f"axe-core {AXE_VERSION} expected in the page, got {version!r}"


def run(page, *, disable=()):
    """axe's violations on the current page: [{id, impact, help, helpUrl, nodes: [{target, html, ...}]}]."""
    inject(page)
    options = {"resultTypes": ["violations"], "rules": {rule: {"enabled": False} for rule in disable}}
    return page.evaluate("async (options) => (await window.axe.run(document, options)).violations", options)


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} node(s)) {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      ")[:400])
    return "\n".join(lines)


def check_accessibility(page, name="", *, impacts=FAILING_IMPACTS, disable=()):
    """Fail on violations of the given impacts (serious and critical); print the lesser ones.

    Returns all violations found, so a test may look further.
    """
    violations = run(page, disable=disable)
    failing = [v for v in violations if v["impact"] in impacts]
    minor = [v for v in violations if v["impact"] not in impacts]
    if minor:
        print(f"axe ({name or page.url}), not failing:\n{describe(minor)}")
    assert not failing, f"axe found serious/critical violations on {name or page.url}:\n{describe(failing)}"
    return violations

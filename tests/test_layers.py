"""The structure of hub/, read from its import statements (module level and
inside functions alike): no import circles, and layers that only look down.

    the shared core  <  org  <  files  <  auth  <  channels  <  notices  <  documents  <  datarequests
      <  inbox  <  the app

- The shared core (CORE below, and the hub/realtime package) imports no domain.
- A domain imports the core and the domains below it, never one above: a
  domain above reaches down through a registry instead (room providers, file
  holders, signals). Files sit just above org: messages, notices and documents
  carry them and register their file holders (hub/files/access.py).
- The app (create_app, the console, the jobs, the demo, the admin pages) wires
  everything together and may import anything.

A new module of hub/ that is in no table here fails the first test.
"""
from __future__ import annotations

import ast
from pathlib import Path

HUB = Path(__file__).resolve().parent.parent / "hub"
CORE = {"hub.api", "hub.audit", "hub.audit_chain", "hub.audit_export", "hub.db", "hub.errors",
        "hub.extensions", "hub.headers", "hub.i18n", "hub.leases", "hub.openapi",
        "hub.passwords", "hub.pwa", "hub.redirects", "hub.times", "hub.validation", "hub.realtime"}
DOMAINS = ["org", "files", "auth", "channels", "notices", "documents", "datarequests", "inbox"]
# Top-level modules that belong to a domain's layer: who may do what in the org
# tree; the form helpers of the notice and document pages (uploads, choices).
IN_A_DOMAIN = {"hub.permissions": "org", "hub.forms": "files"}
APP = {"hub", "hub.cli", "hub.startup", "hub.jobs", "hub.demo", "hub.demo_datarequests", "hub.demo_week",
       "hub.backup", "hub.models", "hub.migrate", "hub.admin"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in HUB.rglob("*.py"):
        name = ".".join(path.relative_to(HUB.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def _place(name: str) -> str:
    """'core', a domain's name, or 'app'."""
    top = ".".join(name.split(".")[:2])
    if top in CORE:
        return "core"
    if top in IN_A_DOMAIN:
        return IN_A_DOMAIN[top]
    if name in APP or top in APP:
        return "app"
    return name.split(".")[1] if name.split(".")[1] in DOMAINS else "unplaced"


def _rank(place: str) -> int:
    return -1 if place == "core" else len(DOMAINS) if place == "app" else DOMAINS.index(place)


def test_every_module_has_a_place():
    assert [name for name in sorted(_modules()) if _place(name) == "unplaced"] == []


def test_no_import_circles():
    graph = _imports(_modules())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:                 # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_layers_only_look_down():
    graph = _imports(_modules())
    upward = [f"{name} ({_place(name)}) imports {target} ({_place(target)})"
              for name, targets in sorted(graph.items()) for target in sorted(targets)
              if _rank(_place(target)) > _rank(_place(name))]
    assert upward == []


def test_the_check_sees_what_it_looks_for():
    assert _rank(_place("hub.files.access")) < _rank(_place("hub.channels.access"))
    assert _rank(_place("hub.channels.messages")) < _rank(_place("hub.notices.queries"))
    assert _place("hub.realtime.rooms") == "core" and _place("hub.admin.views") == "app"
    assert _place("hub.permissions") == "org"

"""One commit per action, as a rule over the whole code (issue 14, item 1).

A public domain action commits exactly once; what actions share lives in
private helpers that do not commit. Read from the code itself, for every
function in hub/ outside the web and console layers:

- a function that commits must not call another function that commits (the
  correction that called publish_notice, a 签收 that called mark_read: two
  transactions where one was meant);
- a private function (`_name`) must not commit, except the few listed below
  with the reason.

Calls are matched by name, which is what makes the rule cheap: a committing
function calling anything of the same name as a committing function fails, and
a new name clash is fixed by renaming, not by listing it here. The dynamic side
of the rule, counting real commits, is tests/commits.py.
"""
from __future__ import annotations

import ast
from pathlib import Path

HUB = Path(__file__).resolve().parent.parent / "hub"
# The web, API and console layers call actions; they do not commit themselves
# (a view that does is caught by review, not here). The jobs run several actions
# one after the other, each committing once.
OUTSIDE = ("views", "api", "cli", "jobs.py", "startup.py", "demo.py", "backup.py", "__init__.py",
           "imports_api.py", "reports_api.py", "schedule_api.py", "views_")
# Private functions that commit on purpose, with why.
COMMITTING_HELPERS = {
    # A refused second-factor code is recorded (failure count, audit row) before
    # the refusal is raised: the error handler rolls back whatever is pending.
    ("hub/auth/second_factor.py", "_refuse"),
}


def _commits(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "commit"
               and not (isinstance(n.func.value, ast.Name) and n.func.value.id == "connection")
               for n in ast.walk(node))


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            func = n.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names - {"commit"}


def _functions() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(HUB.rglob("*.py")):
        rel = str(path.relative_to(HUB.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                found.append((rel, node))
    return found


def _in_scope(rel: str) -> bool:
    name = Path(rel).name
    return not any(name == part or name.startswith(part) for part in OUTSIDE)


def test_no_committing_function_calls_another():
    functions = _functions()
    committing = {node.name for _rel, node in functions if _commits(node)}
    committing -= {name for _rel, name in COMMITTING_HELPERS}    # they commit a refusal, then it is raised
    nested = []
    for rel, node in functions:
        if _in_scope(rel) and _commits(node):
            inner = sorted((_called_names(node) & committing) - {node.name})
            if inner:
                nested.append(f"{rel}: {node.name} calls {', '.join(inner)}")
    assert nested == []


def test_private_helpers_do_not_commit():
    offending = [f"{rel}: {node.name}" for rel, node in _functions()
                 if _in_scope(rel) and node.name.startswith("_") and not node.name.startswith("__")
                 and _commits(node) and (rel, node.name) not in COMMITTING_HELPERS]
    assert offending == []


def test_the_rule_catches_what_it_looks_for(tmp_path):
    tree = ast.parse("def publish():\n    db.session.commit()\n"
                     "def correct():\n    publish()\n    db.session.commit()\n")
    committing = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and _commits(n)}
    correct = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "correct")
    assert committing == {"publish", "correct"} and _called_names(correct) & committing == {"publish"}

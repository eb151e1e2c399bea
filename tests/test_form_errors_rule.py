"""One pattern for refused forms, as a rule over the web layer (issue 14, "HTML views").

A module that declares routes (HTML views and the JSON API alike) never
catches HubError and never rolls back. A form whose refusal is shown on its own
page says so with `hub.errors.form_errors(render, ...)`: it rolls back and
answers render(..., error=error), the page again with what was typed and the
field named. Every other refusal goes to the app's handler (hub/errors.py):
JSON under /api/, else a flash on the page the form came from, else the error
page. Catching one named subclass for a reason of its own (NotFound turned into
"no such document", a refused export that is audited) stays allowed.

Read from the code, so a new route module is covered the day it is added.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from werkzeug.exceptions import HTTPException

from hub.errors import InvalidInput, NotFound, flash_back, form_errors

HUB = Path(__file__).resolve().parent.parent / "hub"
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def declares_routes(tree: ast.Module) -> bool:
    """Some function is decorated with `<blueprint>.get(...)`, `.post(...)`, `.route(...)` ..."""
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
               and d.func.attr in ROUTE_DECORATORS and isinstance(d.func.value, ast.Name)
               for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               for d in node.decorator_list)


def _names(node: ast.expr | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node, ast.Tuple):
        return [name for element in node.elts for name in _names(element)]
    return [node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")]


def breaches(source: str) -> list[str]:
    """`line: what` for each `except HubError` and each `.rollback()` call of a route module."""
    tree = ast.parse(source)
    if not declares_routes(tree):
        return []
    found = [f"{node.lineno}: except HubError" for node in ast.walk(tree)
             if isinstance(node, ast.ExceptHandler)
             and (node.type is None or "HubError" in _names(node.type))]
    found += [f"{node.lineno}: rollback()" for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "rollback"]
    return found


def route_modules() -> dict[str, str]:
    modules = {}
    for path in sorted(HUB.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if declares_routes(ast.parse(source)):
            modules[str(path.relative_to(HUB.parent))] = source
    return modules


def test_no_route_module_catches_hub_error_or_rolls_back():
    found = {name: breaches(source) for name, source in route_modules().items()}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_rule_sees_what_it_looks_for():
    modules = route_modules()
    assert {"hub/channels/views.py", "hub/notices/reports_views.py", "hub/admin/views_people.py",
            "hub/auth/views.py", "hub/channels/api.py"} <= set(modules)
    assert "hub/errors.py" not in modules and "hub/cli.py" not in modules
    view = ("@bp.post('/x')\ndef x():\n    try:\n        act()\n"
            "    except {}:\n        db.session.rollback()\n")
    assert breaches(view.format("HubError as problem")) == ["5: except HubError", "6: rollback()"]
    assert breaches(view.format("(ValueError, errors.HubError)"))[0] == "5: except HubError"
    assert breaches(view.format("NotFound")) == ["6: rollback()"]
    assert breaches("def helper():\n    try:\n        act()\n    except HubError:\n        pass\n") == []


# ---- The helper itself -------------------------------------------------------------------------

def _page(note: str, *, error):
    return f"{note}|{error.field}", error.status


def answer(error, render, *args):
    """The response form_errors(render, *args) gives when `error` is raised in its block."""
    with pytest.raises(HTTPException) as answered:
        with form_errors(render, *args):
            raise error
    return answered.value.get_response()


def test_form_errors_answers_the_render_with_the_refusal(app):
    with app.test_request_context("/x", method="POST"):
        response = answer(InvalidInput("太长", field="body"), _page, "what was typed")
        assert response.status_code == 400 and response.get_data(as_text=True) == "what was typed|body"
        with pytest.raises(ZeroDivisionError):          # not a refusal: the app's 500 handler
            with form_errors(_page, "x"):
                1 / 0


def test_flash_back_flashes_input_refusals_and_leaves_access_refusals_to_the_app(app):
    with app.test_request_context("/x", method="POST"):
        response = answer(InvalidInput("请选择", field="user_id"), flash_back, "/channels/#direct")
        assert response.status_code == 302 and response.headers["Location"] == "/channels/#direct"
        with pytest.raises(NotFound):
            answer(NotFound("频道不存在或您无权访问"), flash_back, "/channels/")

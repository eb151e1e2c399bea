"""Text made in Python (errors, flashes, labels) follows the reader's language:
Chinese by default, English for Accept-Language: en or a person's own setting.

The English comes from translations/en/LC_MESSAGES/messages.po; the Chinese
source strings are what every other test asserts, so they must stay unchanged.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import unit_id

HUB = Path(__file__).resolve().parent.parent / "hub"
GETTEXT_NAMES = {"_", "gettext", "lazy_gettext", "N_"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def _error(response) -> dict:
    return response.get_json()["error"]


def test_api_errors_follow_the_browser_language(app, api):
    admin = api("kc_admin")
    path = f"/api/v1/units/{unit_id(app, '330802')}"
    chinese = _error(admin.patch(path, json={"name": ""}))
    english = _error(admin.patch(path, json={"name": ""}, headers=ENGLISH))
    assert chinese == {"code": "invalid_input", "message": "单位名称不能为空", "field": "name"}
    assert english == {"code": "invalid_input", "message": "Unit name is required", "field": "name"}


def test_placeholders_are_filled_in_either_language(api):
    clerk = api("kc_clerk")
    chinese = _error(clerk.get("/api/v1/inbox?kind=bogus"))["message"]
    english = _error(clerk.get("/api/v1/inbox?kind=bogus", headers=ENGLISH))["message"]
    assert chinese.startswith("kind 应为 ") and chinese.endswith(" 之一")
    assert english.startswith("kind should be one of ") and "%(" not in english
    assert chinese.removeprefix("kind 应为 ").removesuffix(" 之一") in english


def test_a_persons_own_setting_wins_over_the_browser(api):
    clerk = api("kc_clerk")
    assert clerk.put("/api/v1/me/language", json={"language": "en"}).status_code in (200, 204)
    chinese_browser = {"Accept-Language": "zh-CN", "Content-Type": "text/plain"}
    message = _error(clerk.post("/api/v1/channels", data="not json", headers=chinese_browser))["message"]
    assert message == "The request body must be a JSON object (Content-Type: application/json)"


def test_error_codes_stay_the_same_in_english(api):
    anonymous = api(None)
    answer = _error(anonymous.get("/api/v1/inbox", headers=ENGLISH))
    assert answer["code"] == "not_authenticated"
    assert answer["message"] == "Please sign in or provide a valid token"


def test_page_flashes_follow_the_browser_language(client, login):
    login("kc_clerk")
    client.post("/auth/logout", headers=ENGLISH)
    assert "You have signed out" in client.get("/auth/login", headers=ENGLISH).get_data(as_text=True)
    login("kc_clerk")
    client.post("/auth/logout")
    page = client.get("/auth/login").get_data(as_text=True)
    assert "已退出登录" in page and "You have signed out" not in page


def test_the_login_required_flash_is_translated(client):
    response = client.get("/inbox/", headers=ENGLISH)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=ENGLISH).get_data(as_text=True)
    assert "Please sign in first" in page


def test_labels_kept_in_tables_are_shown_translated(app, login, client):
    login("kc_admin")
    page = client.get(f"/admin/units/{unit_id(app, '330802')}", headers=ENGLISH).get_data(as_text=True)
    assert "County (city, district)" in page
    assert "县（市、区）" in client.get(f"/admin/units/{unit_id(app, '330802')}").get_data(as_text=True)


def _gettext_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES:
            yield node


def _built_at_runtime(argument: ast.expr) -> bool:
    """An f-string, str.format(...), "..." % ... or "a" + b: text a catalogue can never match."""
    if isinstance(argument, ast.JoinedStr | ast.BinOp):
        return True
    return (isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute)
            and argument.func.attr == "format")


def test_no_gettext_call_builds_its_text_at_runtime():
    offending = []
    for path in sorted(HUB.rglob("*.py")):
        for call in _gettext_calls(ast.parse(path.read_text(encoding="utf-8"))):
            if call.args and _built_at_runtime(call.args[0]):
                offending.append(f"{path.relative_to(HUB.parent)}:{call.lineno}")
    assert offending == []


def test_the_static_check_catches_what_it_looks_for():
    tree = ast.parse('_(f"共 {n} 人")\n_("共 {} 人".format(n))\n_("共 %(n)s 人", n=n)\n')
    assert [_built_at_runtime(call.args[0]) for call in _gettext_calls(tree)] == [True, True, False]

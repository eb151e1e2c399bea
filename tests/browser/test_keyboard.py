"""The keyboard alone is enough: sign in, open the inbox, open a notice and
acknowledge it with Tab, Enter and Space, the focus visible at every stop."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, FOCUSED_JS, focus_is_visible, settle
from tests.browser.scene import VILLAGE, publish_notice, unit_id

pytestmark = pytest.mark.browser
CADRE = f"{VILLAGE}.sj"
MAX_TABS = 120


def tab_to(page, name: str) -> None:
    """Press Tab until the focused element's text is `name`, checking the focus is visible at each stop."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUSED_JS)
        if focus is None:
            continue
        assert focus_is_visible(focus), f"{page.url}: no visible focus on {focus}"
        if focus["text"].strip() == name:
            return
    raise AssertionError(f"{page.url}: Tab never reached {name!r}")


def test_keyboard_only_sign_in_and_acknowledge(page, size, hub_api):
    title = f"关于清理楼道堆放杂物的通知（{size}）"
    publish_notice(hub_api, "330802100.sj", title, units=[unit_id(hub_api, VILLAGE)])
    page.goto("/auth/login")
    expect(page.get_by_label("账号", exact=True)).to_be_focused()       # autofocus
    page.keyboard.type(CADRE)
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码", exact=True)).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url)

    tab_to(page, "收件箱")
    page.keyboard.press("Enter")
    page.wait_for_url("**/inbox/")
    tab_to(page, title)
    page.keyboard.press("Enter")
    page.wait_for_url("**/notices/*")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    tab_to(page, "签收")
    page.keyboard.press("Space")
    expect(page.get_by_text("您已签收。")).to_be_visible()
    settle(page, "keyboard-acknowledged")

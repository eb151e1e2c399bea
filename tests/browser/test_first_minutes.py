"""The first minutes, from the sign-in page (issue 16): signing in lands in the
inbox; on a phone the navigation is a tab bar at the bottom that leaves the
screen to the content, with targets a thumb can hit; 我的 holds the rest; the
sign-in page can be read in English before anyone signs in."""
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import DEMO_PASSWORD, settle, sign_in, size_of, visit
from tests.browser.scene import VILLAGE, publish_notice, unit_id

pytestmark = pytest.mark.browser

TABS = ["收件箱", "频道", "公文", "通讯录", "我的"]


def _visible_tabs(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('nav.mainnav a')]
        .filter(a => a.getClientRects().length && getComputedStyle(a).display !== 'none')
        .map(a => { const r = a.getBoundingClientRect();
                    return {text: a.textContent.trim(), top: r.top, bottom: r.bottom, height: r.height,
                            width: r.width}; })""")


def test_signing_in_lands_in_the_inbox_and_the_tabs_fit_the_screen(page):
    visit(page, "/", "first-sign-in")                        # the address people are given
    assert "/auth/login" in page.url
    assert page.locator(".flash").count() == 0               # no 请先登录 on the way in
    sign_in(page, "330802100202.sj")
    assert urlparse(page.url).path == "/"                    # the inbox is the start page
    assert page.get_by_role("heading", level=1).first.inner_text().startswith("收件箱")
    tabs = _visible_tabs(page)
    viewport = page.viewport_size
    if size_of(page) == "phone":
        assert [t["text"] for t in tabs] == TABS
        assert {round(t["top"]) for t in tabs} == {round(tabs[0]["top"])}        # one row
        assert all(t["bottom"] <= viewport["height"] + 1 and t["top"] > viewport["height"] - 80
                   for t in tabs), tabs                                        # at the bottom
        assert all(t["height"] >= 44 and t["width"] >= 44 for t in tabs), tabs
    else:
        names = [t["text"] for t in tabs]
        assert names[:3] == TABS[:3] and "我的" not in names and "首页" not in names
        assert all(t["top"] < 80 for t in tabs)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    settle(page, "first-inbox")


def test_me_holds_the_rest_and_signs_out(page):
    sign_in(page, "330802100202.sj")
    if size_of(page) == "phone":
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的").click()
    else:
        page.locator(".me a").click()
    page.wait_for_url("**/me")
    settle(page, "first-me")
    for name in ("填报", "修改密码", "两步验证", "意见箱"):
        assert page.get_by_role("main").get_by_role("link", name=name).is_visible(), name
    page.get_by_role("main").get_by_role("link", name="两步验证").click()
    qr = page.locator("svg.totp-qr").bounding_box()          # a code to scan, not a URL to copy
    assert qr["width"] >= 150 and qr["height"] >= 150, qr
    settle(page, "first-second-factor")
    page.go_back()
    page.get_by_role("main").get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/auth/login**")


def test_the_sign_in_page_reads_in_english_before_signing_in(page):
    visit(page, "/login", "first-login-language")             # typed by hand: the sign-in page
    assert "/auth/login" in page.url
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    settle(page, "first-login-english")
    page.get_by_label("Account", exact=True).fill("330802100202.sj")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")
    assert page.get_by_role("heading", level=1).first.inner_text() == "Inbox"   # English stays


def _small_targets(page, selector: str) -> list[str]:
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter(e => e.getClientRects().length)
        .map(e => { const r = e.getBoundingClientRect();
                    return [e.outerHTML.slice(0, 80), r.height]; })
        .filter(([_, h]) => h < 44).map(([html, h]) => `${Math.round(h)} px: ${html}`)""", selector)


def test_the_whole_card_opens_the_item_and_targets_fit_a_thumb(page, hub_api):
    size = size_of(page)
    title = f"关于秋冬季森林防火的通知（{size}）"
    notice = publish_notice(hub_api, "330802100.sj", title, units=[unit_id(hub_api, VILLAGE)])
    sign_in(page, "330802100202.sj")
    card = page.locator(f'.inbox-item[data-kind="notice"][data-id="{notice}"]')
    box = card.locator(".item-summary").bounding_box()
    # A tap on the summary, beside the title and not on it, opens the notice.
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
    page.wait_for_url(f"**/notices/{notice}")
    if size == "phone":
        page.goto("/inbox/")
        page.locator("details.inbox-filters > summary").click()
        controls = ".check, main button, main select, .foot a, .foot button, .foot select"
        assert _small_targets(page, controls) == []
        assert _small_targets(page, "nav.mainnav a") == []

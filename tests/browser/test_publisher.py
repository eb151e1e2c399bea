"""A publisher composes a notice, watches coverage fill in live while a recipient
acknowledges on another device, and sends one reminder."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_not_reloaded, remember_this_load, settle, visit
from tests.browser.scene import VILLAGE

pytestmark = pytest.mark.browser
PUBLISHER = "330802100.sj"          # 史玉兰, 石梁镇 党委书记
CADRE_NAME = "严晓梅"               # 330802100202.sj, 麻蓬村 党支部书记


def compose_notice(page, title: str) -> None:
    """发通知 to 麻蓬村委会 with 需要签收, published at once whatever the hour."""
    visit(page, "/notices/new", "publisher-compose")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("内容摘要", exact=True).fill("请各村于本周五前完成冬季用火用电安全排查，并点“签收”。")
    page.get_by_label("查找单位", exact=True).fill("麻蓬")
    page.locator("[data-picker='units']").get_by_role("button", name="查找").click()
    page.get_by_role("checkbox", name=re.compile(r"^麻蓬村委会 柯城区")).check()
    page.get_by_label("需要签收", exact=True).check()
    page.get_by_label("定时发布").fill("")
    settle(page, "publisher-compose-filled")
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_url(re.compile(r".*/notices/\d+$"))
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def test_publisher_watches_coverage_fill_in_live_and_reminds_once(new_page, size):
    title = f"关于冬季用火用电安全排查的通知（{size}）"
    publisher = new_page(PUBLISHER)
    compose_notice(publisher, title)
    notice_url = publisher.url
    publisher.get_by_role("link", name="阅读情况").click()
    publisher.wait_for_url("**/coverage*")
    read, acked = publisher.locator("[data-count='read']"), publisher.locator("[data-count='acked']")
    unread = publisher.locator("[data-unread-list]")
    expect(read).to_have_text("0")
    expect(unread).to_contain_text(CADRE_NAME)
    settle(publisher, "publisher-coverage-empty")
    remember_this_load(publisher)

    recipient = new_page(f"{VILLAGE}.sj")
    recipient.goto(notice_url)
    recipient.get_by_role("button", name="签收", exact=True).click()
    expect(recipient.get_by_text("您已签收。")).to_be_visible()

    # The numbers arrive over Socket.IO, without a reload.
    expect(read).to_have_text("1")
    expect(acked).to_have_text("1")
    expect(unread).not_to_contain_text(CADRE_NAME)
    assert_not_reloaded(publisher)
    settle(publisher, "publisher-coverage-live")

    publisher.get_by_role("button", name="提醒未读").click()
    publisher.wait_for_load_state()
    expect(publisher.get_by_text("上次提醒")).to_be_visible()
    settle(publisher, "publisher-reminded")

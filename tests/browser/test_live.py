"""Real time: a second person's action shows up on an open page without reloading."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_not_reloaded, remember_this_load, settle, visit
from tests.browser.scene import VILLAGE, publish_notice, unit_channel_id, unit_id

pytestmark = pytest.mark.browser
CADRE, COLLEAGUE = f"{VILLAGE}.sj", f"{VILLAGE}.zr"


def test_a_channel_message_arrives_without_reloading(new_page, size, hub_api):
    channel = unit_channel_id(hub_api, CADRE)
    reader = new_page(CADRE)
    visit(reader, f"/channels/{channel}", "live-channel-before")
    remember_this_load(reader)

    writer = new_page(COLLEAGUE)
    writer.goto(f"/channels/{channel}")
    text = f"村口防火宣传牌已经立好了（{size}）。"
    writer.get_by_role("textbox", name="消息", exact=True).fill(text)
    writer.get_by_role("button", name="发送").click()
    expect(writer.get_by_role("log").locator(".msg-body", has_text=text)).to_be_visible()

    expect(reader.get_by_role("log").get_by_text(text)).to_be_visible()
    assert_not_reloaded(reader)
    settle(reader, "live-channel-after")


def test_an_urgent_notice_arrives_in_the_open_inbox_with_its_reason(new_page, size, hub_api):
    reader = new_page(CADRE)
    visit(reader, "/inbox/", "live-inbox-before")
    remember_this_load(reader)
    title = f"关于立即转移山塘下游群众的紧急通知（{size}）"
    reason = "山塘水位超过警戒线"
    publish_notice(hub_api, "330802100.sj", title, units=[unit_id(hub_api, VILLAGE)], urgent_reason=reason)

    banner = reader.locator("[data-urgent-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(reason)
    item = reader.locator("li.inbox-item", has=reader.get_by_role("link", name=title))
    expect(item).to_be_visible()
    expect(item.get_by_text(f"紧急原因：{reason}")).to_be_visible()
    assert_not_reloaded(reader)
    settle(reader, "live-inbox-urgent")

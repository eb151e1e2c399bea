"""A village cadre's day: the inbox, a notice to acknowledge, a channel read by topic."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settle, sign_in, visit
from tests.browser.scene import VILLAGE, post_message, publish_notice, unit_channel_id, unit_id

pytestmark = pytest.mark.browser
CADRE = f"{VILLAGE}.sj"          # 严晓梅, 麻蓬村 党支部书记


def test_cadre_reads_the_inbox_and_acknowledges_a_notice(page, size, hub_api):
    title = f"关于开展冬季森林火灾隐患排查的通知（{size}）"
    reason = "寒潮来临，火险等级升至四级"
    notice = publish_notice(hub_api, "330802100.sj", title, units=[unit_id(hub_api, VILLAGE)],
                            urgent_reason=reason)
    sign_in(page, CADRE)
    visit(page, "/inbox/", "cadre-inbox")
    item = page.locator(f"li.inbox-item[data-id='{notice}']")
    expect(item.get_by_text(f"紧急原因：{reason}")).to_be_visible()
    item.get_by_role("link", name=title).click()
    page.wait_for_url(f"**/notices/{notice}")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()
    settle(page, "cadre-notice")
    page.get_by_role("button", name="签收", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_text("您已签收。")).to_be_visible()
    settle(page, "cadre-notice-acknowledged")


def test_cadre_reads_a_channel_by_topic_and_replies(page, size, hub_api):
    channel = unit_channel_id(hub_api, CADRE)
    topic = f"防火巡查{size}"
    post_message(hub_api, f"{VILLAGE}.zr", channel, "本周巡查路线已排好，请书记过目。", topic=topic)
    post_message(hub_api, f"{VILLAGE}.zr", channel, "村道绿化的事下周再议。", topic=f"绿化{size}")
    sign_in(page, CADRE)
    visit(page, "/channels/", "cadre-channels")
    page.get_by_role("link", name="麻蓬村委会").click()
    page.wait_for_url(f"**/channels/{channel}*")
    if page.locator("details[data-topics]").evaluate("d => !d.open"):
        page.locator("details[data-topics] summary").click()
    page.get_by_role("navigation", name="话题").get_by_role("link", name=topic).click()
    page.wait_for_url("**topic=*")
    thread = page.get_by_role("log")
    expect(thread.get_by_text("本周巡查路线已排好")).to_be_visible()
    expect(thread.get_by_text("村道绿化")).to_have_count(0)
    settle(page, "cadre-channel-topic")

    page.get_by_role("textbox", name="消息", exact=True).fill("路线看过了，周三我带队。")
    page.get_by_role("button", name="发送").click()
    expect(thread.get_by_text("路线看过了，周三我带队。")).to_be_visible()
    settle(page, "cadre-channel-replied")


def test_a_bare_shou_dao_becomes_an_acknowledgement(page, size, hub_api):
    channel = unit_channel_id(hub_api, CADRE)
    topic = f"通知转达{size}"
    message = post_message(hub_api, f"{VILLAGE}.zr", channel, "镇里通知：周五前上报防火台账。", topic=topic)
    sign_in(page, CADRE)
    visit(page, f"/channels/{channel}?topic={topic}", "cadre-channel-before-ack")
    page.get_by_role("textbox", name="消息", exact=True).fill("收到")
    page.get_by_role("button", name="发送").click()
    acks = page.locator(f"#m-{message} .msg-acks")
    expect(acks).to_have_text("1 人已确认收到")
    expect(page.get_by_role("log").get_by_text("收到", exact=True)).to_have_count(0)
    settle(page, "cadre-channel-acknowledged")


def test_a_mention_typed_on_the_page(page, size, hub_api):
    """Typing "@" offers the channel's people; picking one writes the name, and
    the person gets the mention in the inbox."""
    channel = unit_channel_id(hub_api, CADRE)
    director = f"{VILLAGE}.zr"
    name = hub_api.as_(director).get("/me")["name"]
    sign_in(page, CADRE)
    page.goto(f"/channels/{channel}")
    box = page.get_by_role("textbox", name="消息", exact=True)
    box.click()
    box.press_sequentially("@" + name[:2])
    offered = page.get_by_role("listbox", name="可以提及的人").get_by_role("option", name=name, exact=True)
    expect(offered).to_be_visible()
    settle(page, "cadre-channel-mention-offered")
    offered.click()                                      # a tap picks it
    expect(box).to_have_value(f"@{name} ")
    text = f"请看一下巡查记录（{size}）"
    box.press_sequentially(text)
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_role("log").get_by_text(f"@{name} {text}")).to_be_visible()
    mentions = hub_api.as_(director).get("/inbox?kind=mention")["items"]
    assert [item["summary"] for item in mentions if text in item["summary"]] == [f"@{name} {text}"]


def test_a_reply_quotes_and_the_composer_fits_a_phone(page, size, hub_api):
    channel = unit_channel_id(hub_api, CADRE)
    asked = post_message(hub_api, f"{VILLAGE}.zr", channel, f"明早八点村部集合，带上巡查记录（{size}）")
    sign_in(page, CADRE)
    page.goto(f"/channels/{channel}")
    page.locator(f"#m-{asked} a[data-reply]").click()
    quote = page.locator("[data-reply-box]")
    expect(quote).to_be_visible()
    expect(quote).to_contain_text("明早八点村部集合")
    box = page.get_by_role("textbox", name="消息", exact=True)
    box.fill(f"好的，我带上（{size}）")
    page.get_by_role("button", name="发送").click()
    thread = page.get_by_role("log")
    reply = thread.locator(".msg", has_text=f"好的，我带上（{size}）")
    expect(reply.locator(".msg-quote")).to_contain_text("明早八点村部集合")
    expect(quote).to_be_hidden()
    # The composer's controls are whole on the screen, above the tab bar, and a thumb can hit them.
    composer = page.locator("form[data-composer]").bounding_box()
    viewport = page.viewport_size
    for name in ("附件", "发送"):
        target = page.locator("form[data-composer]").get_by_text(name, exact=True).bounding_box()
        assert target["x"] >= 0 and target["x"] + target["width"] <= viewport["width"], (name, target)
        assert target["height"] >= 40, (name, target)
    if size == "phone":
        tabs = page.get_by_role("navigation", name="主导航").bounding_box()
        assert composer["y"] + composer["height"] <= tabs["y"] + 1, (composer, tabs)
    settle(page, "cadre-channel-reply")

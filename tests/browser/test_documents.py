"""公文 at both ends: a county office drafts, signs off, numbers and dispatches; a town
clerk signs for a document, registers it and sends it to the leader, who instructs,
and a reader marks it 已阅."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settle, visit
from tests.browser.scene import TOWN, dispatched_document, person_id, unit_id

pytestmark = pytest.mark.browser


def take_step(page, button: str, comment: str | None = None, form: str | None = None) -> None:
    """Fill a step form of the document page (found by its button) and submit it."""
    step = page.locator("form.step-form").filter(has=page.get_by_role("button", name=button, exact=True))
    if form:
        step = page.locator(f"form.step-form[data-step='{form}']")
    if comment is not None:
        step.get_by_role("textbox").fill(comment)
    step.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("#step-error")).to_have_count(0)


def timeline(page):
    return page.get_by_role("region", name="办理过程")


def test_county_office_drafts_signs_off_numbers_and_dispatches(new_page, size):
    title = f"关于做好岁末年初矛盾纠纷排查化解工作的通知（{size}）"
    clerk = new_page("d02.clerk")
    visit(clerk, "/documents/", "office-documents")
    clerk.get_by_role("link", name="拟稿").click()
    clerk.wait_for_url("**/documents/new")
    clerk.get_by_label("文种", exact=True).select_option("通知")
    clerk.get_by_label("标题", exact=True).fill(title)
    clerk.get_by_label("查找单位", exact=True).fill("石梁镇")
    clerk.get_by_role("button", name="查找", exact=True).click()
    main = clerk.get_by_role("checkbox", name=re.compile(r"^石梁镇\s*主送$"))
    main.check()
    clerk.locator("#d-body").fill("各乡镇人民政府：\n\n请于12月20日前完成辖区矛盾纠纷排查。")
    settle(clerk, "office-draft-form")
    clerk.get_by_role("button", name="保存草稿").click()
    clerk.wait_for_url(re.compile(r".*/documents/\d+$"))
    expect(clerk.get_by_role("heading", name=title)).to_be_visible()
    settle(clerk, "office-draft-saved")
    take_step(clerk, "核稿通过", "格式已核。")

    leader = new_page("d02.leader")
    leader.goto(clerk.url)
    settle(leader, "office-to-sign")
    take_step(leader, "签发", "同意印发。")
    expect(leader.locator(".doc-signer")).to_contain_text("签发人")

    clerk.reload()
    take_step(clerk, "编号")
    number = clerk.locator(".doc-number")
    expect(number).to_have_text(re.compile(r"〔\d{4}〕\d+号"))
    take_step(clerk, "分发")
    board = clerk.get_by_role("region", name="各收文单位办理情况")
    expect(board.get_by_role("row").filter(has_text="石梁镇")).to_have_count(1)
    expect(timeline(clerk).locator("li[data-action='dispatch']")).to_have_count(1)
    settle(clerk, "office-dispatched")


def test_town_clerk_signs_for_registers_and_sends_to_the_leader(new_page, size, hub_api):
    title = f"关于做好冬春季农村消防安全工作的通知（{size}）"
    document = dispatched_document(hub_api, title, unit_id(hub_api, TOWN))
    clerk = new_page(f"{TOWN}.ws")
    visit(clerk, "/documents/", "town-documents")
    waiting = clerk.get_by_role("region", name="待我办理")
    waiting.get_by_role("link", name=title).click()
    clerk.wait_for_url(f"**/documents/{document}*")
    settle(clerk, "town-document-to-sign-for")
    take_step(clerk, "签收")
    take_step(clerk, "登记")
    take_step(clerk, "送领导批办", "拟请史玉兰书记阅示，交组织委员落实。")
    expect(timeline(clerk).get_by_text("拟请史玉兰书记阅示")).to_be_visible()
    settle(clerk, "town-document-proposed")

    leader = new_page(f"{TOWN}.sj")
    visit(leader, "/documents/", "town-leader-documents")
    leader.get_by_role("region", name="待我办理").get_by_role("link", name=title).click()
    take_step(leader, "批办", "同意。请各村抓紧落实。")
    expect(timeline(leader).get_by_text("同意。请各村抓紧落实。")).to_be_visible()
    settle(leader, "town-document-instructed")

    reader_login = f"{TOWN}.zz"
    clerk.reload()
    circulate = clerk.locator("form.step-form[data-step='circulate']")
    circulate.locator(f"#circulate-p{person_id(hub_api, reader_login)}").check()
    take_step(clerk, "传阅", form="circulate")

    reader = new_page(reader_login)
    visit(reader, f"/documents/{document}", "town-reader-document")
    take_step(reader, "已阅", "已阅，同意。")
    expect(timeline(reader).get_by_text("已阅，同意。")).to_be_visible()
    settle(reader, "town-reader-read")


def test_after_the_instruction_the_panel_says_what_is_next_and_the_sender_hears_back(new_page, size, hub_api):
    """The clerk sees where the document stands, who holds it and the next steps
    (交办, 传阅) with the rest behind 更多; the handler replies, and the county
    clerk sees the reply on the status board at once and in the inbox."""
    title = f"关于开展冬季森林防火隐患排查的通知（{size}）"
    document = dispatched_document(hub_api, title, unit_id(hub_api, TOWN))
    town_clerk, town_leader = hub_api.as_(f"{TOWN}.ws"), hub_api.as_(f"{TOWN}.sj")
    for action in ("sign_for", "register"):
        town_clerk.post(f"/documents/{document}/actions", {"action": action})
    town_clerk.post(f"/documents/{document}/actions", {"action": "propose", "comment": "拟请书记阅示。"})
    town_leader.post(f"/documents/{document}/actions", {"action": "instruct", "comment": "请抓紧落实。"})

    clerk = new_page(f"{TOWN}.ws")
    visit(clerk, f"/documents/{document}", "town-document-what-next")
    panel = clerk.locator("[data-next-panel]")
    expect(panel).to_contain_text("已批办")
    expect(panel).to_contain_text("请您办理：交办承办、传阅")
    expect(clerk.locator("form.step-form[data-step='assign']")).to_be_visible()
    expect(clerk.locator("form.step-form[data-step='complete']")).to_be_hidden()
    more = clerk.locator("details.more-steps")
    more.locator("summary").click()
    expect(clerk.locator("form.step-form[data-step='complete']")).to_be_visible()
    more.locator("summary").click()
    handler_login = f"{TOWN}.zz"
    assign = clerk.locator("form.step-form[data-step='assign']")
    assign.locator(f"#assign-p{person_id(hub_api, handler_login)}").check()
    take_step(clerk, "交办", form="assign")
    expect(panel).to_contain_text("办理中")

    sender = new_page("d02.clerk")
    visit(sender, f"/documents/{document}", "office-board-before-reply")
    handler = new_page(handler_login)
    visit(handler, f"/documents/{document}", "town-handler-document")
    expect(handler.locator("[data-next-panel]")).to_contain_text("请您办理：办结、答复发文单位")
    take_step(handler, "答复", "我镇已完成全部隐患排查，整改 3 处。", form="reply")

    board = sender.get_by_role("region", name="各收文单位办理情况")
    expect(board.get_by_text("我镇已完成全部隐患排查，整改 3 处。")).to_be_visible()
    settle(sender, "office-board-hears-back")
    visit(sender, "/inbox/", "office-inbox-hears-back")
    item = sender.locator("li.inbox-item").filter(has_text=title).first
    expect(item).to_contain_text("1 个单位答复")

"""Calm by design (issue 8 part 6): no page shows presence, "last seen", rankings or
points, and an urgent notice always says why it is urgent. Every page a journey
visits is checked for the words too (conftest.settle); these tests add the pages
where numbers about people are most tempting: coverage, the status board, the
sender-burden view, the digest and the directory."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import uncalm_words, visit
from tests.browser.scene import VILLAGE, publish_notice, unit_id

pytestmark = pytest.mark.browser


def test_the_word_check_finds_presence_and_rankings_but_not_disclaimers():
    assert uncalm_words("严晓梅 在线 · 本月排名第 3") == ["在线", "排名"]
    assert uncalm_words("Last seen 5 minutes ago") == ["last seen"]
    assert uncalm_words("按组织架构顺序列出，不排名、不比较。") == []


def test_pages_with_numbers_about_people_show_no_presence_or_rankings(new_page, size, hub_api):
    notice = publish_notice(hub_api, "330802100.sj", f"关于春耕备耕的通知（{size}）",
                            units=[unit_id(hub_api, VILLAGE)])
    publisher = new_page("330802100.sj")
    visit(publisher, f"/notices/{notice}/coverage", "calm-coverage")
    visit(publisher, "/directory", "calm-directory")
    cadre = new_page(f"{VILLAGE}.sj")
    for path, name in (("/", "calm-home"), ("/inbox/digest", "calm-digest"), ("/channels/", "calm-channels")):
        visit(cadre, path, name)
    fire = hub_api.as_("d02.clerk").get("/documents?q=冬季森林防火")["items"][0]["id"]
    clerk = new_page("d02.clerk")
    visit(clerk, f"/documents/{fire}", "calm-status-board")
    expect(clerk.get_by_role("region", name="各收文单位办理情况")).to_contain_text("不排名")
    admin = new_page("county.admin")
    visit(admin, "/admin/burden", "calm-burden")


def test_every_urgent_notice_in_the_inbox_says_why(new_page, size, hub_api):
    reason = "台风“贝碧嘉”预计今夜登陆"
    publish_notice(hub_api, "330802100.sj", f"关于做好台风防御工作的紧急通知（{size}）",
                   units=[unit_id(hub_api, VILLAGE)], urgent_reason=reason)
    cadre = new_page(f"{VILLAGE}.sj")
    visit(cadre, "/inbox/", "calm-inbox-urgent")
    urgent = cadre.locator("li.inbox-item[data-kind='notice']").filter(has=cadre.locator(".tag-urgent"))
    expect(urgent.first).to_be_visible()
    for item in urgent.all():
        expect(item.locator(".item-urgent")).to_contain_text("紧急原因：")

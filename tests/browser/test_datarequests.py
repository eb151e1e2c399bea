"""Data requests (填报), collect once: a department composes a request and sees
what is held and what overlaps before sending; a village answers on a phone
from a form pre-filled with what it holds, and a stale submit loses nothing;
a second department follows up, reminds once, and exports values that nobody
typed again for it; a unit that holds everything is complete without being asked.

The figures are the demo's (hub/demo_datarequests.py): values held for last year
by every village, 区民政局's open request over 石梁镇 and two other towns. Each
journey runs at both sizes, on units of its own so that the runs stay apart."""
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SIZES, assert_not_reloaded, remember_this_load, settle, shot, visit
from tests.browser.scene import data_field_ids, last_year, send_data_request, unit_id

pytestmark = pytest.mark.browser
HEALTH = "d09.clerk"                  # 柯城区卫生健康局 文书
CIVIL = "d10.clerk"                   # 柯城区民政局 文书
FARMING = "d07.clerk"                 # 柯城区农业农村局 文书
CIVIL_REQUEST = f"关于报送{last_year()}年度村（社区）人口和社会救助基本情况的通知"   # the demo's open request
# A village of 七里乡 answers (b); a town whose villages are followed up (c, d), and one of them.
ANSWERING = {"phone": "330802209204", "desktop": "330802209215"}        # 治岭村, 少岭坞村
FOLLOWED = {"phone": ("330802212", "330802212218", "华墅村委会"),
            "desktop": ("330802215", "330802215219", "石室村委会")}


def no_sideways_scroll(page) -> None:
    """The page fits its viewport: nothing to scroll sideways on a phone."""
    width, viewport = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px viewport"


def choose_fields(page, term: str, names: list[str]) -> None:
    page.get_by_label("在数据目录中查找").fill(term)
    for name in names:
        page.get_by_role("checkbox", name=re.compile(f"^{name} ")).check()


def test_a_department_composes_sees_what_is_held_and_the_overlap_and_states_a_reason(new_page, size,
                                                                                     page_errors):
    title = f"关于报送{last_year()}年度村（社区）常住人口和残疾人数的通知（{size}）"
    page = new_page(HEALTH)
    visit(page, "/data/new", "data-compose")
    no_sideways_scroll(page)
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("填报用途").fill("用于测算家庭医生签约服务覆盖率和康复服务需求。")
    page.get_by_label("期间", exact=True).fill(last_year())
    page.get_by_label("截止日期").fill("2099-12-31")
    remember_this_load(page)
    # The catalogue and the units are searched as one types (no reload).
    choose_fields(page, "人口", ["常住人口"])
    choose_fields(page, "残疾", ["持证残疾人数"])
    page.get_by_label("查找单位").fill("石梁")
    page.get_by_label("石梁镇含下级单位").check()
    page.get_by_role("button", name="核对").click()
    check = page.locator("[data-check]")
    expect(check).to_contain_text("共 24 个单位")
    expect(check).to_contain_text("常住人口：24 个单位已有")
    expect(check).to_contain_text("不会被打扰的单位：石梁镇")
    expect(check.locator("[data-overlaps]")).to_contain_text(CIVIL_REQUEST)
    complete = int(re.search(r"其中 (\d+) 个已有全部数据", check.inner_text()).group(1))
    assert 0 < complete < 24                    # some villages lack 持证残疾人数
    # The check follows the choices by itself: without 持证残疾人数 every unit holds everything.
    page.get_by_role("checkbox", name=re.compile("^持证残疾人数 ")).uncheck()
    expect(check).to_contain_text("其中 24 个已有全部数据")
    page.get_by_role("checkbox", name=re.compile("^持证残疾人数 ")).check()
    expect(check).to_contain_text(f"其中 {complete} 个已有全部数据")
    assert_not_reloaded(page)
    no_sideways_scroll(page)
    settle(page, "data-compose-checked")

    # Sending over the overlap without a reason is refused at the reason's field.
    page.get_by_role("button", name="发出").click()
    page.wait_for_load_state()
    reason = page.get_by_label("重复填报的理由")
    page_errors.allow_refusal(409)
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#d-overlap-error")).to_contain_text("请先查看")
    fix = page.locator(".form-problem").get_by_role("link", name="去修改")
    expect(fix).to_have_attribute("href", "#d-overlap")
    expect(page.get_by_label("标题", exact=True)).to_have_value(title)          # nothing typed is lost
    expect(page.get_by_role("checkbox", name=re.compile("^持证残疾人数 "))).to_be_checked()
    settle(page, "data-compose-overlap-refused")
    reason.fill("卫健口径须按常住人口测算，民政数据截至上年末，已与区民政局沟通")
    page.get_by_role("button", name="发出").click()
    page.wait_for_url(re.compile(r".*/data/requests/\d+$"))
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text("与其他填报任务重复的理由：卫健口径须按常住人口测算")).to_be_visible()
    settle(page, "data-request-sent")
    page.get_by_role("button", name="结束填报").click()          # it stays out of the other journeys' way
    expect(page.get_by_text("该填报任务已结束")).to_be_visible()


def test_the_compose_page_checks_without_javascript(browser, hub_url, size, signed_in_states, page_errors):
    context = browser.new_context(**SIZES[size], base_url=hub_url, locale="zh-CN", java_script_enabled=False,
                                  storage_state=signed_in_states(HEALTH))
    try:
        page = context.new_page()
        page_errors.watch(page)
        page.goto("/data/new")
        page.get_by_label("在数据目录中查找").fill("常住")
        page.get_by_label("查找单位").fill("石梁镇")
        page.locator("[data-search=units]").get_by_role("button", name="查找").click()
        page.get_by_role("checkbox", name=re.compile("^常住人口 ")).check()
        page.get_by_label("石梁镇含下级单位").check()
        page.get_by_label("期间", exact=True).fill(last_year())
        page.get_by_role("button", name="核对").click()
        page.wait_for_load_state()
        expect(page.locator("[data-check]")).to_contain_text("共 24 个单位；其中 24 个已有全部数据")
        expect(page.locator("[data-overlaps]")).to_contain_text(CIVIL_REQUEST)
        page.get_by_label("期间", exact=True).fill(f"{last_year()}-Q5")
        page.get_by_role("button", name="核对").click()
        page.wait_for_load_state()
        expect(page.locator("#d-period-error")).to_contain_text("期间格式应为")
        page_errors.allow_refusal(400)
        no_sideways_scroll(page)
        shot(page, "data-compose-without-js")
    finally:
        context.close()


def test_a_village_answers_on_a_phone_from_what_it_holds_and_a_stale_submit_loses_nothing(
        new_page, size, hub_api, page_errors):
    village = ANSWERING[size]
    clerk = f"{village}.sj"
    title = f"关于核实{last_year()}年度外出务工人员情况的通知（{size}）"
    request_id = send_data_request(hub_api, HEALTH, title, codes=("JC001", "MZ004", "NY006"),
                                   units=[unit_id(hub_api, village)])
    village_id = unit_id(hub_api, village)
    resident, elderly, migrant = data_field_ids(hub_api, "JC001", "MZ004", "NY006")
    held = {f["field_id"]: f["value"] for f in hub_api.as_(clerk).get(
        f"/data/requests/{request_id}/units/{village_id}")["fields"]}
    assert held[resident] and held[elderly] and held[migrant] is None

    page = new_page(clerk)
    visit(page, "/inbox/", "data-answer-inbox")
    page.get_by_role("link", name=title).click()          # one unit to answer: straight to its form
    page.wait_for_url(f"**/data/requests/{request_id}/units/{village_id}")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator("[data-held-summary]")).to_contain_text("已带出本单位已有的 2 项数据")
    boxes = {field: page.locator(f"#v-{field}") for field in (resident, elderly, migrant)}
    expect(boxes[resident]).to_have_value(str(held[resident]))
    expect(boxes[elderly]).to_have_value(str(held[elderly]))
    expect(boxes[migrant]).to_have_value("")
    for box in boxes.values():                               # a numeric keypad on a phone
        expect(box).to_have_attribute("inputmode", "numeric")
    hints = page.locator(".data-field")
    expect(hints.nth(0).locator("[data-source]")).to_contain_text("导入")
    expect(hints.nth(2)).to_contain_text("待填写")
    no_sideways_scroll(page)
    settle(page, "data-answer-form")

    corrected = held[resident] + 12
    boxes[resident].fill(str(corrected))
    boxes[migrant].fill("318")
    # Meanwhile the form is submitted from another device, from the same version.
    hub_api.as_(clerk).put(f"/data/requests/{request_id}/units/{village_id}",
                           {"values": {str(migrant): 305}, "version": 0})
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator(".form-problem")).to_contain_text("该表刚被他人提交过")
    page_errors.allow_refusal(409)
    expect(boxes[migrant]).to_have_value("305")               # the values as they are now ...
    expect(boxes[resident]).to_have_value(str(held[resident]))
    unsaved = page.locator("[data-unsaved]")                  # ... and what was typed, not lost
    expect(unsaved.filter(has_text="318")).to_be_visible()
    expect(unsaved.filter(has_text=str(corrected))).to_be_visible()
    no_sideways_scroll(page)
    settle(page, "data-answer-stale")

    boxes[resident].fill(str(corrected))
    boxes[migrant].fill("318")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url(f"**/data/requests/{request_id}")
    expect(page.get_by_text("已提交，谢谢")).to_be_visible()
    expect(page.locator("#mine-h + ul")).to_contain_text("已填报")
    form = hub_api.as_(clerk).get(f"/data/requests/{request_id}/units/{village_id}")
    values = {f["field_id"]: f["value"] for f in form["fields"]}
    assert (values[resident], values[elderly], values[migrant], form["version"]) == (
        corrected, held[elderly], 318, 2)


def test_a_second_department_follows_up_reminds_once_and_exports_what_nobody_typed_again(
        new_page, size, hub_api, tmp_path):
    town_code, village_code, village_name = FOLLOWED[size]
    village, town = unit_id(hub_api, village_code), unit_id(hub_api, town_code)
    migrant, arable = data_field_ids(hub_api, "NY006", "NY001")
    # 区民政局 asks the village for 外出务工人数, which it types once ...
    first = send_data_request(hub_api, CIVIL, f"关于摸排{last_year()}年度外出务工人员的通知（{size}）",
                              codes=("NY006", "JC001"), units=[village])
    typed = {"phone": 214, "desktop": 187}[size]
    hub_api.as_(f"{village_code}.sj").put(f"/data/requests/{first}/units/{village}",
                                          {"values": {str(migrant): typed}, "version": 0})
    # ... then 区农业农村局 asks the whole town for it and for 耕地面积.
    title = f"关于报送{last_year()}年度农村劳动力转移和耕地情况的通知（{size}）"
    second = send_data_request(hub_api, FARMING, title, codes=("NY006", "NY001"), subtrees=[town],
                               overlap_reason="省农业农村厅劳动力转移监测需要全乡数据")

    page = new_page(FARMING)
    visit(page, f"/data/requests/{second}", "data-follow-up")
    status = hub_api.as_(FARMING).get(f"/data/requests/{second}/status")
    assert status["by_unit"][0]["unit_id"] == town                         # tree order: the town first
    names = page.locator("[data-status-tree] [data-unit-row] > a")
    expect(names).to_have_text([row["name"] for row in status["by_unit"]])
    below = page.locator(f"[data-unit-row][data-unit-id='{town}'] > details")     # the villages, expandable
    expect(below).to_have_attribute("open", "")
    expect(below.locator("> summary")).to_contain_text(f"下级 {status['units'] - 1} 个单位")
    # (d) The village holds both figures: complete, nobody asked.
    expect(page.locator(f"[data-unit-row][data-unit-id='{village}']")).to_contain_text("已有数据")
    no_sideways_scroll(page)

    page.get_by_role("button", name="提醒待填报的单位").click()
    page.wait_for_load_state()
    expect(page.get_by_text(f"已提醒 {status['pending']} 个待填报的单位")).to_be_visible()
    page.get_by_role("button", name="提醒待填报的单位").click()
    page.wait_for_load_state()
    expect(page.get_by_text("每 4 小时最多提醒一次")).to_be_visible()
    settle(page, "data-follow-up-reminded")

    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    path = tmp_path / "export.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if village_name in r)
    by_header = dict(zip(header, row, strict=False))
    held_arable = next(f["value"] for f in hub_api.as_(FARMING).get(
        f"/data/requests/{second}/units/{village}")["fields"] if f["field_id"] == arable)
    migrant_column = next(h for h in header if h and h.startswith("外出务工人数"))
    arable_column = next(h for h in header if h and h.startswith("耕地面积"))
    assert by_header[migrant_column] == typed          # typed once, for 区民政局
    assert by_header[arable_column] == held_arable     # held before either asked

    # (d) The village's secretary is not asked: nothing waits in the inbox, the request says so.
    cadre = new_page(f"{village_code}.sj")
    visit(cadre, "/inbox/", "data-complete-inbox")
    expect(cadre.get_by_role("link", name=title)).to_have_count(0)
    cadre.goto(f"/data/requests/{second}")
    mine = cadre.locator("#mine-h + ul")
    expect(mine).to_contain_text(village_name)
    expect(mine).to_contain_text("已有数据")
    expect(mine.get_by_role("link", name="去填报")).to_have_count(0)

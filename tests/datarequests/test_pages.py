"""The pages: a clerk answers on a phone-sized form pre-filled with what is held;
the county office composes a request, finds and adds fields, checks what is
held and what overlaps before sending, and follows it up."""
from __future__ import annotations

import re

from tests.datarequests.conftest import TOWN, VILLAGE, add_field, form, send
from tests.factories import page
from tests.test_i18n import chinese_outside_data


def _compose(client, **fields) -> object:
    data = {"title": "关于报送人口数据的通知", "purpose": "年度公报", "period": "2026",
            "deadline": "2099-12-31", **fields}
    return client.post("/data/new", data=data)


def test_the_county_office_composes_checks_and_sends(client, login, api, ids):
    login("kc_clerk")
    assert "发起填报" in page(client, "/data/new")
    found = _compose(client, step="find", field_q="人数")
    assert found.status_code == 200 and "本单位人数" in found.get_data(as_text=True)
    added = _compose(client, step="add_field", nf_name="常住人口", nf_kind="integer", nf_period_kind="year",
                     nf_unit="人")
    html = added.get_data(as_text=True)
    field_id = int(re.search(r'name="field_ids" value="(\d+)" checked', html).group(1))
    similar = _compose(client, step="add_field", nf_name="常住人口数", nf_kind="integer",
                       nf_period_kind="year")
    assert "名称相近的数据项：常住人口" in similar.get_data(as_text=True)
    town = ids.unit(TOWN)
    checked = _compose(client, step="preview", field_ids=str(field_id), subtree_ids=str(town),
                       unit_ids=str(town))
    assert "共 2 个单位；其中 0 个已有全部数据" in checked.get_data(as_text=True)
    refused = _compose(client, step="send", field_ids=str(field_id), subtree_ids=str(town), period="2026-13")
    assert refused.status_code == 400 and "期间格式应为" in refused.get_data(as_text=True)
    sent = _compose(client, step="send", field_ids=str(field_id), subtree_ids=str(town))
    assert sent.status_code == 302
    shown = page(client, sent.headers["Location"])
    assert "填报情况" in shown and "共 2 个单位：已填报 0，已有数据无需填报 0，待填报 2。" in shown
    again = _compose(client, step="send", field_ids=str(field_id), subtree_ids=str(town))
    assert again.status_code == 409 and "请先与发起单位核对" in again.get_data(as_text=True)


def test_a_clerk_answers_on_the_form_pre_filled_with_what_is_held(client, login, api, ids):
    office = api("kc_clerk")
    population = add_field(office)["id"]
    industry = add_field(office, "主要产业", kind="text", period_kind="once")["id"]
    town = ids.unit(TOWN)
    first = send(office, [population], {"units": [town]})["id"]
    login("sl_clerk")
    path = f"/data/requests/{first}/units/{town}"
    html = page(client, path)
    assert 'inputmode="numeric"' in html and 'name="version" value="0"' in html
    bad = client.post(path, data={"version": "0", f"v-{population}": "二万三"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    done = client.post(path, data={"version": "0", f"v-{population}": "23150"})
    assert done.status_code == 302
    stale = client.post(path, data={"version": "0", f"v-{population}": "1"})
    assert stale.status_code == 409 and 'value="23150"' in stale.get_data(as_text=True)
    second = send(office, [population, industry], {"units": [town]}, overlap_reason="补充产业情况")["id"]
    html = page(client, f"/data/requests/{second}/units/{town}")
    assert 'value="23150"' in html and "已有数据：来自“关于报送2026年人口数据的通知”" in html
    assert client.post(f"/data/requests/{second}/units/{town}",
                       data={"version": "0", f"v-{industry}": "茶叶\r\n柑橘"}).status_code == 302
    assert form(api("sl_clerk"), second, town)["fields"][1]["value"] == "茶叶\n柑橘"
    inbox = page(client, "/inbox/")
    assert f'href="/data/requests/{second}"' in inbox and "填报" in inbox


def test_who_sees_the_pages(client, login, api, ids, village_leader):
    office = api("kc_clerk")
    field = add_field(office)["id"]
    request_id = send(office, [field], {"subtrees": [ids.unit(TOWN)]})["id"]
    login("mp_director")
    page(client, f"/data/requests/{request_id}", status=404)
    page(client, f"/data/requests/{request_id}/units/{ids.unit(VILLAGE)}", status=404)
    assert "目前没有需要填报的任务" in page(client, "/data/")
    client.post("/auth/logout")
    login("sl_leader")
    shown = page(client, f"/data/requests/{request_id}")
    assert "填报情况" not in shown and "去填报" not in shown          # the town's clerk answers
    readonly = page(client, f"/data/requests/{request_id}/units/{ids.unit(VILLAGE)}")
    assert 'name="version"' in readonly and 'class="primary-action"' not in readonly


def test_the_answer_page_in_english(client, login, api, ids):
    office = api("kc_clerk")
    field = add_field(office, "常住人口")["id"]
    request_id = send(office, [field], {"units": [ids.unit(TOWN)]})["id"]
    assert api("sl_clerk").put("/api/v1/me/language", json={"language": "en"}).status_code == 200
    login("sl_clerk")
    data = ["关于报送2026年人口数据的通知", "编制年度统计公报", "常住人口", "(人)"]    # data
    for path in (f"/data/requests/{request_id}/units/{ids.unit(TOWN)}", f"/data/requests/{request_id}",
                 "/data/", "/data/new"):
        html = page(client, path)
        for text in data:
            html = html.replace(text, "")
        assert chinese_outside_data(html) == [], path


def test_the_live_check_is_the_pages_own_fragment_and_names_the_field(client, login, api, ids):
    office = api("kc_clerk")
    population = add_field(office)["id"]
    town = ids.unit(TOWN)
    login("kc_clerk")
    scope = {"field_ids": str(population), "subtree_ids": str(town), "unit_ids": str(town)}
    checked = client.post("/data/new/check", data={**scope, "period": "2026"})
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "<html" not in html
    assert "共 2 个单位；其中 0 个已有全部数据" in html and "没有重复的填报任务" in html
    refused = client.post("/data/new/check", data={**scope, "period": "2026-13"}).get_data(as_text=True)
    assert 'data-error-field="period"' in refused and 'data-error-anchor="d-period"' in refused
    assert "期间格式应为" in refused
    waiting = client.post("/data/new/check", data=scope).get_data(as_text=True)     # no period yet
    assert "选好数据项、期间和单位后" in waiting and "data-error-field" not in waiting
    page(client, "/data/new/check", status=405)
    sent = send(office, [population], {"subtrees": [town]})["id"]
    again = client.post("/data/new/check", data={**scope, "period": "2026"}).get_data(as_text=True)
    assert "data-overlaps" in again and "关于报送2026年人口数据的通知" in again
    shown = page(client, f"/data/requests/{sent}")
    assert "data-status-tree" in shown and "下级 1 个单位：已完成 0" in shown


def test_a_stale_submit_shows_the_values_now_and_keeps_what_was_typed(client, login, api, ids):
    office = api("kc_clerk")
    population = add_field(office)["id"]
    town = ids.unit(TOWN)
    request_id = send(office, [population], {"units": [town]})["id"]
    login("sl_clerk")
    path = f"/data/requests/{request_id}/units/{town}"
    assert f'href="{path}"' in page(client, "/inbox/")          # one unit to answer: its form
    assert "待填写" in page(client, path)
    api("sl_clerk").put(f"/api/v1{path}", json={"values": {str(population): 23150}, "version": 0})
    stale = client.post(path, data={"version": "0", f"v-{population}": "23180"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'value="23150"' in html and 'name="version" value="1"' in html
    assert "data-unsaved" in html and "您刚才填的“23180”没有保存" in html
    assert form(api("sl_clerk"), request_id, town)["fields"][0]["value"] == 23150

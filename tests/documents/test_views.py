"""The document pages: the list and search, the draft form, the document with
its step forms, timeline and status board, and the processing sheet (办文单).
Stories: the county office drafts, reviews, signs off, numbers and dispatches;
at the town the clerk signs for, registers and proposes, the leader instructs,
the readers mark 已阅 — all through the pages' own forms."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from markupsafe import escape

from hub.extensions import db
from hub.org.models import Unit
from hub.validation import text_problem
from tests.documents.steps import set_office_prefix
from tests.factories import page
from tests.files import PDF, docx_bytes
from tests.naughty import naughty_strings

TOWN, OFFICE, VILLAGE, OTHER_TOWN = "330802100", "330802-GOV", "330802100202", "330803100"
YEAR = (datetime.now(timezone.utc) + timedelta(hours=8)).year


# ---- helpers ----------------------------------------------------------------------------

def draft(api, ids, login="kc_clerk", **fields) -> int:
    body = {"doc_type": "通知", "title": "关于做好2026年冬季森林防火工作的通知", "urgency": "加急",
            "main_recipients": [ids.unit(TOWN)], "body": "各乡镇（街道）：\n请认真做好冬季森林防火工作。",
            **fields}
    response = api(login).post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def api_step(api, document: int, login: str, action: str, **fields) -> dict:
    response = api(login).post(f"/api/v1/documents/{document}/actions", json={"action": action, **fields})
    assert response.status_code == 200, (action, response.get_json())
    return response.get_json()


def dispatched(app, api, ids, **fields) -> int:
    set_office_prefix(app)
    document = draft(api, ids, **fields)
    for login, action in (("kc_clerk", "review"), ("kc_leader", "sign"), ("kc_clerk", "number"),
                          ("kc_clerk", "dispatch")):
        api_step(api, document, login, action)
    return document


def post_step(client, document: int, action: str, status: int = 302, **fields) -> str:
    response = client.post(f"/documents/{document}/step", data={"action": action, **fields})
    text = response.get_data(as_text=True)
    assert response.status_code == status, (action, response.status_code, alerts(text))
    return text


def step_forms(html: str) -> list[str]:
    return re.findall(r'class="step-form" data-step="(\w+)"', html)


def draft_form(ids, **fields) -> dict:
    form = {"doc_type": "通知", "title": "关于开展冬季安全生产大检查的通知", "urgency": "平件",
            "main_ids": [ids.unit(TOWN)], "body": "各乡镇（街道）：\n请于12月1日前完成自查。",
            "notes": "联系人：吴文书", "deadline": ""}
    form.update(fields)
    return form


def alerts(html: str) -> list[str]:
    return re.findall(r'role="alert"[^>]*>([^<]*)', html)


# ---- Who may open what ----------------------------------------------------------------------

@pytest.mark.parametrize("who", ["kc_clerk", "kc_leader", "sl_clerk"])
def test_the_document_pages_render_for_the_people_in_its_path(app, client, login, api, ids, who):
    document = dispatched(app, api, ids)
    login(who)
    html = page(client, f"/documents/{document}")
    assert "关于做好2026年冬季森林防火工作的通知" in html and f"柯政办发〔{YEAR}〕1号" in html
    assert "签发人：郑主任" in html and "石梁镇：" in html
    assert page(client, "/documents/").count(f'href="/documents/{document}"') >= 1
    assert "石梁镇<br>收文办理单" in page(client, f"/documents/{document}/sheet?unit_id={ids.unit(TOWN)}")
    if who == "sl_clerk":
        assert "各收文单位办理情况" not in html and "发文稿纸" not in html
        assert "石梁镇<br>收文办理单" in page(client, f"/documents/{document}/sheet")
    else:
        assert 'id="board"' in html
        assert "发文稿纸" in page(client, f"/documents/{document}/sheet")


@pytest.mark.parametrize("who", ["sf_member", "qj_admin"])
def test_outsiders_get_404_everywhere(app, client, login, api, ids, who):
    document = dispatched(app, api, ids)
    waiting = draft(api, ids, title="另一份草稿")
    login(who)
    for path in (f"/documents/{document}", f"/documents/{document}/sheet",
                 f"/documents/{document}/sheet?unit_id={ids.unit(TOWN)}", f"/documents/{document}/board",
                 f"/documents/{document}/people", f"/documents/{waiting}", f"/documents/{waiting}/edit",
                 "/documents/999999"):
        page(client, path, status=404)
    assert client.post(f"/documents/{document}/step", data={"action": "sign_for"}).status_code == 404
    assert client.post(f"/documents/{waiting}/edit", data=draft_form(ids)).status_code == 404
    html = page(client, "/documents/")
    assert f'href="/documents/{document}"' not in html and "没有等您办理的公文" in html


def test_a_recipient_sees_only_its_own_units_sheet_and_no_board(app, client, login, api, ids):
    document = dispatched(app, api, ids, main_recipients=[ids.unit(TOWN), ids.unit(OTHER_TOWN)])
    login("sl_clerk")
    page(client, f"/documents/{document}/sheet?unit_id={ids.unit(OTHER_TOWN)}", status=404)
    assert client.get(f"/documents/{document}/board").status_code == 403
    html = page(client, f"/documents/{document}")
    assert "上方镇" in html                                     # named as a main recipient
    assert "各收文单位办理情况" not in html


# ---- The draft form -----------------------------------------------------------------------

def test_the_draft_form_saves_a_draft(client, login, api, ids):
    login("kc_clerk")
    html = page(client, "/documents/new")
    for doc_type in ("决议", "命令", "通知", "请示", "批复", "纪要"):
        assert f'<option value="{doc_type}"' in html
    assert html.count('name="urgency"') == 3 and "涉密公文不得在本系统处理" in html
    assert f'name="main_ids" value="{ids.unit(TOWN)}"' in html          # the units beside one's own
    response = client.post("/documents/new", data=draft_form(
        ids, urgency="特急", copy_ids=[ids.unit(OTHER_TOWN)], deadline="2030-12-01"))
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    document = int(response.headers["Location"].rsplit("/", 1)[1])
    stored = api("kc_clerk").get(f"/api/v1/documents/{document}").get_json()
    assert (stored["title"], stored["urgency"], stored["status"]) == (
        "关于开展冬季安全生产大检查的通知", "特急", "draft")
    assert stored["main_recipients"] == [ids.unit(TOWN)]
    assert stored["copy_recipients"] == [ids.unit(OTHER_TOWN)]
    assert (stored["notes"], stored["deadline"], stored["body"]) == (
        "联系人：吴文书", "2030-12-01", "各乡镇（街道）：\n请于12月1日前完成自查。")
    html = page(client, f"/documents/{document}")
    assert "草稿已保存" in html and "发文字号待编号" in html and "抄送：上方镇。" in html
    assert "（联系人：吴文书）" in html and "办理时限</dt><dd>2030年12月1日" in html
    assert step_forms(html) == ["review"] and f'href="/documents/{document}/edit"' in html


@pytest.mark.parametrize("fields,field_id,message,status", [
    ({"title": ""}, "d-title-error", "标题不能为空", 400),
    ({"main_ids": []}, "recipients-error", "请选择主送单位", 400),
    ({"copy_ids": ["TOWN"]}, "recipients-error", "同一单位不能既主送又抄送", 400),
    ({"deadline": "明年"}, "d-deadline-error", "日期格式应为 YYYY-MM-DD", 400),
    ({"doc_type": "便函"}, "d-type-error", "文种应为", 400),
    ({"urgency": "十万火急"}, "d-urgency-error", "紧急程度应为", 400),
    ({"notes": "注" * 501}, "d-notes-error", "附注", 400),
])
def test_a_refused_draft_shows_the_message_next_to_the_field(client, login, ids, fields, field_id, message,
                                                            status):
    login("kc_clerk")
    if fields.get("copy_ids") == ["TOWN"]:
        fields["copy_ids"] = [ids.unit(TOWN)]
    response = client.post("/documents/new", data=draft_form(ids, **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == status, alerts(html)
    assert f'id="{field_id}"' in html and message in html and "未能保存" in html
    if fields.get("title") != "":
        assert 'value="关于开展冬季安全生产大检查的通知"' in html            # what was typed stays
    assert "请于12月1日前完成自查。</textarea>" in html


def test_a_retired_unit_is_refused(app, client, login, ids):
    with app.app_context():
        db.session.get(Unit, ids.unit(OTHER_TOWN)).active = False
        db.session.commit()
    login("kc_clerk")
    response = client.post("/documents/new", data=draft_form(ids, main_ids=[ids.unit(OTHER_TOWN)]))
    assert response.status_code == 400 and "有不存在或已撤销的单位" in response.get_data(as_text=True)


def test_find_and_browse_the_tree_keep_what_was_typed(client, login, ids):
    login("kc_clerk")
    town, village, other = ids.unit(TOWN), ids.unit(VILLAGE), ids.unit(OTHER_TOWN)
    html = client.post("/documents/new", data=draft_form(ids, unit_q="上方镇", find="units")).text
    listed = html.split('id="doc-units"')[1].split("</ul>")[0]
    # Documents may go anywhere in the tree, also outside the drafter's county.
    assert f'name="main_ids" value="{other}"' in listed
    assert f'id="dm-{town}" name="main_ids" value="{town}" checked' in listed
    assert 'value="关于开展冬季安全生产大检查的通知"' in html
    html = client.post("/documents/new", data=draft_form(ids, browse=str(town))).text
    assert "正在列出石梁镇的下级单位" in html and f'name="main_ids" value="{village}"' in html
    assert f'name="browse" value="{ids.unit("330802")}"' in html                    # 返回上一级
    # 全部主送: every unit under the one browsed, in one click.
    html = client.post("/documents/new", data=draft_form(ids, main_ids=[], all_main=str(town))).text
    assert f'id="dm-{village}" name="main_ids" value="{village}" checked' in html
    assert f'id="dm-{town}" name="main_ids" value="{town}" checked' not in html
    found = client.get("/documents/units/choices?q=上方").get_json()["items"]
    assert [(u["name"], u["trail"]) for u in found] == [("上方镇", "衢州市 › 衢江区")]
    below = client.get(f"/documents/units/choices?parent_id={town}").get_json()
    assert [u["name"] for u in below["items"]] == ["麻蓬村委会"] and below["parent"]["name"] == "石梁镇"
    assert client.get("/documents/units/choices?parent_id=999999").status_code == 404
    assert client.get("/documents/units/choices?q=").get_json() == {"items": []}


def test_files_are_uploaded_kept_across_re_renders_and_captioned(client, login, api, ids):
    login("kc_clerk")
    upload = {"files": [(io.BytesIO(PDF), "通知正文.pdf"),
                        (io.BytesIO(docx_bytes()), "排查表.docx")],
              "first_is_body": "1", "find": "upload"}
    response = client.post("/documents/new", data={**draft_form(ids), **upload},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, alerts(html)
    ids_shown = [int(i) for i in re.findall(r'name="attachment_ids" value="(\d+)" checked', html)]
    assert len(ids_shown) == 2
    body_file, attachment = ids_shown
    assert f'id="db-{body_file}" name="body_file" value="{body_file}" checked' in html
    assert f'name="caption_{attachment}"' in html
    # Refused (no title): the uploads stay listed, nothing is asked twice.
    form = {**draft_form(ids, title=""), "attachment_ids": ids_shown, "body_file": str(body_file),
            f"caption_{attachment}": "森林防火隐患排查表"}
    refused = client.post("/documents/new", data=form)
    assert refused.status_code == 400
    assert 'value="森林防火隐患排查表"' in refused.text and f'value="{attachment}" checked' in refused.text
    saved = client.post("/documents/new", data={**form, "title": "关于开展隐患排查的通知"})
    assert saved.status_code == 302
    document = int(saved.headers["Location"].rsplit("/", 1)[1])
    files = api("kc_clerk").get(f"/api/v1/documents/{document}").get_json()["files"]
    assert [(f["filename"], f["is_body"], f["caption"]) for f in files] == [
        ("通知正文.pdf", True, None), ("排查表.docx", False, "森林防火隐患排查表")]
    html = page(client, f"/documents/{document}")
    assert f'/api/v1/documents/{document}/files/{body_file}?preview=1' in html
    assert f'/api/v1/documents/{document}/files/{attachment}"' in html
    assert f'/api/v1/documents/{document}/files/{attachment}?preview=1' not in html     # only PDFs preview
    assert "附件：</span><ol><li>森林防火隐患排查表</li>" in html


def test_a_file_that_is_not_what_it_claims_is_refused_on_the_form(client, login, ids):
    login("kc_clerk")
    response = client.post("/documents/new", data={**draft_form(ids), "files": [
        (io.BytesIO(b"MZ\x90\x00 not a pdf"), "正文.pdf")]}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="d-files-error"' in html and "文件内容与扩展名 .pdf 不符" in html


def test_editing_a_draft(app, client, login, api, ids):
    document = draft(api, ids)
    login("kc_clerk")
    html = page(client, f"/documents/{document}/edit")
    assert 'value="关于做好2026年冬季森林防火工作的通知"' in html and "修改草稿" in html
    assert f'id="dm-{ids.unit(TOWN)}" name="main_ids" value="{ids.unit(TOWN)}" checked' in html
    assert 'value="加急" checked' in html
    changed = "关于做好冬季防火工作的通知（修改稿）"
    response = client.post(f"/documents/{document}/edit", data=draft_form(ids, title=changed))
    assert response.status_code == 302
    assert api("kc_clerk").get(f"/api/v1/documents/{document}").get_json()["title"] == changed
    login("kc_leader")                                     # issuing side, but neither author nor clerk
    page(client, f"/documents/{document}/edit", status=403)
    api_step(api, document, "kc_clerk", "review")
    login("kc_clerk")
    assert "已核稿的公文请先退回" in page(client, f"/documents/{document}/edit", status=409)


def test_a_reply_to_a_request_is_drafted_from_the_request(app, client, login, api, ids):
    request_id = draft(api, ids, login="sl_clerk", doc_type="请示", title="关于申请防火物资的请示",
                       main_recipients=[ids.unit(OFFICE)])
    for login_name, action in (("sl_clerk", "review"), ("sl_leader", "sign"), ("sl_clerk", "number"),
                               ("sl_clerk", "dispatch"), ("kc_clerk", "sign_for")):
        api_step(api, request_id, login_name, action)
    login("kc_clerk")
    assert f'href="/documents/new?replies_to={request_id}"' in page(client, f"/documents/{request_id}")
    form = page(client, f"/documents/new?replies_to={request_id}")
    assert '<option value="批复" selected>' in form and "关于申请防火物资的请示" in form
    assert f'name="replies_to_id" value="{request_id}"' in form
    assert f'id="dm-{ids.unit(TOWN)}" name="main_ids" value="{ids.unit(TOWN)}" checked' in form
    response = client.post("/documents/new", data=draft_form(
        ids, doc_type="批复", title="关于同意拨付防火物资的批复", replies_to_id=str(request_id)))
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    reply = int(response.headers["Location"].rsplit("/", 1)[1])
    assert api("kc_clerk").get(f"/api/v1/documents/{reply}").get_json()["replies_to_id"] == request_id
    assert f'href="/documents/{request_id}"' in page(client, f"/documents/{reply}")
    login("sf_member")
    page(client, f"/documents/new?replies_to={request_id}", status=404)


# ---- The outgoing flow through the pages ----------------------------------------------------

def test_the_county_office_reviews_signs_numbers_and_dispatches_on_the_page(app, client, login, api, ids):
    set_office_prefix(app)
    login("kc_clerk")
    response = client.post("/documents/new", data=draft_form(ids))
    document = int(response.headers["Location"].rsplit("/", 1)[1])
    # Out of order, or by the wrong role: the page says why, with 409 / 403.
    assert "须编号后才能分发" in post_step(client, document, "dispatch", status=409)
    assert "签发须由发文单位的领导办理" in post_step(client, document, "sign", status=403)
    post_step(client, document, "review", comment="文字已核")
    login("kc_leader")
    html = page(client, f"/documents/{document}")
    assert step_forms(html) == ["sign", "return"]
    assert "核稿须由发文单位的文书办理" in post_step(client, document, "review", status=403)
    assert "请写明退回的理由" in post_step(client, document, "return", status=400)
    post_step(client, document, "sign", comment="同意印发")
    login("kc_clerk")
    assert step_forms(page(client, f"/documents/{document}")) == ["number"]
    post_step(client, document, "number")
    assert step_forms(page(client, f"/documents/{document}")) == ["dispatch"]
    post_step(client, document, "dispatch")
    html = page(client, f"/documents/{document}")
    assert "已分发到各收文单位" in html and f"柯政办发〔{YEAR}〕1号" in html and step_forms(html) == []
    timeline = html.split('class="timeline"')[1]
    assert re.findall(r'class="tl-action">([^<]+)', timeline) == ["拟稿", "核稿", "签发", "登记编号", "核发"]
    assert "文字已核" in timeline and "同意印发" in timeline and "郑主任" in timeline
    assert "已分发" in post_step(client, document, "dispatch", status=409)


# ---- The incoming flow through the pages ----------------------------------------------------

def test_the_town_signs_for_registers_proposes_instructs_and_circulates(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    leader, secretary = ids.user("sl_leader"), ids.user("mp_secretary")
    login("sl_clerk")
    assert step_forms(page(client, f"/documents/{document}")) == ["sign_for"]
    assert "须先签收才能登记" in post_step(client, document, "register", status=409)
    post_step(client, document, "sign_for")
    post_step(client, document, "register")
    html = page(client, f"/documents/{document}")
    assert step_forms(html) == ["propose", "circulate"] and "收文〔" in html
    refused = post_step(client, document, "propose", status=400)
    assert 'id="c-propose-error"' in refused and "请填写拟办意见" in refused
    post_step(client, document, "propose", comment="拟请徐书记阅示，交党政办落实。")
    assert "批办须由收文单位的领导办理" in post_step(client, document, "instruct", status=403,
                                                    comment="同意")
    login("sl_leader")
    html = page(client, f"/documents/{document}")
    assert "instruct" in step_forms(html) and "拟请徐书记阅示" in html
    post_step(client, document, "instruct", comment="同意拟办意见，请王建军牵头落实。")
    assert "已批办" in post_step(client, document, "instruct", status=409, comment="再批")
    login("sl_clerk")
    html = page(client, f"/documents/{document}")
    assert step_forms(html) == ["assign", "circulate", "complete", "reply"]
    assert f'id="assign-p{leader}"' in html                              # the town's own people listed
    found = page(client, f"/documents/{document}?people_q=王建军")       # and people below, found by name
    assert f'id="assign-p{secretary}"' in found and f'id="circulate-p{secretary}"' in found
    assert client.get(f"/documents/{document}/people?q=王").get_json()["items"][0]["name"] == "王建军"
    post_step(client, document, "assign", user_ids=[secretary], lead_id=str(secretary),
              comment="请于月底前完成")
    # 依次传阅: the order typed next to each reader.
    post_step(client, document, "circulate", user_ids=[leader, secretary], in_order="1",
              **{f"order_{secretary}": "1", f"order_{leader}": "2"})
    login("sl_leader")
    html = page(client, f"/documents/{document}")
    assert "mark_read" not in step_forms(html) and "前面的人阅毕后轮到您" in html
    assert "还没轮到您阅" in post_step(client, document, "mark_read", status=409)
    login("mp_secretary")
    html = page(client, f"/documents/{document}")
    assert "mark_read" in step_forms(html) and "complete" in step_forms(html)
    post_step(client, document, "mark_read", comment="已阅，按要求落实。")
    login("sl_leader")
    post_step(client, document, "mark_read", comment="阅。")
    login("mp_secretary")
    post_step(client, document, "complete", comment="已完成排查。")
    post_step(client, document, "reply", comment="我镇已完成全部隐患排查。")
    login("sl_clerk")
    post_step(client, document, "archive")
    html = page(client, f"/documents/{document}")
    timeline = re.findall(r'class="tl-action">([^<]+)', html.split('class="timeline"')[1])
    assert timeline == ["拟稿", "核稿", "签发", "登记编号", "核发", "签收", "登记", "拟办", "批办", "交办",
                        "传阅", "已阅", "已阅", "办结", "答复", "归档"]
    # The 办文单 carries every comment.
    sheet = page(client, f"/documents/{document}/sheet")
    for text in ("拟请徐书记阅示，交党政办落实。", "同意拟办意见，请王建军牵头落实。", "王建军（主办）",
                 "已阅，按要求落实。", "阅。", "已完成排查。", "我镇已完成全部隐患排查。",
                 f"柯政办发〔{YEAR}〕1号", f"收文〔{YEAR}〕1号", 'data-print hidden>打印</button>'):
        assert text in sheet, text
    assert sheet.index("王建军</span>") < sheet.index("徐志强</span>")      # readers in their order


def test_the_panel_says_where_it_stands_who_holds_it_and_what_is_next(app, client, login, api, ids):
    """After each step the page says the unit's own state, who holds it, and the
    one or two steps that move it on; the other steps are behind 更多."""
    document = dispatched(app, api, ids)
    leader, secretary = ids.user("sl_leader"), ids.user("mp_secretary")
    login("sl_clerk")
    panel = page(client, f"/documents/{document}").split("data-next-panel")[1].split("</div>")[0]
    assert "待签收" in panel and "周晓梅" in panel and "请您办理：<strong>签收</strong>" in panel
    post_step(client, document, "sign_for")
    post_step(client, document, "register")
    html = page(client, f"/documents/{document}")
    more = html.split('class="more-steps"')[1].split("</details>")[0]
    assert 'data-step="circulate"' in more and 'data-step="propose"' not in more
    # 送领导批办 names the leader (the only one is ticked), and only a leader of the unit.
    assert f'id="propose-p{leader}" name="user_ids" value="{leader}" checked' in html
    refused = post_step(client, document, "propose", status=400, comment="拟请阅示。", user_ids=[secretary])
    assert "只能送石梁镇的领导批办" in refused
    post_step(client, document, "propose", comment="拟请徐书记阅示。", user_ids=[leader])
    html = page(client, f"/documents/{document}")
    assert "送徐志强批办" in html
    panel = html.split("data-next-panel")[1].split("</div>")[0]
    assert "待批办" in panel and "徐志强" in panel and "目前没有等您办理的步骤" in panel
    # 批办 names the handlers at once: it is being handled, by them.
    login("sl_leader")
    html = page(client, f"/documents/{document}")
    assert f'id="instruct-lead-{leader}"' in html
    post_step(client, document, "instruct", comment="请王建军牵头落实。", user_ids=[secretary])
    login("sl_clerk")
    html = page(client, f"/documents/{document}")
    panel = html.split("data-next-panel")[1].split("</div>")[0]
    assert "办理中" in panel and '王建军<span class="muted">（主办）' in panel
    assert "请您办理：<strong>办结</strong>、<strong>答复发文单位</strong>" in panel
    more = html.split('class="more-steps"')[1].split("</details>")[0]
    assert step_forms(more) == ["assign", "circulate", "remind"]
    document_json = api("sl_clerk").get(f"/api/v1/documents/{document}").get_json()
    tasks = document_json["recipients"][0]["tasks"]
    assert [(t["name"], t["kind"]) for t in tasks] == [("王建军", "handle")]
    # A refused step behind 更多 opens it, with the reason.
    html = post_step(client, document, "assign", status=400)
    assert '<details class="more-steps" open>' in html


def test_the_sheet_says_who_finished_and_prints_the_year(app, client, login, api, ids):
    """办文单: a co-handler who never acted is not "已办结"; printed times carry the year."""
    document = dispatched(app, api, ids)
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    secretary, director = ids.user("mp_secretary"), ids.user("mp_director")
    api_step(api, document, "sl_leader", "instruct", comment="同意。", user_ids=[secretary, director],
             lead_id=secretary)
    api_step(api, document, "mp_secretary", "complete", comment="已完成。")
    login("sl_clerk")
    sheet = page(client, f"/documents/{document}/sheet")
    handlers = sheet.split("承办</th>")[1].split("</td>")[0]
    assert re.search(r"王建军（主办）\s*<span class=\"muted\">已办结</span>", handlers)
    assert "李秀英" in handlers and handlers.count("已办结") == 1
    assert f"{YEAR}年" in sheet.split("签收时间</th>")[1].split("</td>")[0]


def test_a_reader_outside_the_path_cannot_mark_read(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    api_step(api, document, "sl_clerk", "circulate", user_ids=[ids.user("mp_director")])
    login("mp_secretary")                               # not circulated to: not in the path at all
    page(client, f"/documents/{document}", status=404)
    login("sl_leader")                                  # in the path, but not a reader
    assert "该公文没有传阅给您" in post_step(client, document, "mark_read", status=403)
    login("mp_director")
    html = page(client, f"/documents/{document}")
    assert step_forms(html) == ["mark_read"]
    post_step(client, document, "mark_read")
    assert "您已阅过" in post_step(client, document, "mark_read", status=409)


def test_an_unknown_action_is_a_400_on_the_page(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    login("sl_clerk")
    assert "action 应为" in post_step(client, document, "approve", status=400)
    assert "action 应为" in post_step(client, document, "", status=400)


# ---- The status board ------------------------------------------------------------------------

def test_the_status_board_lists_units_in_tree_order_and_highlights_overdue(app, client, login, api, ids):
    document = dispatched(app, api, ids, deadline="2020-01-31",
                          main_recipients=[ids.unit(OTHER_TOWN), ids.unit(VILLAGE), ids.unit(TOWN)],
                          copy_recipients=[ids.unit("330802")])
    api_step(api, document, "sl_clerk", "sign_for")
    login("kc_clerk")
    html = page(client, f"/documents/{document}")
    board = html.split('id="board"')[1].split("</section>")[0]
    names = [n.strip() for n in re.findall(r'class="board-name[^"]*">([^<]+)', board)]
    assert names == ["柯城区", "石梁镇", "麻蓬村委会", "上方镇"]          # tree order, not speed
    assert 'class="board-name indent-1">石梁镇' in board and 'class="board-name indent-2">麻蓬村委会' in board
    assert board.count('class="is-overdue"') == 4 and "已逾期" in board
    assert "%" not in board and "排名" not in board.replace("不排名", "")
    assert 'data-count="pending">3<' in board and 'data-count="open">1<' in board
    row = board.split(f'data-unit-id="{ids.unit(TOWN)}"')[1].split("</tr>")[0]
    assert "已签收" in row and f"{(datetime.now(timezone.utc) + timedelta(hours=8)).month}月" in row
    live = client.get(f"/documents/{document}/board").get_json()
    assert [i["unit_id"] for i in live["items"]] == [
        ids.unit(c) for c in ("330802", TOWN, VILLAGE, OTHER_TOWN)]
    assert live["items"][1]["status_label"] == "已签收" and live["items"][1]["signed_for"]
    assert live["counts"]["units"] == 4 and live["items"][0]["overdue"]


def test_each_side_sees_its_own_status_and_filters_by_it(app, client, login, api, ids):
    """The town's list shows the town's own state (已办结), not the sender's 已分发;
    the status filter offers both sides' states and a recipient state finds the
    documents at that state at the person's own unit."""
    document = dispatched(app, api, ids)
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    api_step(api, document, "sl_leader", "instruct", comment="同意。")
    api_step(api, document, "sl_clerk", "complete")

    def listed(query: str = "") -> list[str]:
        html = page(client, f"/documents/{query}")
        found = html.split('id="list-h"')[1]
        return re.findall(rf'data-id="{document}".*?class="item-mark[^"]*">([^<]+)', found, re.S)

    login("sl_clerk")
    assert listed() == ["已办结"]
    assert listed("?status=done") == ["已办结"] and listed("?status=pending") == []
    html = page(client, "/documents/")
    assert '<optgroup label="发文办理">' in html and '<optgroup label="收文办理">' in html
    assert '<option value="handling">办理中</option>' in html
    login("kc_clerk")
    assert listed() == ["已分发"] and listed("?status=done") == []
    assert [d["id"] for d in api("sl_clerk").get("/api/v1/documents?status=done").get_json()["items"]] == \
        [document]
    assert api("sl_clerk").get("/api/v1/documents?status=finished").status_code == 400


def test_remind_a_unit_once_every_four_hours(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    town = ids.unit(TOWN)
    login("kc_clerk")
    post_step(client, document, "remind", unit_id=str(town))
    html = page(client, f"/documents/{document}")
    assert "已提醒" in html and 'data-cell="reminded">已提醒' in html
    again = post_step(client, document, "remind", status=429, unit_id=str(town))
    assert 'class="flash flash-error" role="alert"' in again and "每 4 小时最多提醒一个单位一次" in again
    assert 'id="board"' in again                                   # the page, with its board, again
    login("kc_leader")                                             # may see the board, not remind
    html = page(client, f"/documents/{document}")
    assert 'id="board"' in html and "data-remind" not in html
    assert "只有拟稿人和发文单位的文书可以提醒收文单位" in post_step(client, document, "remind", status=403,
                                                                   unit_id=str(town))


# ---- Lists and search -------------------------------------------------------------------------

def test_the_documents_page_lists_what_waits_and_searches(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    other = draft(api, ids, title="关于报送年度工作总结的函", doc_type="函", urgency="平件")
    login("sl_clerk")
    html = page(client, "/documents/")
    waiting = html.split('id="waiting-h"')[1].split("</section>")[0]
    assert f'href="/documents/{document}"' in waiting and "待签收" in waiting and "加急" in waiting
    assert f'href="/documents/{other}"' not in html                  # a draft of the county office
    login("kc_clerk")
    html = page(client, "/documents/")
    waiting = html.split('id="waiting-h"')[1].split("</section>")[0]
    assert f'href="/documents/{other}"' in waiting and "待核稿" in waiting
    for query, expected in ((f"q=柯政办发〔{YEAR}〕1号", [document]), ("q=年度工作总结", [other]),
                            ("doc_type=函", [other]), (f"issuer_id={ids.unit(OFFICE)}", [other, document]),
                            ("status=dispatched", [document]), ("since=2000-01-01&until=2000-12-31", []),
                            ("q=%25", [])):
        found = page(client, f"/documents/?{query}").split('id="list-h"')[1]
        assert [int(i) for i in re.findall(r'href="/documents/(\d+)"', found)] == expected, query
    bad = client.get("/documents/?since=昨天")
    assert bad.status_code == 400 and "请填写正确的日期" in bad.get_data(as_text=True)


def test_the_list_pages_back(app, client, login, api, ids, monkeypatch):
    from hub.documents import views
    monkeypatch.setattr(views, "PAGE", 2)
    made = [draft(api, ids, title=f"第{n}号草稿") for n in range(3)]
    login("kc_clerk")
    first = page(client, "/documents/").split('id="list-h"')[1]
    assert [int(i) for i in re.findall(r'href="/documents/(\d+)"', first)] == made[:0:-1]
    more = re.search(r'href="(/documents/\?before=\d+)"', first).group(1)
    second = page(client, more).split('id="list-h"')[1]
    assert [int(i) for i in re.findall(r'href="/documents/(\d+)"', second)] == [made[0]]
    assert "回到最新" in second


# ---- Naughty text -----------------------------------------------------------------------------

def test_naughty_strings_are_stored_exactly_and_rendered_escaped(app, client, login, api, ids):
    login("kc_clerk")
    risky = [s for s in naughty_strings() if any(c in s for c in "<>&\"'{}")]
    assert len(risky) > 50
    shown = 0
    for raw in risky:
        text = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
        if text_problem(text.strip(), max_length=200) is not None:
            continue
        response = client.post("/documents/new", data=draft_form(ids, title=text, body=text))
        assert response.status_code == 302, (text, alerts(response.get_data(as_text=True)))
        document = int(response.headers["Location"].rsplit("/", 1)[1])
        stored = api("kc_clerk").get(f"/api/v1/documents/{document}").get_json()
        assert stored["title"] == text.strip() and stored["body"] == text.replace("\r\n", "\n")
        html = page(client, f"/documents/{document}")
        assert str(escape(text.strip())) in html, text
        shown += 1
    assert shown > 50
    # A comment on a step, on the page, the sheet and the list.
    document = dispatched(app, api, ids, title="<script>alert(1)</script>")
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    comment = "<img src=x onerror=alert(1)>\n{{7*7}} {% raw %}'\"&"
    login("sl_clerk")
    post_step(client, document, "propose", comment=comment)
    for path in (f"/documents/{document}", f"/documents/{document}/sheet", "/documents/", "/inbox/"):
        html = page(client, path)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;\n{{7*7}} {% raw %}&#39;&#34;&amp;" in page(
        client, f"/documents/{document}/sheet")

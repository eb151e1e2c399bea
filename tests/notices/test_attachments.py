"""Attachments on notices: uploaded first, named when publishing, readable by
exactly the people who can open the notice, carried over by a correction."""
from __future__ import annotations

import io

from tests.channels.test_attachments import upload
from tests.factories import notice_body, post_to_town, publish_to_town
from tests.files import PDF, docx_bytes


def test_a_notice_carries_its_files_to_its_audience_only(api, ids):
    office = api("kc_clerk")
    first = upload(office, "排查表.docx", docx_bytes()).get_json()["id"]
    second = upload(office, "通知原件.pdf", PDF).get_json()["id"]
    created = post_to_town(office, ids, attachment_ids=[second, first])
    assert created.status_code == 201, created.get_json()
    assert [a["filename"] for a in created.get_json()["attachments"]] == ["通知原件.pdf", "排查表.docx"]
    notice = created.get_json()["id"]
    opened = api("mp_secretary").get(f"/api/v1/notices/{notice}").get_json()
    assert [a["id"] for a in opened["attachments"]] == [second, first]
    download = api("mp_secretary").get(f"/api/v1/attachments/{second}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert api("kc_admin").get(f"/api/v1/attachments/{second}").status_code == 200     # follows it up
    for outsider in ("sf_member", "kc_leader", "qj_admin"):
        assert api(outsider).get(f"/api/v1/attachments/{second}").status_code == 404, outsider


def test_files_of_others_or_already_used_are_refused(api, ids):
    office = api("kc_clerk")
    theirs = upload(api("kc_leader"), "别人的.pdf", PDF).get_json()["id"]
    refused = post_to_town(office, ids, attachment_ids=[theirs])
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "attachment_ids"
    mine = upload(office, "值班表.pdf", PDF).get_json()["id"]
    assert post_to_town(office, ids, attachment_ids=[mine]).status_code == 201
    again = post_to_town(office, ids, attachment_ids=[mine])
    assert again.status_code == 400 and again.get_json()["error"]["field"] == "attachment_ids"
    # ... nor can a file on a notice be put on a message.
    channel = next(c["id"] for c in office.get("/api/v1/channels").get_json()["items"] if c["kind"] == "unit")
    sent = office.post(f"/api/v1/channels/{channel}/messages",
                       json={"body": "见附件", "attachment_ids": [mine]})
    assert sent.status_code == 400 and sent.get_json()["error"]["field"] == "attachment_ids"
    for bad in (["1"], [True], list(range(1, 30)), "7"):
        response = post_to_town(office, ids, attachment_ids=bad)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "attachment_ids"
    # A refused publish leaves nothing behind.
    assert office.get("/api/v1/inbox").get_json()["items"] == []


def test_a_correction_keeps_the_old_files_and_may_add_new_ones(api, ids):
    office = api("kc_clerk")
    old_file = upload(office, "方案.pdf", PDF).get_json()["id"]
    notice = publish_to_town(api, ids, attachment_ids=[old_file])
    new_file = upload(office, "方案（修订）.docx", docx_bytes()).get_json()["id"]
    corrected = office.post(f"/api/v1/notices/{notice}/correct", json=notice_body(
        {"subtrees": [ids.unit("330802100")]}, attachment_ids=[old_file, new_file]))
    assert corrected.status_code == 201, corrected.get_json()
    assert [a["id"] for a in corrected.get_json()["attachments"]] == [old_file, new_file]
    reader = api("mp_director")
    assert reader.get(f"/api/v1/attachments/{old_file}").status_code == 200
    assert reader.get(f"/api/v1/attachments/{new_file}").status_code == 200


def test_the_compose_page_uploads_keeps_and_shows_files(client, login, api, ids):
    login("kc_clerk")
    town = ids.unit("330802100")
    form = {"title": "关于开展森林防火检查的通知", "summary": "11月30日前各村完成自查", "body": "",
            "publish_at": "", "deadline": "", "subtree_ids": [town]}
    # 计算送达人数 re-renders the form: the file is stored and kept as a checked box.
    html = client.post("/notices/new", data={**form, "find": "preview",
                                              "files": (io.BytesIO(PDF), "检查表.pdf")},
                       content_type="multipart/form-data").text
    assert "检查表.pdf" in html
    kept = int(html.split('name="attachment_ids" value="')[1].split('"')[0])
    # A file that is not what its name says is refused on the form, naming the field.
    bad = client.post("/notices/new", data={**form, "attachment_ids": [kept],
                                            "files": (io.BytesIO(b"<html>x</html>"), "假的.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "文件内容与扩展名 .pdf 不符" in bad.text and "检查表.pdf" in bad.text
    published = client.post("/notices/new", data={**form, "attachment_ids": [kept]},
                            content_type="multipart/form-data")
    assert published.status_code == 302, published.text[:2000]
    notice = int(published.headers["Location"].rsplit("/", 1)[1])
    login("mp_secretary")
    page = client.get(f"/notices/{notice}").text
    assert f"/api/v1/attachments/{kept}" in page and "检查表.pdf" in page

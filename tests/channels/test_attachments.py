"""Attachments: checked by content, stored outside the web root, re-authorized."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.files import PDF, docx_bytes


def upload(person, name: str, data: bytes):
    return person.post("/api/v1/attachments", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def village_channel(person) -> int:
    return next(c["id"] for c in person.get("/api/v1/channels").get_json()["items"]
                if c["name"] == "麻蓬村委会")


def test_attachment_travels_with_a_message_and_only_readers_can_fetch_it(api, app):
    secretary = api("mp_secretary")
    uploaded = upload(secretary, "值班表.pdf", PDF)
    assert uploaded.status_code == 201
    attachment = uploaded.get_json()
    assert attachment["content_type"] == "application/pdf"
    channel = village_channel(secretary)
    message = secretary.post(f"/api/v1/channels/{channel}/messages", json={
        "body": "值班表见附件", "attachment_ids": [attachment["id"]]}).get_json()
    assert [a["filename"] for a in message["attachments"]] == ["值班表.pdf"]
    download = api("mp_director").get(f"/api/v1/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert api("sf_member").get(f"/api/v1/attachments/{attachment['id']}").status_code == 404
    stored = list((Path(app.instance_path) / "attachments").iterdir())
    assert len(stored) == 1 and "值班表" not in stored[0].name


def test_an_unsent_attachment_belongs_to_its_uploader_only(api):
    attachment = upload(api("mp_secretary"), "a.pdf", PDF).get_json()
    assert api("mp_director").get(f"/api/v1/attachments/{attachment['id']}").status_code == 404
    channel = village_channel(api("mp_director"))
    stolen = api("mp_director").post(f"/api/v1/channels/{channel}/messages", json={
        "body": "x", "attachment_ids": [attachment["id"]]})
    assert stolen.status_code == 400 and stolen.get_json()["error"]["field"] == "attachment_ids"


@pytest.mark.parametrize("name,data", [
    ("report.pdf", b"<html><script>alert(1)</script></html>"),
    ("notes.txt", b"<!DOCTYPE html><html></html>"),
    ("photo.png", PDF),
    ("tool.exe", b"MZ\x90\x00"),
    ("empty.pdf", b""),
])
def test_files_whose_content_does_not_match_are_refused(api, name, data):
    response = upload(api("mp_secretary"), name, data)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "file"


def test_a_zip_bomb_posing_as_docx_is_refused(api):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"0" * (30 * 1024 * 1024))
    response = upload(api("mp_secretary"), "bomb.docx", buffer.getvalue())
    assert response.status_code == 400


def test_real_office_files_are_accepted(api):
    assert upload(api("mp_secretary"), "方案.docx", docx_bytes()).status_code == 201


def test_over_the_limit_is_413(make_app, database_uri):
    app = make_app(database_uri, ATTACHMENT_MAX_BYTES=1024)
    client = app.test_client()
    from tests.cast import PASSWORD
    token = client.post("/api/v1/auth/token", json={"login": "mp_secretary",
                                                     "password": PASSWORD}).get_json()["token"]
    response = client.post("/api/v1/attachments", headers={"Authorization": f"Bearer {token}"},
                           data={"file": (io.BytesIO(PDF + b"0" * 2048), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413


def test_the_channel_page_links_the_attachment(api, client, login):
    secretary = api("mp_secretary")
    attachment = upload(secretary, "名单.pdf", PDF).get_json()
    channel = village_channel(secretary)
    secretary.post(f"/api/v1/channels/{channel}/messages",
                   json={"body": "名单见附件", "attachment_ids": [attachment["id"]]})
    login("mp_director")
    page = client.get(f"/channels/{channel}").get_data(as_text=True)
    assert f"/api/v1/attachments/{attachment['id']}" in page and "名单.pdf" in page


def test_the_composer_form_sends_a_file_with_the_message(api, client, login):
    login("mp_secretary")
    channel = village_channel(api("mp_secretary"))
    response = client.post(f"/channels/{channel}/messages", data={
        "body": "请看方案", "client_msg_id": "form-file-1", "file": (io.BytesIO(docx_bytes()), "方案.docx")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    items = api("mp_director").get(f"/api/v1/channels/{channel}/messages").get_json()["items"]
    shown = [(m["body"], [a["filename"] for a in m["attachments"]]) for m in items]
    assert shown == [("请看方案", ["方案.docx"])]
    refused = client.post(f"/channels/{channel}/messages", data={
        "body": "坏文件", "client_msg_id": "form-file-2", "file": (io.BytesIO(b"<html>"), "x.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 400 and "不符" in refused.get_data(as_text=True)

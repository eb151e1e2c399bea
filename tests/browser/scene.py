"""Setting the scene for a journey through the JSON API: a notice to read, a channel
message to answer, a document to sign for. Every journey runs at two sizes on one
hub, so what it creates carries the size in its title to stay apart."""
from __future__ import annotations

from datetime import date, timedelta

VILLAGE = "330802100202"        # 麻蓬村委会, in 石梁镇
TOWN = "330802100"              # 石梁镇


def unit_id(hub_api, code: str) -> int:
    return hub_api.as_("admin").get(f"/units?code={code}")["items"][0]["id"]


def person_id(hub_api, login: str) -> int:
    return hub_api.as_(login).get("/me")["id"]


def unit_channel_id(hub_api, login: str) -> int:
    """The channel of `login`'s own unit."""
    return next(c["id"] for c in hub_api.as_(login).get("/channels")["items"] if c["kind"] == "unit")


def publish_notice(hub_api, publisher: str, title: str, *, units: list[int], urgent_reason: str | None = None,
                   requires_ack: bool = True) -> int:
    """A notice to `units` (each a single unit), published now; returns its id."""
    body = {"title": title, "summary": f"{title}：请于本周五前完成排查并签收。", "body": "具体要求见正文。",
            "audience": {"units": units}, "requires_ack": requires_ack}
    if urgent_reason:
        body.update(urgent=True, urgent_reason=urgent_reason)
    return hub_api.as_(publisher).post("/notices", body)["id"]


def post_message(hub_api, login: str, channel_id: int, body: str, topic: str | None = None) -> int:
    return hub_api.as_(login).post(f"/channels/{channel_id}/messages", {"body": body, "topic": topic})["id"]


def dispatched_document(hub_api, title: str, to_unit: int) -> int:
    """A 通知 of 柯城区政府办公室 taken through 核稿, 签发, 编号 and 分发 to `to_unit`."""
    clerk, leader = hub_api.as_("d02.clerk"), hub_api.as_("d02.leader")
    document = clerk.post("/documents", {"doc_type": "通知", "title": title, "main_recipients": [to_unit],
                                         "body": f"{title}。\n\n请认真组织实施。"})["id"]
    clerk.post(f"/documents/{document}/actions", {"action": "review"})
    leader.post(f"/documents/{document}/actions", {"action": "sign", "comment": "同意。"})
    clerk.post(f"/documents/{document}/actions", {"action": "number"})
    clerk.post(f"/documents/{document}/actions", {"action": "dispatch"})
    return document


def last_year() -> str:
    """The year the demo holds figures for (tests/test_demo.py: the year before this one, in Beijing)."""
    from hub.times import beijing_today
    return str(beijing_today().year - 1)


def data_field_ids(hub_api, *codes: str) -> list[int]:
    """The catalogue ids of the demo's fields with these codes (hub/demo_datarequests.py)."""
    ids = []
    for code in codes:
        items = hub_api.as_("admin").get(f"/data/fields?q={code}")["items"]
        ids.append(next(f["id"] for f in items if f["code"] == code))
    return ids


def send_data_request(hub_api, author: str, title: str, *, codes: tuple[str, ...], units=(), subtrees=(),
                      overlap_reason: str | None = None) -> int:
    """A data request of `author`'s unit for last year, due in two weeks; returns its id."""
    body = {"title": title, "purpose": f"{title}：用于年度统计分析。", "period": last_year(),
            "deadline": (date.today() + timedelta(days=14)).isoformat(),
            "fields": data_field_ids(hub_api, *codes),
            "audience": {"units": list(units), "subtrees": list(subtrees)}}
    if overlap_reason:
        body["overlap_reason"] = overlap_reason
    return hub_api.as_(author).post("/data/requests", body)["id"]

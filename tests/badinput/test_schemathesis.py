"""Schemathesis against /api/v1/openapi.json, in process against the WSGI app:
cases generated from the schema for every operation, sent with the bearer
token of a normal member and of a system admin. No case may get a 5xx, and
every answer must match the schema where the schema declares it (status code,
content type, body).

Path ids are drawn by Schemathesis (mostly unknown ids: 404) and, for half of
the examples, fixed to ids that exist, so the operations get past their
lookups and exercise the validation of their bodies and queries.
"""
from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from hub.openapi import api_operations

EXAMPLES = 6          # per operation, role and id mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations that would end the caller's own session mid-run (then every later case is a 401).
SKIPPED = {("DELETE", "/api/v1/auth/token"), ("POST", "/api/v1/me/password")}


@pytest.fixture(scope="module")
def real_ids(shared_api, shared_ids):
    """Ids that exist, by path parameter name, belonging to nobody the run signs in as."""
    clerk = shared_api("kc_clerk")
    leader = shared_api("kc_leader")
    admin = shared_api("admin")
    town = shared_ids.unit("330802100")
    director = shared_ids.user("mp_director")
    channel = next(c["id"] for c in shared_api("mp_secretary").get("/api/v1/channels").get_json()["items"]
                   if c["kind"] == "unit")
    message = shared_api("mp_director").post(f"/api/v1/channels/{channel}/messages",
                                             json={"body": "测试消息"}).get_json()["id"]
    notice = leader.post("/api/v1/notices", json={"title": "测试", "summary": "摘要", "requires_ack": True,
                                                  "audience": {"subtrees": [town]}}).get_json()["id"]
    document = clerk.post("/api/v1/documents", json={"doc_type": "通知", "title": "测试公文",
                                                     "main_recipients": [town]}).get_json()["id"]
    person = admin.get(f"/api/v1/people/{director}").get_json()
    field = clerk.post("/api/v1/data/fields", json={"name": "常住人口", "kind": "integer",
                                                    "period_kind": "year"}).get_json()["id"]
    data_request = clerk.post("/api/v1/data/requests", json={
        "title": "人口年报", "purpose": "统计公报", "fields": [field], "audience": {"subtrees": [town]},
        "period": "2026", "deadline": "2099-12-31"}).get_json()["id"]
    return {"unit_id": town, "person_id": director, "channel_id": channel, "message_id": message,
            "notice_id": notice, "document_id": document, "request_id": data_request,
            "membership_id": person["memberships"][0]["id"], "grant_id": 1, "attachment_id": 1}


def test_generated_requests_get_no_server_error_and_match_the_schema(shared_app, shared_api, real_ids):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", shared_app)
    tokens = {role: shared_api(login).token
              for role, login in (("member", "mp_secretary"), ("admin", "admin"))}
    ran: Counter = Counter()
    failures: list[str] = []

    def exercise(strategy, role: str, token: str) -> None:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            ran[role] += 1
            try:
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as error:    # collected: every operation still runs
                if len(failures) < 30:
                    failures.append(f"{role} {case.method} {case.formatted_path} {str(error).strip()[:400]}")
        run()

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        names = [p.name for p in operation.path_parameters]
        modes = [None] + ([{n: real_ids[n] for n in names}] if names else [])
        for role, token in tokens.items():
            for fixed in modes:
                exercise(operation.as_strategy(path_parameters=fixed) if fixed else operation.as_strategy(),
                         role, token)
    print(f"schemathesis: {sum(ran.values())} cases ({dict(ran)}), {len(failures)} failures")
    assert not failures, "\n\n".join(failures)
    assert sum(ran.values()) >= 1000
    assert len(api_operations(shared_app)) - len(SKIPPED) > 60

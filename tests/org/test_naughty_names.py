"""Names from the Big List of Naughty Strings: valid ones are stored exactly,
invalid ones are refused with a 400 naming the field — never a 500."""
from __future__ import annotations

import json


from hub.validation import text_problem
from tests.naughty import naughty_strings



def test_every_naughty_name_is_stored_exactly_or_refused_cleanly(api, ids):
    admin = api("admin")
    parent = ids.unit("330802100")
    stored = refused = 0
    for n, raw in enumerate(naughty_strings()):
        # Lone surrogates cannot travel in UTF-8 JSON; send what a client could send.
        name = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
        body = json.dumps({"code": f"N{n}", "name": name, "parent_id": parent}, ensure_ascii=False)
        response = admin.post("/api/v1/units", data=body.encode("utf-8"),
                              content_type="application/json")
        expected = name.strip()
        if text_problem(expected, max_length=100) is None:
            assert response.status_code == 201, (name, response.get_json())
            unit = admin.get(f"/api/v1/units/{response.get_json()['id']}").get_json()
            assert unit["name"] == expected
            stored += 1
        else:
            assert response.status_code == 400, (name, response.get_json())
            assert response.get_json()["error"]["field"] == "name"
            refused += 1
    assert stored > 400 and refused > 0

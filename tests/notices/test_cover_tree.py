"""The coverage page's tree: the top levels rendered open, each deeper unit
fetched on demand (GET /notices/<id>/coverage/units/<unit_id>), a page of units
at a time, always in tree order and with the same access as the page."""
from __future__ import annotations

import re

from hub.notices import pages
from tests.cast import PASSWORD
from tests.factories import page, publish


def deepen(api, ids) -> int:
    """A group (村民小组) under 麻蓬村 with one person, so 麻蓬村 is a unit with subunits."""
    admin = api("kc_admin")
    group = admin.post("/api/v1/units", json={"code": "330802100202-01", "name": "麻蓬村第一组",
                                              "kind": "other", "parent_id": ids.unit("330802100202")})
    assert group.status_code == 201, group.get_json()
    person = admin.post("/api/v1/people", json={"login": "mp_group", "name": "组长甲",
                                                "unit_id": group.get_json()["id"], "password": PASSWORD})
    assert person.status_code == 201, person.get_json()
    # An admin-issued password is changed before anything else (docs/SECURITY.md): the
    # group leader does so, to the suite's password under another spelling, and back.
    member = api(None)
    for old, new in ((PASSWORD, PASSWORD + "!"), (PASSWORD + "!", PASSWORD)):
        member.token = member.post("/api/v1/auth/token", json={"login": "mp_group",
                                                                "password": old}).get_json()["token"]
        changed = member.post("/api/v1/me/password", json={"current_password": old, "new_password": new})
        assert changed.status_code in (200, 204), changed.get_json()
    return group.get_json()["id"]


def county_notice(api, ids) -> int:
    """A notice to the whole of 柯城区 that asks to be signed for."""
    return publish(api("kc_clerk"), "冬季防火", {"subtrees": [ids.unit("330802")]}, requires_ack=True)


def names(html: str) -> list[str]:
    return re.findall(r'<span class="cover-name">([^<]+)', html)


def test_the_page_opens_the_top_levels_and_leaves_deeper_units_closed(client, login, api, ids):
    deepen(api, ids)
    notice = county_notice(api, ids)
    login("kc_clerk")
    html = page(client, f"/notices/{notice}/coverage")
    village = ids.unit("330802100202")
    assert names(html) == ["柯城区人民政府办公室", "石梁镇", "石梁镇", "麻蓬村委会"]
    assert f'<details data-load="/notices/{notice}/coverage/units/{village}">' in html
    assert "麻蓬村第一组" not in html.split('id="unread"')[0]
    # The closed village's line still counts its whole subtree: 2 people and the group's 1.
    line = html.split(f'id="cover-{village}"')[1].split("</summary>")[0]
    assert '<span data-num="audience">3</span>' in line
    # Without JavaScript the closed unit is a link that reloads the page with it open.
    assert f'href="/notices/{notice}/coverage?open={village}#cover-{village}"' in html


def test_a_unit_expands_on_demand_with_its_own_line_first(client, login, api, ids):
    group = deepen(api, ids)
    notice = county_notice(api, ids)
    assert api("mp_group").get(f"/api/v1/notices/{notice}").status_code == 200
    assert api("mp_group").post(f"/api/v1/notices/{notice}/ack").status_code == 200
    login("kc_clerk")
    fragment = page(client, f"/notices/{notice}/coverage/units/{ids.unit('330802100202')}")
    assert "<html" not in fragment and "<body" not in fragment
    assert names(fragment) == ["麻蓬村委会", "麻蓬村第一组"]
    assert fragment.index("（本单位）") < fragment.index("麻蓬村第一组")
    own, child = fragment.split("cover-own", 1)[1].split(f'id="cover-{group}"')
    assert '<span data-num="read">0</span>/<span data-num="audience">2</span>' in own
    assert '<span data-num="read">1</span>/<span data-num="audience">1</span>' in child
    assert '<span data-num="acked">1</span>' in child
    assert 'data-bar="read" value="1" max="1" aria-label="麻蓬村第一组 已读"' in child
    assert 'data-bar="acked" value="1" max="1"' in child
    assert "style=" not in fragment and "<script" not in fragment


def test_open_renders_the_way_down_to_a_unit(client, login, api, ids):
    deepen(api, ids)
    notice = county_notice(api, ids)
    login("kc_clerk")
    html = page(client, f"/notices/{notice}/coverage?open={ids.unit('330802100202')}")
    assert names(html)[-3:] == ["麻蓬村委会", "麻蓬村委会", "麻蓬村第一组"]


def test_units_come_a_page_at_a_time_in_tree_order(client, login, api, ids, monkeypatch):
    notice = county_notice(api, ids)
    for login_name in ("sl_leader", "mp_secretary", "mp_director"):      # later units read more
        assert api(login_name).get(f"/api/v1/notices/{notice}").status_code == 200
    monkeypatch.setattr(pages, "COVER_PAGE", 1)
    login("kc_clerk")
    html = page(client, f"/notices/{notice}/coverage")
    tree = html.split("data-cover-tree")[1].split("</section>")[0]
    assert names(tree) == ["柯城区人民政府办公室"]
    more = re.search(r'href="([^"]+)" data-more>', tree)
    assert more and more.group(1) == f"/notices/{notice}/coverage/units?after=1"
    rest = page(client, more.group(1))
    assert names(rest) == ["石梁镇"] and "data-more" not in rest
    town = ids.unit("330802100")
    assert f'data-load="/notices/{notice}/coverage/units/{town}"' in rest     # closed: fetched on demand


def test_the_fragment_has_the_access_of_the_page(client, login, api, ids):
    notice = county_notice(api, ids)
    town = ids.unit("330802100")
    login("mp_secretary")                                     # a recipient
    page(client, f"/notices/{notice}/coverage/units/{town}", status=403)
    login("qj_admin")                                         # the admin of another county
    page(client, f"/notices/{notice}/coverage/units/{town}", status=404)
    login("kc_admin")                                         # the publishing unit's admin
    assert "麻蓬村委会" in page(client, f"/notices/{notice}/coverage/units/{town}")
    outside = ids.unit("330803100")                           # a town outside the audience
    page(client, f"/notices/{notice}/coverage/units/{outside}", status=404)


def test_receipts_carry_the_path_the_live_page_adds_subtrees_with(api, ids):
    notice = county_notice(api, ids)
    by_unit = api("kc_clerk").get(f"/api/v1/notices/{notice}/receipts").get_json()["by_unit"]
    village = next(row for row in by_unit if row["unit_id"] == ids.unit("330802100202"))
    town, village_id = str(ids.unit("330802100")), str(ids.unit("330802100202"))
    assert village["path"].split("/")[1:-1][-2:] == [town, village_id]

"""The org tree as a collapsible tree on the directory and admin pages: the top
level rendered, each unit with subunits a real button (aria-expanded) whose
children static/js/hub.js fetches on demand from GET /api/v1/units/{id}/children,
so a province is never rendered whole; without the script each unit is a link."""
from __future__ import annotations

import re


def test_the_directory_shows_the_top_of_the_tree_with_toggles(client, login, ids):
    login("mp_secretary")
    html = client.get("/directory").get_data(as_text=True)
    tree = html.split("data-unit-tree")[1].split("</section>")[0]
    province = ids.unit("33")
    assert 'data-children-url="/api/v1/units/0/children"' in tree
    assert 'data-unit-url="/directory/units/0"' in tree
    assert f'<li class="tree-node" data-unit-id="{province}" data-child-count="1">' in tree
    assert re.search(rf'<button type="button" class="tree-toggle" aria-expanded="false" '
                     rf'aria-controls="tree-children-{province}" hidden>', tree)
    assert f'<a href="/directory/units/{province}">浙江省</a>' in tree
    assert re.search(rf'<ul class="tree" id="tree-children-{province}" hidden>\s*</ul>', tree)
    assert "衢州市" not in tree                                  # children come on demand


def test_a_search_shows_results_instead_of_the_tree(client, login):
    login("mp_secretary")
    html = client.get("/directory?q=石梁").get_data(as_text=True)
    assert "data-unit-tree" not in html and "石梁镇" in html


def test_the_admin_tree_uses_the_same_lazy_tree(client, login, ids):
    login("kc_admin")
    html = client.get("/admin/").get_data(as_text=True)
    county = ids.unit("330802")
    assert 'data-unit-tree' in html and 'data-unit-url="/admin/units/0"' in html
    assert f'<a href="/admin/units/{county}">柯城区</a>' in html
    assert "石梁镇" not in html.split("data-unit-tree")[1].split("</section>")[0]


def test_the_children_the_tree_fetches_are_paged(api, ids):
    page = api("mp_secretary").get(f"/api/v1/units/{ids.unit('3308')}/children?limit=1").get_json()
    assert [u["name"] for u in page["items"]] == ["柯城区"] and page["next"]
    rest = api("mp_secretary").get(f"/api/v1/units/{ids.unit('3308')}/children?limit=1&after={page['next']}")
    assert [u["name"] for u in rest.get_json()["items"]] == ["衢江区"]
    assert {"child_count", "member_count", "kind", "code"} <= set(page["items"][0])

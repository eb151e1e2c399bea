"""The inbox page: one list of notices, mentions and direct messages, its
markers, filters, search and 更早 pages."""
from __future__ import annotations

import html as html_lib
import re
from datetime import datetime, timedelta, timezone

from hub.inbox import views
from tests.factories import page
from tests.factories import publish_to_town as publish






def rows(html: str) -> list[tuple[str, str]]:
    """(kind, id) of each inbox row, in order."""
    return re.findall(r'<li class="inbox-item[^"]*" data-kind="(\w+)" data-id="(\d+)"', html)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_the_inbox_shows_summaries_and_calm_markers(client, login, api, ids):
    later = datetime.now(timezone.utc) + timedelta(days=5)
    plain = publish(api, ids, title="关于报送冬季防火台账的通知", requires_ack=True, deadline=iso(later))
    urgent = publish(api, ids, login="kc_leader", title="寒潮紧急通知",
                     summary="今晚起降温10℃，请立即转移危房人员",
                     urgent=True, urgent_reason="寒潮预警")
    login("mp_secretary")
    html = page(client, "/inbox/")
    assert rows(html) == [("notice", str(urgent)), ("notice", str(plain))]
    assert "今晚起降温10℃，请立即转移危房人员" in html and "12月1日前完成辖区隐患排查并上报" in html
    assert html.count('<span class="item-unread">未读</span>') == 2 and "未读通知 2 条" in html
    assert "紧急原因：寒潮预警" in html and '<span class="tag tag-urgent">紧急</span>' in html
    assert "柯城区人民政府办公室 · 吴文书" in html and "柯城区人民政府办公室 · 郑主任" in html
    assert "需签收" in html and "截止" in html and "（已逾期）" not in html
    assert "<title>收件箱 · 政务协同</title>" in html and "badge" not in html
    # Times are Beijing time.
    local = later.astimezone(timezone(timedelta(hours=8)))
    assert f"{local.month}月{local.day}日 {local:%H:%M}" in html
    # Reading and acknowledging change the markers.
    page(client, f"/notices/{plain}")
    client.post(f"/notices/{plain}/ack")
    html = page(client, "/inbox/")
    assert html.count('<span class="item-unread">未读</span>') == 1 and "已签收" in html


def test_the_inbox_lists_mentions_and_direct_messages_with_links_to_the_message(client, login, api, ids):
    notice = publish(api, ids, audience={"units": [ids.unit("330802100202")]})
    leader = api("sl_leader")
    direct = leader.post("/api/v1/channels/direct",
                         json={"user_id": ids.user("mp_secretary")}).get_json()["id"]
    message = leader.post(f"/api/v1/channels/{direct}/messages",
                          json={"body": "明天来镇里开会"}).get_json()["id"]
    director = api("mp_director")
    channel = next(c["id"] for c in director.get("/api/v1/channels").get_json()["items"]
                   if c["name"] == "麻蓬村委会")
    mention = director.post(f"/api/v1/channels/{channel}/messages", json={
        "body": "@王建军 请审核", "mention_user_ids": [ids.user("mp_secretary")]}).get_json()["id"]
    login("mp_secretary")
    html = page(client, "/inbox/")
    assert rows(html) == [("mention", str(mention)), ("direct", str(message)), ("notice", str(notice))]
    assert f'href="/channels/{direct}#m-{message}"' in html
    assert f'href="/channels/{channel}#m-{mention}"' in html
    assert "明天来镇里开会" in html and "私信" in html and "提及" in html
    assert rows(page(client, "/inbox/?kind=notice")) == [("notice", str(notice))]
    assert rows(page(client, "/inbox/?kind=direct")) == [("direct", str(message))]
    assert rows(page(client, "/inbox/?kind=nonsense")) == rows(html)


def test_only_unread(client, login, api, ids):
    first = publish(api, ids, title="第一份")
    second = publish(api, ids, title="第二份")
    login("mp_director")
    page(client, f"/notices/{first}")
    html = page(client, "/inbox/?unread=1")
    assert rows(html) == [("notice", str(second))]
    assert '<a href="/inbox/?unread=1" aria-current="page">只看未读</a>' in html
    assert "没有符合条件的内容" in page(client, "/inbox/?unread=1&q=第一份")


def test_filters_by_sending_unit_acknowledgement_and_overdue(client, login, api, ids):
    now = datetime.now(timezone.utc)
    county = publish(api, ids, title="区里的通知")
    town = publish(api, ids, login="sl_clerk", title="镇里的通知", requires_ack=True,
                   audience={"subtrees": [ids.unit("330802100")]})
    late = publish(api, ids, login="sl_clerk", title="逾期的通知", requires_ack=True,
                   publish_at=iso(now - timedelta(days=2)), deadline=iso(now - timedelta(days=1)))
    login("mp_director")
    html = page(client, "/inbox/")
    select = html.split('id="f-unit"')[1].split("</select>")[0]
    assert re.findall(r'<option value="\d+">([^<]+)', select) == ["柯城区人民政府办公室", "石梁镇"]
    office = page(client, f"/inbox/?unit_id={ids.unit('330802-GOV')}")
    assert rows(office) == [("notice", str(county))] and "（已筛选）" in office
    assert [i for _, i in rows(page(client, "/inbox/?needs_ack=1"))] == [str(town), str(late)]
    overdue = page(client, "/inbox/?overdue=1")
    assert rows(overdue) == [("notice", str(late))] and "（已逾期）" in overdue
    page(client, f"/notices/{town}")
    client.post(f"/notices/{town}/ack")
    assert rows(page(client, "/inbox/?needs_ack=1")) == [("notice", str(late))]


def test_search(client, login, api, ids):
    fire = publish(api, ids, title="森林防火", summary="11月底前完成巡查")
    publish(api, ids, title="医保缴费", summary="12月20日前缴费", body="城乡居民医保")
    login("mp_director")
    assert rows(page(client, "/inbox/?q=防火")) == [("notice", str(fire))]
    assert rows(page(client, "/inbox/?q=巡查")) == [("notice", str(fire))]
    assert len(rows(page(client, "/inbox/?q=医保"))) == 1
    assert rows(page(client, "/inbox/?q=%25")) == []                   # a literal %, not a wildcard


def test_one_search_finds_channel_messages_too_grouped_and_marked(client, login, api, ids):
    """The inbox's search box (and the channel list's, which leads here) finds a
    word in the channel messages the person may read, under the notices found."""
    fire = publish(api, ids, title="森林防火", summary="11月底前完成巡查")
    secretary = api("mp_secretary")
    village = next(c["id"] for c in secretary.get("/api/v1/channels").get_json()["items"]
                   if c["name"] == "麻蓬村委会")
    said = secretary.post(f"/api/v1/channels/{village}/messages",
                          json={"body": "防火巡查表放在村部了"}).get_json()["id"]
    town = next(c["id"] for c in api("sl_leader").get("/api/v1/channels").get_json()["items"]
                if c["name"] == "石梁镇")
    api("sl_leader").post(f"/api/v1/channels/{town}/messages", json={"body": "镇里的防火值班表"})
    login("mp_director")
    html = page(client, "/inbox/?q=防火")
    assert rows(html) == [("notice", str(fire)), ("message", str(said))]   # not 石梁镇's channel
    assert '<h2 id="found-notice">通知 <span class="muted">1</span></h2>' in html
    assert '<h2 id="found-messages">频道消息 <span class="muted">1</span></h2>' in html
    assert "<mark>防火</mark>巡查表放在村部了" in html and "<mark>防火</mark></a>" in html
    assert f'href="/channels/{village}#m-{said}"' in html
    assert 'action="/inbox/"' in page(client, "/channels/")
    assert rows(page(client, "/inbox/?q=防火&kind=notice")) == [("notice", str(fire))]


def test_older_pages(client, login, api, ids, monkeypatch):
    made = [publish(api, ids, title=f"第{n}份通知") for n in range(3)]
    monkeypatch.setattr(views, "PAGE", 2)
    login("mp_director")
    first = page(client, "/inbox/")
    assert [int(i) for _, i in rows(first)] == [made[2], made[1]]
    older = re.search(r'<a href="([^"]+)">更早</a>', first)
    assert older
    second = page(client, html_lib.unescape(older.group(1)))
    assert [int(i) for _, i in rows(second)] == [made[0]] and "回到最新" in second
    assert "更早</a>" not in second


def test_a_damaged_cursor_shows_the_first_page(client, login, api, ids):
    publish(api, ids)
    login("mp_director")
    html = page(client, "/inbox/?before=garbage")
    assert "before 游标无效" in html and len(rows(html)) == 1


def test_the_inbox_is_first_in_the_navigation_and_is_the_start_page(client, login):
    """`/` is the inbox (principle 1), where signing in lands; the brand links there."""
    assert client.get("/").headers["Location"] == "/auth/login"        # no 请先登录 on the way
    login("mp_director")
    html = page(client, "/")
    nav = html.split('aria-label="主导航" class="mainnav">')[1]
    assert nav.strip().startswith('<a href="/inbox/" aria-current="page">收件箱</a>')
    assert '<a class="brand" href="/">' in html
    assert "收件箱是空的" in html and "首页" not in html
    assert "收件箱是空的" in page(client, "/inbox/")


def test_signing_in_lands_in_the_inbox(client):
    from tests.cast import PASSWORD
    answer = client.post("/auth/login", data={"login": "mp_director", "password": PASSWORD})
    assert answer.headers["Location"] == "/"                            # the inbox
    assert client.get("/login?next=/channels/").headers["Location"] == "/auth/login?next=/channels/"


def test_me_holds_what_the_phone_tabs_do_not(client, login):
    login("kc_admin")
    html = page(client, "/me")
    for link in ('href="/data/"', 'href="/admin/"', 'href="/auth/password"', 'href="/auth/second-factor"'):
        assert link in html, link
    login("mp_director")
    assert 'href="/admin/"' not in page(client, "/me")


def test_the_sign_in_page_switches_language_for_this_browser(client):
    assert "Sign in" not in page(client, "/auth/login")
    answer = client.post("/auth/language", data={"language": "en", "next": "/auth/login"})
    assert answer.headers["Location"] == "/auth/login"
    html = page(client, "/auth/login")
    assert "Sign in" in html and '<option value="en" lang="en" selected>' in html
    assert client.post("/auth/language", data={"language": "klingon"}).status_code == 400
    client.post("/auth/language", data={"language": ""})
    assert "Sign in" not in page(client, "/auth/login")


def test_the_inbox_is_live_only_on_its_unfiltered_first_page(client, login, api, ids):
    login("mp_director")
    assert "data-live" in page(client, "/inbox/")
    assert "data-live" in page(client, "/inbox/?unread=1")
    assert "data-live" not in page(client, "/inbox/?kind=direct")
    assert "/static/js/inbox.js" in page(client, "/inbox/")


def test_naughty_text_in_the_inbox(client, login, api, ids):
    publish(api, ids, title='<script>alert("x")</script>', summary="{{7*7}} {% raw %} <b>")
    login("mp_director")
    html = page(client, "/inbox/")
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "{{7*7}} {% raw %} &lt;b&gt;" in html


def test_unread_first_puts_every_unread_item_before_the_read_ones(api, client, login, ids):
    office = api("kc_clerk")
    village = ids.unit("330802100202")
    notices = [office.post("/api/v1/notices", json={
        "title": f"通知{n}", "summary": "请阅", "audience": {"units": [village]}}).get_json()["id"]
        for n in range(7)]
    reader = api("mp_secretary")
    for notice in notices[4:]:           # the three newest are read
        reader.get(f"/api/v1/notices/{notice}")
    seen, cursor = [], None
    while True:
        page = reader.get("/api/v1/inbox", query_string={"order": "unread_first", "limit": 2,
                                                         **({"before": cursor} if cursor else {})}).get_json()
        seen += [(i["id"], i["read"]) for i in page["items"]]
        cursor = page.get("next")
        if not cursor:
            break
    unread, read = notices[3::-1], notices[:3:-1]
    assert seen == [(n, False) for n in unread] + [(n, True) for n in read]
    assert reader.get("/api/v1/inbox", query_string={"order": "sideways"}).status_code == 400
    newest = reader.get("/api/v1/inbox").get_json()["items"]
    assert [i["id"] for i in newest] == notices[::-1]
    login("mp_secretary")
    html = client.get("/inbox/?order=unread_first").text
    assert html.index("通知3") < html.index("通知6") < html.index("通知4")
    assert 'aria-current="page">未读在前' in html

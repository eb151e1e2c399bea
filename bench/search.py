"""Benchmark: message search over a million messages in a thousand channels.

    .venv/bin/python bench/search.py [--messages N] [--channels N] [--readable N]
                                     [--runs N] [--postgres URL]

Creates a fresh SQLite database in a temp dir (schema by hub.migrate.upgrade,
so the search index and its triggers are the production ones), a county with
--channels villages (one unit channel each) and a reader who belongs to
--readable of them, then inserts --messages messages spread evenly over all
channels with executemany (the index is filled by the triggers, as in
production). It then times hub.channels.search.search_messages for the reader
--runs times per query term and prints p50/p95, and the same through the HTTP
API (GET /api/v1/search, serialization included). With --postgres URL the same
runs on PostgreSQL, in a scratch database created next to URL's and dropped
afterwards. Results go into docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from bench.import_units import scratch_postgres  # noqa: E402
from hub import create_app  # noqa: E402
from hub.channels.actions import ensure_unit_channels  # noqa: E402
from hub.channels.models import Channel, Message  # noqa: E402
from hub.channels.search import MessageSearch, search_messages  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.org.models import Membership, Unit, User  # noqa: E402

PASSWORD = "Bench-pass-2026"
# Everyday village and town work: a message is a handful of these phrases.
PHRASES = """请各村于周五前报送 防汛值班表 汛期巡查记录 人口普查数据 低保对象名单 党员大会
会议纪要 安全生产检查 森林防火 垃圾分类 乡村振兴项目 集体经济收入 疫苗接种 医保缴费
社保认证 危房改造 河长巡河 网格员走访 矛盾纠纷排查 信访件办理 村务公开 财务公开
选举工作 退役军人信息采集 秸秆禁烧 道路硬化 饮用水安全 电动车充电 消防通道 独居老人
留守儿童 残疾人补贴 耕地保护 违建整治 美丽庭院 文明创建 志愿服务 学习强国 主题党日
三会一课 民主评议 收到请回复 明天上午九点 下午两点半 在村委会二楼会议室 带好笔记本
材料已上传 请查收附件 OK 已完成 未完成 进度滞后 请抓紧 辛苦了 谢谢大家 镇里通知
县里要求 省里督查 台风预警 暴雨红色预警 转移群众 物资储备 应急演练 值班电话 手机保持畅通""".split()
TERMS = [  # label, query: how often each occurs is printed with the timings
    ("3-char", "值班表"),
    ("1-char", "汛"),
    ("3-char rare", "泥石流"),   # in 1 message of 10,000
    ("1-char none", "鑫"),       # in no message: the short path's worst case
]


def body(rng: random.Random) -> str:
    text = "，".join(rng.choices(PHRASES, k=rng.randint(2, 8))) + "。"
    if rng.random() < 0.0001:
        text += "注意泥石流风险。"
    return text


def populate(messages: int, channels: int, readable: int) -> User:
    """The county, its villages and their channels, a reader and the messages."""
    rng = random.Random(20261122)
    county = Unit(code="BENCH", name="基准县", kind="county", path="", depth=0)
    db.session.add(county)
    db.session.flush()
    county.path = f"/{county.id}/"
    villages = [Unit(code=f"BENCH{i:05d}", name=f"基准村{i:05d}", kind="village", parent=county,
                     depth=1, sort_order=i) for i in range(channels)]
    db.session.add_all(villages)
    db.session.flush()
    for village in villages:
        village.path = f"{county.path}{village.id}/"
    ensure_unit_channels()
    from hub.passwords import hash_password
    reader = User(login="bench_reader", name="读者", password_hash=hash_password(PASSWORD))
    reader.memberships = [Membership(unit=v, is_primary=i == 0)
                          for i, v in enumerate(rng.sample(villages, readable))]
    authors = [User(login=f"bench_author{i}", name=f"作者{i}") for i in range(50)]
    db.session.add_all([reader, *authors])
    db.session.commit()
    channel_ids = list(db.session.scalars(select(Channel.id).where(Channel.unit_id.in_(
        [v.id for v in villages]))))
    author_ids = [a.id for a in authors]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    step = timedelta(days=365) / messages
    batch = 20_000
    for offset in range(0, messages, batch):
        rows = [{"channel_id": rng.choice(channel_ids), "author_id": rng.choice(author_ids),
                 "topic": "", "body": body(rng), "created_at": start + step * n, "ack_count": 0}
                for n in range(offset, min(offset + batch, messages))]
        db.session.execute(insert(Message), rows)
        db.session.commit()
    return reader


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples) * 1000, cuts[18] * 1000


def measure(app, login: str, runs: int, label: str) -> None:
    """Time the query alone (in one app context), then whole API requests (each
    in its own, as in production: Flask-Login keeps the user on `g`)."""
    token = app.test_client().post("/api/v1/auth/token",
                                   json={"login": login, "password": PASSWORD}).get_json()["token"]
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    for name, term in TERMS:
        with app.app_context():
            reader = db.session.scalar(select(User).where(User.login == login))
            hits = len(search_messages(reader, MessageSearch(term, limit=51)))
            query_times = []
            for _ in range(runs):
                started = time.perf_counter()
                search_messages(reader, MessageSearch(term, limit=51))
                query_times.append(time.perf_counter() - started)
        request_times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/api/v1/search", query_string={"q": term}, headers=headers)
            request_times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.get_json()
        q50, q95 = percentiles(query_times)
        r50, r95 = percentiles(request_times)
        print(f"{label}: {name:12} {term!r:6} hits {min(hits, 50):2}{'+' if hits > 50 else ' '} "
              f" query p50 {q50:6.1f} ms  p95 {q95:6.1f} ms   "
              f"request p50 {r50:6.1f} ms  p95 {r95:6.1f} ms")


def run(label: str, uri: str, args: argparse.Namespace, folder: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": str(folder / "instance"),
                      "SEARCH_LIMIT_PER_PERSON": "off",      # the timing loop is not a person
                      "SECRET_KEY": "bench", "DEMO": False, "REDIS_URL": None})
    upgrade(app)
    with app.app_context():
        started = time.perf_counter()
        reader = populate(args.messages, args.channels, args.readable)
        print(f"{label}: inserted {args.messages:,} messages in {args.channels:,} channels "
              f"in {time.perf_counter() - started:.0f} s (index kept up by the database)")
        if label == "postgresql":
            # What autovacuum does shortly after a bulk load. SQLite is left
            # without ANALYZE, as `hub init` leaves it in production.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        login = reader.login
    measure(app, login, args.runs, label)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--readable", type=int, default=30, help="channels the reader reads")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        folder = Path(tmp)
        run("sqlite", f"sqlite:///{folder / 'bench.db'}", args, folder)
        if args.postgres:
            url, drop = scratch_postgres(args.postgres)
            try:
                run("postgresql", url, args, folder)
            finally:
                drop()


if __name__ == "__main__":
    main()

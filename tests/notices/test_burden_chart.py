"""The sender-burden view as monthly charts: one server-side SVG per sending unit
(bars per month, the after-hours part marked, the numbers as text and in the
SVG's <title>/<desc>), each scaled to the unit's own busiest month so no unit is
ever drawn against another; the data table stays as the fallback."""
from __future__ import annotations

import re

from sqlalchemy import update

from hub.extensions import db
from hub.notices.models import Notice
from tests.factories import publish




def chart_of(html: str, name: str) -> str:
    section = html.split(f">{name} <span class=\"muted\">")[1].split("</section>")[0]
    return section.split("<svg")[1].split("</svg>")[0]


def bars(chart: str) -> list[tuple[int, float]]:
    """(notices, bar height) per month, oldest first."""
    found = []
    for group in re.findall(r'<g class="chart-month"[^>]*data-notices="(\d+)">(.*?)</g>', chart, re.S):
        height = re.search(r'class="chart-bar" x="[^"]+" y="[^"]+" width="[^"]+" height="([\d.]+)"', group[1])
        found.append((int(group[0]), float(height.group(1)) if height else 0.0))
    return found


def test_each_unit_gets_monthly_bars_scaled_to_its_own_busiest_month(app, client, login, api, ids):
    office, town = api("kc_clerk"), api("sl_clerk")
    publish(office, "全区", {"subtrees": [ids.unit("330802")]})
    after_hours = [publish(town, f"村务{i}", {"units": [ids.unit("330802100202")]}) for i in range(4)]
    with app.app_context():
        db.session.execute(update(Notice).values(after_hours=False))
        db.session.execute(update(Notice).where(Notice.id.in_(after_hours[:2])).values(after_hours=True))
        db.session.commit()
    login("kc_admin")
    html = client.get("/admin/burden?months=3").get_data(as_text=True)
    # Tree order, not by how much was sent (石梁镇 sent more).
    assert html.index("柯城区人民政府办公室") < html.index(">石梁镇 <")
    office_bars, town_bars = bars(chart_of(html, "柯城区人民政府办公室")), bars(chart_of(html, "石梁镇"))
    assert [n for n, _ in office_bars] == [0, 0, 1] and [n for n, _ in town_bars] == [0, 0, 4]
    # 1 notice and 4 notices both fill their own chart: months compare within a unit only.
    assert office_bars[-1][1] == town_bars[-1][1] == 100.0 and office_bars[0][1] == 0.0
    town_chart = chart_of(html, "石梁镇")
    assert re.search(r'class="chart-bar-after" x="[^"]+" y="[^"]+" width="[^"]+" height="50.0"', town_chart)
    assert 'role="img" aria-labelledby="chart-' in town_chart
    assert "<title" in town_chart and "石梁镇每月发出的通知" in town_chart
    assert "4 条，其中非工作时间 2 条、紧急 0 条" in town_chart
    assert '<text class="chart-count"' in town_chart and ">4</text>" in town_chart
    # The table stays as the fallback, behind a summary.
    assert html.count('<details class="burden-table">') == 2 and "<meter" in html
    assert "style=" not in html and "rank" not in html.lower()

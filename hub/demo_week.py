"""A lived-in week for the demo's first village (issue 16): the personas the README
advertises find something to do the first time they sign in. 石梁镇 sent 麻蓬村 three
notices this week (one read, one to acknowledge, one new); 麻蓬村's channel has talk
under a topic with a mention of its secretary; a task channel of 石梁镇 for the winter
fire patrols ends in three days. Everything goes through the domain's own actions,
so receipts, mentions and the unread count are real.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from hub.channels import actions as channel_actions
from hub.channels import messages, queries as channel_queries
from hub.channels.actions import TaskDraft
from hub.channels.messages import MessageDraft
from hub.extensions import db
from hub.notices import actions as notice_actions
from hub.notices.actions import NoticeDraft
from hub.org.models import Unit, User

TOWN_SUFFIX, VILLAGE_SUFFIX = "100", "100202"          # 石梁镇 and its 麻蓬村 in 柯城区


def _person(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == login))


def seed_week(county: str) -> None:
    """Notices, channel talk and a task channel around the county's first village."""
    town_code, village_code = county + TOWN_SUFFIX, county + VILLAGE_SUFFIX
    town = db.session.scalar(select(Unit).where(Unit.code == town_code))
    village = db.session.scalar(select(Unit).where(Unit.code == village_code))
    town_secretary, town_clerk = _person(f"{town_code}.sj"), _person(f"{town_code}.ws")
    secretary, director = _person(f"{village_code}.sj"), _person(f"{village_code}.zr")
    if None in (town, village, town_secretary, town_clerk, secretary, director):
        return                                          # another county: its own tree, no week
    to_villages = {"subtrees": [town.id]}

    def notice(title: str, summary: str, body: str, **extra) -> object:
        return notice_actions.publish_notice(town_clerk, NoticeDraft.from_json(
            {"title": title, "summary": summary, "body": body, "audience": to_villages, **extra}))

    read = notice("关于开展冬季农村用电安全检查的通知",
                  "各村于12月12日前完成辖区用电线路、取暖设施排查，问题清单报镇党政办。",
                  "各村（社区）：\n\n入冬以来取暖用电增多，请各村组织网格员逐户排查老旧线路和取暖设施。……")
    notice_actions.mark_read(secretary, read)
    notice("关于做好冬季森林防火巡查的通知",
           "12月起每日巡山不少于一次，巡查情况在“冬季森林防火巡查”频道报告，请签收。",
           "各村（社区）：\n\n根据区政府办公室《关于做好2026年冬季森林防火工作的通知》要求，……",
           requires_ack=True)
    notice("关于召开年终工作总结会的通知",
           "12月18日上午9时在镇政府三楼会议室召开，请各村党组织书记参加。",
           "各村（社区）：\n\n定于12月18日上午9时召开全镇年终工作总结会。……")

    channel = channel_queries.unit_channel(village.id)
    if channel is not None:
        for author, body, extra in (
                (director, "村道两侧的枯枝已清理完毕，明天开始巡山。", {}),
                (director, f"@{secretary.name} 巡查路线图已放在村部，请您过目。",
                 {"mention_user_ids": [secretary.id]}),
                (secretary, "好的，下午去看。", {})):
            messages.post_message(author, channel, MessageDraft.from_json(
                {"body": body, "topic": "防火巡查", **extra}))

    task = channel_actions.create_task_channel(town_secretary, TaskDraft.from_json({
        "name": "冬季森林防火巡查", "purpose": "各村每日巡山情况报告与问题处置",
        "ends_on": (date.today() + timedelta(days=3)).isoformat(),
        "unit_ids": [town.id], "user_ids": [secretary.id, director.id]}))
    if task.state != "active":
        approver = _person("county.admin") or _person("admin")
        task = channel_actions.decide_task_channel(approver, task, approve=True)
    messages.post_message(town_secretary, task, MessageDraft.from_json(
        {"body": "各村每天巡山后在这里报一下情况，发现火情隐患立即电话报告。"}))

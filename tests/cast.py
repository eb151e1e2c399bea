"""The fixed cast of the test suite: real units of 衢州市 and memorable people.

County 柯城区 (330802) with its government office, the town 石梁镇 and the
village 麻蓬村; the sibling county 衢江区 (330803) with the town 上方镇. The
three global duties (三员分立) are held by three people: `admin`, `sec_admin`
and `auditor`.
Every test starts from exactly this cast, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass

from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User

PASSWORD = "Hub-demo-2026"
# Cheap argon2 parameters for tests only; production uses argon2-cffi's defaults.
HASH_PARAMS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}

UNITS = [  # code, name, parent code, kind
    ("33", "浙江省", None, "province"),
    ("3308", "衢州市", "33", "city"),
    ("330802", "柯城区", "3308", "county"),
    ("330802-GOV", "柯城区人民政府办公室", "330802", "department"),
    ("330802100", "石梁镇", "330802", "town"),
    ("330802100202", "麻蓬村委会", "330802100", "village"),
    ("330803", "衢江区", "3308", "county"),
    ("330803100", "上方镇", "330803", "town"),
]

PEOPLE = [  # login, name, unit code, position, roles (role, unit code or None)
    ("admin", "管理员", "3308", "信息中心工程师", [("admin", None)]),
    ("kc_admin", "柯丽华", "330802-GOV", "信息化专员", [("unit_admin", "330802")]),
    ("qj_admin", "江建国", "330803", "组织部干事", [("unit_admin", "330803")]),
    ("kc_clerk", "吴文书", "330802-GOV", "机要员", [("clerk", "330802-GOV")]),
    ("kc_leader", "郑主任", "330802-GOV", "办公室主任", [("leader", "330802-GOV")]),
    ("sl_clerk", "周晓梅", "330802100", "党政办文书", [("clerk", "330802100")]),
    ("sl_leader", "徐志强", "330802100", "党委书记", [("leader", "330802100")]),
    ("mp_secretary", "王建军", "330802100202", "党支部书记", []),
    ("mp_director", "李秀英", "330802100202", "村委会主任", []),
    ("sf_member", "陈国平", "330803100", "镇长", []),
    # The other two of the three duties (三员分立), held by people of no unit so
    # that no unit's head count changes: roles and locks; the audit log.
    ("sec_admin", "钱安平", None, "", [("security_admin", None)]),
    ("auditor", "冯审言", None, "", [("auditor", None)]),
]


@dataclass
class Cast:
    units: dict[str, Unit]
    people: dict[str, User]


def seed_cast(password_hash: str) -> Cast:
    """Insert the cast directly (no audit rows): the starting state of every test."""
    units: dict[str, Unit] = {}
    for code, name, parent_code, kind in UNITS:
        parent = units.get(parent_code) if parent_code else None
        unit = Unit(code=code, name=name, kind=kind, parent=parent, sort_order=len(units))
        db.session.add(unit)
        db.session.flush()
        unit.path = (parent.path if parent else "/") + f"{unit.id}/"
        unit.depth = parent.depth + 1 if parent else 0
        units[code] = unit
    people: dict[str, User] = {}
    for login, name, unit_code, position, roles in PEOPLE:
        user = User(login=login, name=name, password_hash=password_hash)
        if unit_code is not None:
            user.memberships.append(Membership(unit=units[unit_code], position=position,
                                               is_primary=True))
        for role, role_unit in roles:
            user.roles.append(RoleGrant(role=role, unit=units[role_unit] if role_unit else None))
        db.session.add(user)
        people[login] = user
    from hub.channels.actions import ensure_unit_channels
    ensure_unit_channels()
    from hub.datarequests.system import ensure_system_fields
    ensure_system_fields()          # the migration seeds them; a PostgreSQL test truncates every table
    db.session.commit()
    return Cast(units=units, people=people)

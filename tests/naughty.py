"""The Big List of Naughty Strings (tests/data/blns.txt, see tests/data/SOURCES.md), as test input."""
from __future__ import annotations

from pathlib import Path

BLNS = Path(__file__).resolve().parent / "data" / "blns.txt"


def naughty_strings() -> list[str]:
    """Every test string of blns.txt (comments and blank lines dropped), read
    byte-faithfully: undecodable bytes come back as lone surrogates."""
    text = BLNS.read_bytes().decode("utf-8", errors="surrogateescape")
    return [line for line in text.split("\n") if line and not line.startswith("#")]


def sendable(raw: str) -> str:
    """What a client can send of a test string: lone surrogates (undecodable
    bytes) cannot travel in UTF-8, so they become U+FFFD."""
    return raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


# Hub's own naughty strings, sent through every text field with blns (tests/badinput):
# CJK Extension B, the acknowledgement look-alikes, bracket forms of 发文字号, bidi
# overrides, zero-width and full-width spaces, formula starts, decomposed text.
HUB_STRINGS = [
    "𠀀𪚥", "王𪚥", "𠀀" * 64, "收 到", "收\u200b到", "收\u3000到", "\ufeff收到",
    "柯政办发〔2026〕1号", "柯政办发[2026]1号", "柯政办发【2026】1号",
    "invoice\u202efdp.txt", "\u2067مرحبا\u2069 你好", "=HYPERLINK(\"http://x.example\",\"点我\")",
    "+1+1", "-2+3", "@SUM(A1:A2)", "＝１＋１", "e\u0301", "\u00e9", "a\u200db", "　全角空格　",
]

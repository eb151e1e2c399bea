"""The Big List of Naughty Strings (shared/data/blns.txt), as test input."""
from __future__ import annotations

from pathlib import Path

BLNS = Path(__file__).resolve().parents[2] / "shared" / "data" / "blns.txt"


def naughty_strings() -> list[str]:
    """Every test string of blns.txt (comments and blank lines dropped), read
    byte-faithfully: undecodable bytes come back as lone surrogates."""
    text = BLNS.read_bytes().decode("utf-8", errors="surrogateescape")
    return [line for line in text.split("\n") if line and not line.startswith("#")]

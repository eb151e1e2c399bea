"""How each kind of text field treats what it is given, and a runner that
sends every naughty string through a field and checks the outcome.

A rule maps what was sent to what must be read back, or to None when the
field must refuse it with a 400 naming the field. The rules mirror
hub/validation.py (docs/SECURITY.md "Input"); the tests check that the API
behaves as the rule says for every string, so a change in either shows up.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.validation import text_problem
from tests.naughty import HUB_STRINGS, naughty_strings, sendable

Rule = Callable[[str], "str | None"]


def line(max_length: int, *, required: bool = True) -> Rule:
    """A one-line name (clean_text): surrounding whitespace stripped, control
    characters and lone surrogates refused, length checked."""
    def rule(sent: str) -> str | None:
        value = sent.strip()
        return None if text_problem(value, max_length=max_length, required=required) else value
    return rule


def paragraphs(max_length: int, *, required: bool = True) -> Rule:
    """Several lines (clean_paragraphs): \\r\\n becomes \\n, line breaks and tabs kept."""
    def rule(sent: str) -> str | None:
        value = sent.replace("\r\n", "\n").strip()
        flat = value.replace("\n", " ").replace("\t", " ")
        return None if text_problem(flat, max_length=max_length, required=required) else value
    return rule


def exact(sent: str) -> str | None:
    """A body: stored exactly as sent (NUL and lone surrogates are refused at
    the JSON edge, hub/api.py json_body; blns has neither)."""
    return sent


def blns() -> list[str]:
    """Every blns string as a client can send it, then Hub's own."""
    return [sendable(raw) for raw in naughty_strings()] + HUB_STRINGS


def as_json(payload: dict) -> dict:
    return {"data": json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            "content_type": "application/json"}


_TAG = re.compile(r"<[A-Za-z!/?]")


def executable_markup(text: str) -> bool:
    """Whether `text`, shown unescaped, could start an element or a comment."""
    return bool(_TAG.search(text))


@dataclass
class Tally:
    """What one field made of the list: counts and the first few failures."""

    name: str
    stored: int = 0
    refused: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, text: str, why: str) -> None:
        if len(self.failures) < 10:
            self.failures.append(f"{text!r}: {why}")

    def check(self) -> None:
        assert not self.failures, f"{self.name}: " + "\n".join(self.failures)
        assert self.stored + self.refused > 0


def exercise(strings: list[str], rules: dict[str, Rule], *, safe: dict[str, str],
             send: Callable[[dict[str, str]], object],
             read_back: Callable[[object], dict[str, str | None]],
             name: str, on_stored: Callable[[str, object], None] | None = None,
             reread: Callable[[object], dict[str, str | None]] | None = None,
             reread_every: int = 20) -> Tally:
    """For each string: send it in every field of `rules` at once. When a rule
    refuses it, the answer must be a 400 naming one of the refusing fields;
    then it is sent again with those fields set to their `safe` value, so the
    other fields are still tried. The accepted request must read back exactly
    what the rules say. `send` returns a response; `read_back` the stored
    values by field, from the write's answer; `reread`, when given, reads
    every `reread_every`-th stored string again with a GET."""
    tally = Tally(name)
    for text in strings:
        expected = {f: rule(text) for f, rule in rules.items()}
        refusing = {f for f, value in expected.items() if value is None}
        values = {f: text for f in rules}
        response = send(values)
        if response.status_code >= 500:
            tally.fail(text, f"server error {response.status_code}")
            continue
        if refusing:
            error = (response.get_json() or {}).get("error", {})
            if response.status_code != 400 or error.get("field") not in refusing:
                tally.fail(text, f"expected 400 naming one of {sorted(refusing)}, got "
                                 f"{response.status_code} {error}")
                continue
            tally.refused += 1
            if len(refusing) == len(rules):
                continue
            values = {f: (safe[f] if f in refusing else text) for f in rules}
            expected = {f: (rules[f](safe[f]) if f in refusing else value) for f, value in expected.items()}
            response = send(values)
        if response.status_code not in (200, 201):
            tally.fail(text, f"expected it stored, got {response.status_code} {response.get_json()}")
            continue
        got = read_back(response)
        wrong = {f: got.get(f) for f in rules if got.get(f) != expected[f]}
        if wrong:
            tally.fail(text, f"read back {wrong}, expected {({f: expected[f] for f in wrong})}")
            continue
        tally.stored += 1
        if reread is not None and tally.stored % reread_every == 1:
            again = reread(response)
            wrong = {f: again.get(f) for f in rules if again.get(f) != expected[f]}
            if wrong:
                tally.fail(text, f"read again {wrong}, expected {({f: expected[f] for f in wrong})}")
        if on_stored is not None:
            on_stored(text, response)
    return tally

"""Keep the English catalogue in step with the code: one command for developers.

    .venv/bin/python scripts/translations.py                       # extract, update, count
    .venv/bin/python scripts/translations.py --fill /tmp/i18n/*.json

1. Extracts every translatable string (pybabel extract -F babel.cfg) from hub/,
   templates/ and static/js/ (in page scripts the function is t("中文"), Hub.t).
2. Updates translations/<lang>/LC_MESSAGES/messages.po: new strings are added
   with an empty msgstr, strings no longer in the code are dropped. No fuzzy
   guesses: a wrong English sentence is worse than a visible Chinese one.
3. Fills empty msgstr from JSON files of {"中文": "English"} (a plural entry
   takes ["singular", "plural"]; an entry with a context, pgettext, is looked up
   as "context\u0004中文" first), as helpers hand translations over.
4. Prints how many entries are still untranslated; exits 1 when some are, so CI
   or a pre-commit hook can insist.

The app compiles the .po files at start-up (hub/i18n.py); nothing else to run.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("en",)


def pybabel(*args: str) -> None:
    """Run a pybabel command in this process (the same Babel the app uses)."""
    CommandLineInterface().run(["pybabel", "--quiet", *args])


def extract(pot: Path) -> Path:
    """Write the template of every translatable string to `pot`."""
    with contextlib.chdir(ROOT):       # locations relative to the repository
        pybabel("extract", "-F", "babel.cfg", "--no-wrap", "--project", "Hub", "-o", str(pot), ".")
    return pot


def update(pot: Path, language: str) -> Path:
    """Merge the template into the language's catalogue (new, changed and dropped strings)."""
    po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    command = "update" if po.exists() else "init"
    options = ["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
    pybabel(command, "-i", str(pot), "-d", str(TRANSLATIONS), "-l", language, "--no-wrap", *options)
    return po


def load_translations(paths: list[Path]) -> dict[str, str | list[str]]:
    """The {"中文": "English"} maps of `paths`, later files winning."""
    merged: dict[str, str | list[str]] = {}
    for path in paths:
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def is_translated(message) -> bool:
    """Every form of the entry has English (a plural entry has one string per form)."""
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(strings)


def fill(po: Path, translations: dict[str, str | list[str]]) -> int:
    """Fill the empty msgstr of `po` from `translations`; returns how many were filled."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    filled = 0
    for message in catalog:
        if not message.id or is_translated(message):
            continue
        key = message.id[0] if message.pluralizable else message.id
        english = translations.get(f"{message.context}\x04{key}") if message.context else None
        english = english or translations.get(key)
        if not english:
            continue
        if message.pluralizable:
            forms = [english, english] if isinstance(english, str) else list(english)
            message.string = tuple(forms[:catalog.num_plurals])
        elif isinstance(english, str):
            message.string = english
        else:
            continue
        filled += 1
    if filled:
        with po.open("wb") as handle:
            write_po(handle, catalog, width=0)
    return filled


def untranslated(po: Path) -> list[str]:
    """The msgids of `po` that have no translation yet."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    return [message.id[0] if message.pluralizable else message.id
            for message in catalog if message.id and not is_translated(message)]


def main(argv: list[str] | None = None) -> int:
    """Extract, update and fill each language's catalogue; 1 while anything lacks English."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", nargs="*", type=Path, default=[], metavar="JSON",
                        help='files of {"中文": "English"} to fill empty translations from')
    parser.add_argument("--list", action="store_true", help="print the untranslated strings")
    args = parser.parse_args(argv)
    translations = load_translations(args.fill)
    missing_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        pot = extract(Path(tmp) / "messages.pot")
        for language in LANGUAGES:
            po = update(pot, language)
            filled = fill(po, translations)
            missing = untranslated(po)
            missing_total += len(missing)
            print(f"{po.relative_to(ROOT)}: filled {filled}, untranslated {len(missing)}")
            if args.list:
                for msgid in missing:
                    print(f"  {msgid}")
    return 1 if missing_total else 0


if __name__ == "__main__":
    sys.exit(main())

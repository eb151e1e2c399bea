"""Language: Chinese by default, English available (Flask-Babel).

The source strings are the Chinese text people read; `translations/en/` holds
their English. The language follows a person's own setting (users.locale), or
else the browser's Accept-Language, or else Chinese. The .po catalogues are
compiled into the instance folder when they change, so nothing binary is kept
in git and a fresh clone needs no extra step.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel
from flask_login import current_user

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"
SOURCE = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def select_locale() -> str:
    """The person's own choice, else the browser's, else Chinese."""
    try:
        chosen = getattr(current_user, "locale", None)
    except Exception:        # outside a request, or before the user is loaded
        chosen = None
    if chosen in LANGUAGES:
        return chosen
    if request:
        return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT)
    return DEFAULT


def compile_catalogues(target: Path) -> Path:
    """Compile translations/<lang>/LC_MESSAGES/messages.po into `target` when the
    .po is newer than the .mo there. Returns `target`."""
    for po_path in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        partial = mo_path.with_suffix(".mo.partial")
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        partial.replace(mo_path)       # atomic: several processes may start at once
    return target


def register(app: Flask) -> None:
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def languages() -> dict:
        from flask_babel import get_locale
        def html_lang() -> str:
            return "en" if str(get_locale()) == "en" else "zh-CN"
        return {"LANGUAGES": LANGUAGES, "html_lang": html_lang}

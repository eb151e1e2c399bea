"""Language: Chinese by default, English available (Flask-Babel).

The source strings are the Chinese text people read; `translations/en/` holds
their English. The language follows a person's own setting (users.locale), or
else the browser's Accept-Language, or else Chinese. The .po catalogues are
compiled into the instance folder when they change, so nothing binary is kept
in git and a fresh clone needs no extra step.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, gettext
from flask_login import current_user

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"
# The language chosen on the sign-in page, before anyone is signed in (a cookie
# of this browser; a signed-in person's own setting wins).
COOKIE = "hub_language"
SOURCE = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def N_(text: str) -> str:
    """Marks a word for the catalogue without translating it here (Babel's N_ keyword)."""
    return text


# Words kept as they are in the database and shown on pages: the statutory
# document types, the urgencies and the one classification (hub/documents/models.py).
# Listed here for the catalogue; the `term` filter translates them where shown.
STORED_TERMS = frozenset((
    N_("决议"), N_("决定"), N_("命令"), N_("公报"), N_("公告"), N_("通告"), N_("意见"), N_("通知"),
    N_("通报"), N_("报告"), N_("请示"), N_("批复"), N_("议案"), N_("函"), N_("纪要"),
    N_("特急"), N_("加急"), N_("平件"), N_("非涉密"),
))


def term(value: object) -> object:
    """A stored word in the page's language (`{{ document.doc_type|term }}`); other values as they are."""
    return gettext(value) if value in STORED_TERMS else value


def chosen_language() -> str | None:
    """The language chosen by hand: the person's own setting, else this
    browser's choice on the sign-in page; None to follow the browser."""
    try:
        chosen = current_user.locale if current_user.is_authenticated else None
        if chosen is None and request:
            chosen = request.cookies.get(COOKIE)
    except Exception:        # outside a request, or before the user is loaded
        chosen = None
    return chosen if chosen in LANGUAGES else None


def select_locale() -> str:
    """The language chosen by hand, else the browser's, else Chinese."""
    chosen = chosen_language()
    if chosen is not None:
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
        partial = mo_path.with_suffix(".mo.partial")
        partial.write_bytes(_compiled(po_path, po_path.stat().st_mtime))
        partial.replace(mo_path)       # atomic: several processes may start at once
    return target


@lru_cache(maxsize=8)
def _compiled(po_path: Path, mtime: float) -> bytes:
    """The .mo bytes of a catalogue, once per process and version of the .po
    (the tests build an app, and an instance folder, for every test)."""
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def browser_strings(source: Path = SOURCE) -> dict[str, dict[str, str]]:
    """Per language, the translations of the strings that page scripts show
    (t("中文") in static/js). A page carries only its own language's, as a JSON
    data block (templates/base.html), so the browser needs no catalogue files."""
    return {po_path.parent.parent.name: _script_strings(po_path, po_path.stat().st_mtime)
            for po_path in source.glob("*/LC_MESSAGES/messages.po")}


@lru_cache(maxsize=8)
def _script_strings(po_path: Path, mtime: float) -> dict[str, str]:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    return {message.id: message.string for message in catalog
            if message.id and message.string and not message.pluralizable
            and any(path.startswith("static/js/") for path, _line in message.locations)}


def register(app: Flask) -> None:
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    scripts = browser_strings()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["term"] = term

    @app.context_processor
    def languages() -> dict:
        from flask_babel import get_locale
        def html_lang() -> str:
            return "en" if str(get_locale()) == "en" else "zh-CN"
        def page_script_strings() -> dict[str, str]:
            return scripts.get(str(get_locale()), {})
        return {"LANGUAGES": LANGUAGES, "html_lang": html_lang, "browser_strings": page_script_strings,
                "chosen_language": chosen_language}

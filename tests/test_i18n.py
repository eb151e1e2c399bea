"""Language: every user-facing string is translatable, the English catalogue is
complete, and pages follow a person's setting, else the browser, else Chinese."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from hub import create_app
from tests.cast import PEOPLE, UNITS
from tests.factories import NOTICE_SUMMARY, NOTICE_TITLE, page, publish_to_town

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC_JS = ROOT / "static" / "js"
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# Han characters and Chinese punctuation (the ideographic space U+3000, used to
# indent names in a select, is layout, not text).
CHINESE = re.compile(r"[\u3001-\u303f\u4e00-\u9fff\uff01-\uff5e]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TRANSLATING = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
# The language switch names each language in that language (LANGUAGES in hub/i18n.py);
# a sample document number is Chinese in every language.
ALLOWED_DATA = {"中文", "柯政办发〔2026〕3号"}


def load_translations_script():
    spec = importlib.util.spec_from_file_location("translations_script", ROOT / "scripts" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def jinja_env(tmp_path_factory):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")), "REDIS_URL": None,
                      "DEMO": False})
    return app.jinja_env


# ---- (a) No Chinese text outside a translation call -------------------------------------

def untranslated_in_template(env, source: str) -> list[str]:
    """Chinese in template text, or in a string literal that is neither an argument
    of _()/ngettext() nor compared with == / != (stored values such as 平件)."""
    tokens = list(env.lexer.tokenize(source))
    problems = []
    in_trans = False
    for index, token in enumerate(tokens):
        if token.type == "name" and token.value in ("trans", "pluralize"):
            in_trans = True
        elif token.type == "name" and token.value == "endtrans":
            in_trans = False
        if not CHINESE.search(str(token.value)) or in_trans:
            continue
        if token.type == "data":
            problems.append(f"line {token.lineno}: text {token.value.strip()[:60]!r}")
        elif token.type == "string" and not is_translated_literal(tokens, index):
            problems.append(f"line {token.lineno}: string {token.value[:60]!r}")
    return problems


def is_translated_literal(tokens, index: int) -> bool:
    before = tokens[index - 1] if index else None
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    if any(near is not None and near.type in ("eq", "ne") for near in (before, after)):
        return True
    # Walk back over earlier literal arguments (ngettext's singular) to the call.
    position = index - 1
    while position >= 1 and tokens[position].type == "comma" and tokens[position - 1].type == "string":
        position -= 2
    return (position >= 1 and tokens[position].type == "lparen"
            and tokens[position - 1].type == "name" and tokens[position - 1].value in TRANSLATING)


def test_templates_have_no_chinese_outside_translation_calls(jinja_env):
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for problem in untranslated_in_template(jinja_env, template.read_text(encoding="utf-8")):
            problems.append(f"{template.relative_to(ROOT)} {problem}")
    assert problems == []


def test_the_scan_catches_bare_text_and_literals(jinja_env):
    """The scan above can fail: bare text, a bare literal and a concatenation are caught."""
    assert untranslated_in_template(jinja_env, "<p>收件箱</p>")
    assert untranslated_in_template(jinja_env, "{{ title or '未编号' }}")
    assert untranslated_in_template(jinja_env, "{{ _('共 ') ~ n ~ ' 条' }}")
    assert not untranslated_in_template(jinja_env, "{{ _('共 %(n)s 条', n=n) }}")
    assert not untranslated_in_template(jinja_env, "{% if u != '平件' %}{% endif %}")
    assert not untranslated_in_template(jinja_env, "{{ ngettext('%(num)s 人', '%(num)s 人', n) }}")


def test_page_scripts_show_chinese_only_through_t():
    """static/js: every Chinese string literal is the argument of t() (Hub.t)."""
    problems = []
    for script in sorted(STATIC_JS.glob("*.js")):
        text = re.sub(r"/\*.*?\*/", "", script.read_text(encoding="utf-8"), flags=re.S)
        for number, line in enumerate(text.splitlines(), 1):
            code = re.sub(r"^\s*//.*|\s//.*$", "", line)
            for literal in re.finditer(r'"(?:[^"\\]|\\.)*"', code):
                if CHINESE.search(literal.group(0)) and not code[:literal.start()].endswith("t("):
                    problems.append(f"{script.name}:{number}: {literal.group(0)[:60]}")
    assert problems == []


# ---- (b) The English catalogue is complete ----------------------------------------------

@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle)


def message_key(message):
    return message.id[0] if message.pluralizable else message.id


def test_every_extracted_string_is_in_the_english_catalogue(catalogue, tmp_path):
    script = load_translations_script()
    with script.extract(tmp_path / "messages.pot").open("rb") as handle:
        extracted = read_po(handle)
    known = {message_key(m) for m in catalogue if m.id}
    missing = sorted(message_key(m) for m in extracted if m.id and message_key(m) not in known)
    assert missing == [], "run scripts/translations.py"


def test_every_english_entry_is_translated(catalogue):
    empty = [message_key(m) for m in catalogue
             if m.id and not all(m.string if m.pluralizable else [m.string])]
    assert empty == []


def test_placeholders_are_the_same_in_chinese_and_english(catalogue):
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        sources = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        expected = set(PLACEHOLDER.findall(sources[-1])) | set(PLACEHOLDER.findall(sources[0]))
        for english in strings:
            if english and set(PLACEHOLDER.findall(english)) != expected:
                problems.append(f"{sources[0]!r} -> {english!r}")
    assert problems == []


def test_every_stored_word_shown_on_pages_has_a_translation(catalogue):
    """Document types, urgencies and the classification are stored in Chinese and
    translated where shown (the `term` filter); a new one must be listed in hub/i18n.py."""
    from hub.documents.models import DOC_TYPES, UNCLASSIFIED, URGENCIES
    from hub.i18n import STORED_TERMS
    assert set(DOC_TYPES) | set(URGENCIES) | {UNCLASSIFIED} <= STORED_TERMS
    english = {message.id: message.string for message in catalogue if message.id and not message.context}
    assert all(english.get(word) for word in STORED_TERMS)


class AnyValue(dict):
    def __missing__(self, key):
        return "x"


def test_translations_survive_the_formatting_their_pages_apply(catalogue):
    """Templates always %-format (Jinja's newstyle gettext), so a literal % is %%."""
    problems = []
    for message in catalogue:
        sources = message.id if message.pluralizable else (message.id,)
        in_template = any(path.startswith("templates/") for path, _line in message.locations)
        if not message.id or not (in_template or PLACEHOLDER.search(sources[0])):
            continue
        for english in message.string if message.pluralizable else (message.string,):
            try:
                english % AnyValue()
            except (TypeError, ValueError) as problem:
                problems.append(f"{english[:60]!r}: {problem}")
    assert problems == []


# ---- (c) Pages in the person's language -------------------------------------------------

NOTICE = {"title": NOTICE_TITLE, "summary": NOTICE_SUMMARY, "body": "各村（社区）：请按要求排查。"}
# What people and units are called, and what they wrote: data, never translated.
DATA = sorted({name for _code, name, _parent, _kind in UNITS}
              | {name for _login, name, *_rest in PEOPLE}
              | {position for _login, _name, _unit, position, _roles in PEOPLE if position}
              | set(NOTICE.values()) | ALLOWED_DATA, key=len, reverse=True)


def chinese_outside_data(html: str) -> list[str]:
    html = re.sub(r'\svalue="[^"]*"', "", html)         # what a form sends, not what it shows
    for text in DATA:
        html = html.replace(text, "")
    return sorted({html[max(0, m.start() - 30):m.end() + 30] for m in CHINESE.finditer(html)})


def test_pages_are_english_when_the_persons_setting_is_english(client, login, api, ids):
    notice = publish_to_town(api, ids, audience={"subtrees": [ids.unit("330802")]}, requires_ack=True,
                             body=NOTICE["body"])
    assert api("kc_admin").put("/api/v1/me/language", json={"language": "en"}).status_code == 200
    login("kc_admin")
    pages = ("/inbox/", "/documents/", f"/notices/{notice}", f"/notices/{notice}/coverage", "/admin/",
             f"/admin/units/{ids.unit('330802')}", "/channels/", "/channels/register")
    for path in pages:
        html = page(client, path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert '<html lang="en">' in html, path
        assert chinese_outside_data(html) == [], path
    assert "Inbox" in page(client, "/inbox/")


def test_pages_are_chinese_by_default_and_for_a_chinese_browser(client, login):
    login("kc_clerk")
    for headers in ({}, {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}):
        html = page(client, "/inbox/", headers=headers)
        assert '<html lang="zh-CN">' in html
        assert "收件箱" in html and ">Inbox<" not in html
        assert 'id="hub-strings"' not in html            # the page scripts' source text is Chinese


def test_an_english_browser_gets_english_with_the_page_script_strings(client, login):
    login("kc_clerk")
    html = page(client, "/inbox/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in html and ">Inbox<" in html and ">收件箱<" not in html
    strings = re.search(r'<script type="application/json" id="hub-strings">(.*?)</script>', html)
    assert strings is not None
    assert json.loads(strings.group(1))["正在加载…"] == "Loading…"


def test_the_footer_switch_sets_and_clears_the_persons_language(client, login):
    login("kc_clerk")
    response = client.post("/auth/language", data={"language": "en", "next": "/documents/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/documents/")
    html = page(client, "/documents/", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in html and 'value="en" lang="en" selected' in html
    client.post("/auth/language", data={"language": "", "next": "/inbox/"})
    assert '<html lang="zh-CN">' in page(client, "/inbox/", headers={"Accept-Language": "zh-CN"})


def test_the_api_sets_the_language_and_it_lasts_across_sign_ins(client, login, api):
    person = api("mp_secretary")
    response = person.put("/api/v1/me/language", json={"language": "en"})
    assert response.status_code == 200 and response.get_json() == {"language": "en"}
    login("mp_secretary")
    assert '<html lang="en">' in page(client, "/inbox/")
    assert person.put("/api/v1/me/language", json={"language": None}).get_json() == {"language": None}
    assert '<html lang="zh-CN">' in page(client, "/inbox/")


@pytest.mark.parametrize("language", ["klingon", "EN", 3, ["en"]])
def test_a_bad_language_is_refused_naming_the_field(api, language):
    response = api("kc_clerk").put("/api/v1/me/language", json={"language": language})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "language"

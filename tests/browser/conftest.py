"""Browser tests: a real hub process with the demo county, driven by headless Chromium.

One hub per session (gunicorn on a random loopback port, a fresh SQLite file,
the demo county 柯城区, no second factor), one Chromium per session. Every test
that takes `page` runs twice, on a phone (390x844, touch) and on a desktop
(1366x768). A test fails on any console error or uncaught page error of the
pages it opened. Each page a journey stops at (visit, settle) is screenshot to
tests/artifacts/<size>/<name>.png and checked: axe-core (serious and critical
findings fail), a visible keyboard focus, and no presence or rankings on it.

Without /usr/bin/chromium the whole suite is skipped, unless HUB_REQUIRE_BROWSER=1
(CI sets it), which turns the skip into a failure. Playwright never downloads a
browser here: it drives Debian's chromium.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = ROOT / "static" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
DEMO_PASSWORD = "Demo@2026"
SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 768}},
}
# axe findings of these impacts fail a test; "moderate" and "minor" are left to review.
BLOCKING_IMPACTS = ("serious", "critical")
HUB_START_SECONDS = 120


def _require_browser() -> None:
    """Skip (or, with HUB_REQUIRE_BROWSER=1, fail) when Chromium or Playwright is missing."""
    problem = None
    if not os.path.exists(CHROMIUM):
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (requirements-dev.txt)"
    if problem is None:
        return
    if os.environ.get("HUB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}")


def _free_port() -> int:
    """A free loopback port in 20000-40000 (other test servers use the OS's ephemeral range)."""
    for _ in range(100):
        port = random.randint(20000, 40000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-40000")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _start_hub(folder: Path, port: int) -> subprocess.Popen:
    """gunicorn as run.sh starts it, on its own instance folder; it loads the demo on first start."""
    env = {**os.environ, "HUB_INSTANCE_PATH": str(folder), "HUB_BIND": f"127.0.0.1:{port}",
           "HUB_DEMO": "1", "HUB_DEMO_COUNTY": "330802", "HUB_TOTP_REQUIRED": "off",
           "HUB_SECRET_KEY": "browser-tests", "HUB_THREADS": "40",
           # Every journey signs in from 127.0.0.1 (the limits are tests/auth's), and a
           # test machine may have less free space than production's upload floor.
           "HUB_SIGN_IN_LIMIT_PER_ADDRESS": "off", "HUB_SIGN_IN_LIMIT_PER_LOGIN": "off",
           "HUB_SEARCH_LIMIT_PER_PERSON": "off", "HUB_STORAGE_MIN_FREE_MB": "16"}
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_WORKER", "HUB_SOCKETIO_ALLOWED_ORIGINS"):
        env.pop(name, None)
    log = open(folder / "hub.log", "wb")       # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """End the hub's process group (gunicorn master and worker), firmly if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def hub_url(tmp_path_factory) -> Iterator[str]:
    """The base URL of a live hub with the demo county, for the whole session."""
    _require_browser()
    folder = tmp_path_factory.mktemp("live-hub")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start_hub(folder, port)
    try:
        deadline = time.monotonic() + HUB_START_SECONDS
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "hub.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"the live hub did not start on {url}:\n{log}", pytrace=False)
            time.sleep(0.3)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser(hub_url):
    """One headless Chromium (Debian's) for the session."""
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=10_000)     # live updates on a busy 2-core machine
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session", autouse=True)
def fresh_artifacts():
    """Screenshots of this run only: tests/artifacts/ is emptied once per session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


class PageErrors:
    """Console errors and uncaught exceptions of every page a test opened."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def allow_refusal(self, status: int) -> None:
        """Forget the console's note of a page answered with `status`: the journey
        submitted a form that had to be refused (and checks how it was)."""
        note = f"the server responded with a status of {status} "
        self.found[:] = [error for error in self.found if note not in error]

    def watch(self, page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: uncaught {error}"))

    def _console(self, page, message) -> None:
        if message.type == "error":
            source = (message.location or {}).get("url") or ""
            self.found.append(f"{page.url}: console error: {message.text} ({source})")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A browser test whose pages logged an error fails, even if its assertions passed."""
    result = yield
    errors = getattr(item, "browser_errors", None)
    if errors is not None and errors.found:
        raise AssertionError("errors in the browser:\n" + "\n".join(errors.found))
    return result


@pytest.fixture(params=list(SIZES))
def size(request) -> str:
    """"phone" or "desktop": every test that uses a page runs at both sizes."""
    return request.param


@pytest.fixture
def page_errors(request) -> PageErrors:
    """The errors of this test's pages, where pytest_runtest_call finds them."""
    errors = PageErrors()
    request.node.browser_errors = errors
    return errors


@pytest.fixture(scope="session")
def signed_in_states(browser, hub_url, tmp_path_factory) -> Callable[[str], str]:
    """state(login) -> a storage-state file of that person signed in (signed in once per session).

    Tests must not sign these people out: signing out ends the sign-in for every copy of its cookie."""
    folder = tmp_path_factory.mktemp("storage-states")
    states: dict[str, str] = {}

    def state(login: str) -> str:
        if login not in states:
            context = browser.new_context(base_url=hub_url, locale="zh-CN")
            page = context.new_page()
            sign_in(page, login)
            path = folder / f"{login}.json"
            context.storage_state(path=str(path))
            context.close()
            states[login] = str(path)
        return states[login]

    return state


@pytest.fixture
def new_page(browser, hub_url, size, page_errors, signed_in_states) -> Iterator[Callable]:
    """new_page(login=None) -> a page in a fresh browser context at the test's size, watched for
    errors; with a login it starts signed in as that person (a second person, a second device)."""
    contexts = []

    def open_page(login: str | None = None):
        options = dict(SIZES[size], base_url=hub_url, locale="zh-CN")
        if login:
            options["storage_state"] = signed_in_states(login)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page_errors.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A fresh, signed-out page at the test's size (ids "phone" and "desktop")."""
    return new_page()


def sign_in(page, login: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, as a person would; ends on the page the hub sends them to."""
    page.goto("/auth/login")
    page.get_by_label("账号", exact=True).fill(login)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, f"{login} could not sign in: {page.inner_text('main')[:300]}"


def size_of(page) -> str:
    """"phone" or "desktop", from the page's viewport."""
    width = page.viewport_size["width"]
    return next(name for name, options in SIZES.items() if options["viewport"]["width"] == width)


def shot(page, name: str) -> Path:
    """A full-page PNG at tests/artifacts/<size>/<name>.png, for looking at after the run."""
    path = ARTIFACTS / size_of(page) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now.

    axe is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the hub's CSP stays on (a violation of it is a console error)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [violation for violation in results["violations"] if violation["impact"] in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.extend(f"    {' '.join(node['target'])}: {node.get('failureSummary', '')[:200]!r}"
                     for node in violation["nodes"][:5])
    return "\n".join(lines)


def check_axe(page) -> None:
    """Fail on any serious or critical axe-core violation of the page, listing them."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n{describe_violations(violations)}"


def visit(page, path: str, name: str) -> None:
    """Open `path`, then take its screenshot and check it with axe (what every journey does per page)."""
    page.goto(path)
    settle(page, name)


def settle(page, name: str) -> None:
    """Screenshot the page as it is now, then check it: axe-core, a visible keyboard
    focus, and nothing that watches or ranks people."""
    page.wait_for_load_state()
    shot(page, name)
    check_axe(page)
    check_calm(page)
    check_focus_visible(page)


# What a calm workplace tool never shows (DESIGN.md; tests/test_no_rankings.py checks
# routes and JSON, this checks what is on the screen): presence, "last seen",
# rankings, points and likes, check-ins.
UNCALM_WORDS = ("在线", "离线", "最后上线", "最近登录", "上次登录", "登录次数", "排名", "排行", "榜单",
                "积分", "点赞", "送花", "打卡", "签到", "活跃度", "得分", "评比",
                "last seen", "online", "offline", "ranking", "leaderboard")
# Sentences that say so in the negative ("不排名、不比较") are the opposite of a ranking.
CALM_DISCLAIMERS = ("不排名", "也不做排名", "不做排名")


def uncalm_words(text: str) -> list[str]:
    for disclaimer in CALM_DISCLAIMERS:
        text = text.replace(disclaimer, "")
    lowered = text.lower()
    return [word for word in UNCALM_WORDS if word in lowered]


def check_calm(page) -> None:
    """No presence, "last seen", rankings or points anywhere on the page (its accessible text too)."""
    text = page.evaluate("""() => document.body.innerText + ' ' + Array.from(
        document.querySelectorAll('[aria-label],[title],[placeholder]'),
        el => ['aria-label', 'title', 'placeholder'].map(name => el.getAttribute(name) || '').join(' ')
    ).join(' ')""")
    found = uncalm_words(text)
    assert not found, f"{page.url} shows {found}"


FOCUS_STOPS = 3           # the first few Tab stops of each page: skip link, brand, navigation


def check_focus_visible(page) -> None:
    """Tabbing shows where the focus is: each of the first Tab stops matches
    :focus-visible and draws an outline or a box-shadow. (Tab may wrap past the end
    of a short page, such as the sign-in form, onto the browser itself.)"""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    checked = []
    for _ in range(2 * FOCUS_STOPS):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUSED_JS)
        if focus is None:
            continue
        assert focus_is_visible(focus), f"{page.url}: no visible focus on {focus}"
        checked.append(focus)
        if len(checked) == FOCUS_STOPS:
            break
    assert checked, f"{page.url}: Tab reaches nothing"
    page.evaluate("() => document.activeElement && document.activeElement.blur()")    # clean screenshots


def focus_is_visible(focus: dict) -> bool:
    """The focused element (as FOCUSED_JS describes it) is in :focus-visible and draws a ring."""
    drawn = (focus["outline"] != "none" and focus["outlineWidth"] > 0) or focus["shadow"] != "none"
    return focus["visible"] and drawn


# The focused element and how it is drawn; None when the focus is on the page itself.
FOCUSED_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    return {tag: el.tagName, text: (el.innerText || el.value || el.id || '').slice(0, 40),
            visible: el.matches(':focus-visible'), outline: style.outlineStyle,
            outlineWidth: parseFloat(style.outlineWidth) || 0, shadow: style.boxShadow};
}"""


def remember_this_load(page) -> None:
    """Mark the page's window; a reload or a navigation would lose the mark."""
    page.evaluate("() => { window.hubNotReloaded = true; }")


def assert_not_reloaded(page) -> None:
    """What changed on the page since remember_this_load came live, not from a reload."""
    assert page.evaluate("() => window.hubNotReloaded === true"), f"{page.url} was reloaded"


class HubApi:
    """The JSON API with bearer tokens, for setting the scene of a journey (a notice to
    read, a document to sign for): hub_api.as_("d02.clerk").post("/documents", {...})."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: dict[str, str] = {}

    def as_(self, login: str) -> ApiCaller:
        if login not in self.tokens:
            answer = _call(self.url, "POST", "/auth/token", {"login": login, "password": DEMO_PASSWORD})
            self.tokens[login] = answer["token"]
        return ApiCaller(self.url, self.tokens[login])


class ApiCaller:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def get(self, path: str) -> dict:
        return _call(self.url, "GET", path, None, self.token)

    def post(self, path: str, body: dict | None = None) -> dict:
        return _call(self.url, "POST", path, body or {}, self.token)

    def put(self, path: str, body: dict) -> dict:
        return _call(self.url, "PUT", path, body, self.token)


def _call(url: str, method: str, path: str, body: dict | None, token: str | None = None) -> dict:
    path = urllib.parse.quote(path, safe="/?=&")
    request = urllib.request.Request(f"{url}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read().decode()[:400]}") from None
    return json.loads(text) if text else {}


@pytest.fixture(scope="session")
def hub_api(hub_url) -> HubApi:
    """The live hub's JSON API, signed in as anyone of the demo (tokens kept for the session)."""
    return HubApi(hub_url)

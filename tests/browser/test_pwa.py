"""The installable web app in Chromium: the service worker takes over after the
first visit, the inbox opens offline (its kept copy, or the offline page), signing
out deletes the kept pages, and the manifest is linked, parsed and installable."""
import json

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, settle, shot, sign_in, size_of

pytestmark = pytest.mark.browser

CADRE = "330802100202.sj"          # 麻蓬村's party secretary
OFFLINE_HEADING = "现在没有网络"
# What the browser logs for the requests that fail while it is offline (Socket.IO's, above all).
OFFLINE_ERRORS = ("ERR_INTERNET_DISCONNECTED", "ERR_FAILED", "WebSocket connection")

KEPT_PAGES = """async () => {
  const names = (await caches.keys()).filter((name) => name.startsWith("hub-pages-"));
  const urls = [];
  for (const name of names) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


def controlled(page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def wait_until_kept(page, path: str) -> None:
    page.wait_for_function(f"async (path) => (await ({KEPT_PAGES})()).includes(path)", arg=path)


def forgive_offline_errors(page_errors) -> None:
    """Requests that fail because the test cut the network are expected, nothing else is."""
    page_errors.found[:] = [e for e in page_errors.found if not any(s in e for s in OFFLINE_ERRORS)]


def test_worker_controls_the_page_after_the_first_visit(new_page, hub_url):
    page = new_page(CADRE)
    page.goto("/inbox/")
    controlled(page)
    worker = page.evaluate("""async () => {
      const registration = await navigator.serviceWorker.ready;
      return {scope: registration.scope, state: registration.active.state,
              script: registration.active.scriptURL};
    }""")
    assert worker == {"scope": f"{hub_url}/", "state": "activated", "script": f"{hub_url}/sw.js"}
    shell = page.evaluate("""async () => {
      const name = (await caches.keys()).find((n) => n.startsWith("hub-static-"));
      return (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    }""")
    assert {"/offline", "/static/css/hub.css", "/static/js/hub.js"} <= set(shell)


def test_worker_keeps_reading_pages_and_never_api_answers_or_other_pages(new_page):
    page = new_page(CADRE)
    page.goto("/inbox/")
    controlled(page)
    page.goto("/directory")              # people's details: not a page to keep
    page.goto("/inbox/")                 # its script asks /api/v1/me/schedule through the worker
    wait_until_kept(page, "/inbox/")
    page.wait_for_load_state("networkidle")
    cached = page.evaluate("""async () => {
      const urls = [];
      for (const name of await caches.keys()) {
        const requests = await (await caches.open(name)).keys();
        urls.push(...requests.map((request) => new URL(request.url).pathname));
      }
      return urls;
    }""")
    assert "/inbox/" in cached
    assert [url for url in cached if url.startswith(("/api/", "/socket.io/", "/directory", "/auth/"))] == []


def test_inbox_opens_offline_from_its_kept_copy_then_the_offline_page(new_page, page_errors):
    page = new_page(CADRE)
    page.goto("/inbox/")
    controlled(page)
    page.reload()                        # now through the worker, which keeps a copy
    wait_until_kept(page, "/inbox/")
    heading = page.get_by_role("heading", level=1).first.inner_text()

    page.context.set_offline(True)
    page.reload()
    assert page.get_by_role("heading", level=1).first.inner_text() == heading
    shot(page, "pwa-inbox-offline")

    page.goto("/channels/")              # never opened: the shell's offline page
    assert page.get_by_role("heading", level=1).inner_text() == OFFLINE_HEADING
    settle(page, "pwa-offline-page")
    forgive_offline_errors(page_errors)


def test_signing_out_deletes_the_kept_pages(new_page, page_errors):
    page = new_page()                    # its own sign-in: signing out ends only this one
    sign_in(page, "330802100202.zr")
    page.goto("/inbox/")
    controlled(page)
    page.reload()
    wait_until_kept(page, "/inbox/")

    if size_of(page) == "phone":            # on a phone 退出 is in 我的
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的").click()
        page.get_by_role("button", name="退出登录").click()
    else:
        page.get_by_role("button", name="退出", exact=True).click()
    page.wait_for_url("**/auth/login**")
    assert page.evaluate(KEPT_PAGES) == []
    page.context.set_offline(True)
    page.goto("/inbox/")
    assert page.get_by_role("heading", level=1).inner_text() == OFFLINE_HEADING
    forgive_offline_errors(page_errors)


def test_manifest_is_linked_and_parsed(new_page, hub_url):
    page = new_page(CADRE)
    page.goto("/inbox/")
    manifest = page.context.new_cdp_session(page).send("Page.getAppManifest")
    assert manifest["url"] == f"{hub_url}/static/manifest.webmanifest"
    assert manifest["errors"] == []
    assert json.loads(manifest["data"])["start_url"] == "/inbox/"


def test_chromium_finds_the_app_installable(browser, hub_url, tmp_path):
    """Chromium answers only "in-incognito" for the test's throwaway contexts, so
    this one runs in a profile on disk, where every install criterion is checked."""
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, base_url=hub_url, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/auth/login")
        controlled(page)
        errors = context.new_cdp_session(page).send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
    finally:
        context.close()

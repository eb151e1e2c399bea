"""Benchmark: the inbox on a weak mobile network, first load and repeat load (PWA, issue 8).

    .venv/bin/python bench/pwa.py [--runs 5] [--json]

Starts its own hub as run.sh does (`gunicorn -c gunicorn.conf.py wsgi:app`, HUB_DEMO=1,
HUB_TOTP_REQUIRED=off, a fresh instance folder in a temp dir, a free loopback port),
signs in the demo's village cadre 330802100202.sj (麻蓬村's party secretary) once, and
opens /inbox/ in Debian's Chromium (Playwright) at phone size, with the network
emulated through the DevTools protocol (Network.emulateNetworkConditions) on the
measured load only. Three ways in, each --runs times in a fresh browser context:

- first: an empty HTTP cache and no service worker (only the sign-in cookie);
- repeat, HTTP cache: the inbox opened once before, service workers blocked: what a
  browser without the worker does (static files come back as 304s, one round trip each);
- repeat, service worker: the inbox opened twice before (the worker installed, its
  shell cached, the page kept), then opened again.

Per load: DOMContentLoaded and load (ms from the navigation's start, Navigation
Timing), bytes that crossed the network (Resource Timing transferSize of the page
and of every resource finished by the load event: zero for what the worker answers
from its cache) and how many requests crossed it. Medians are printed; the figures,
with the machine and the date, go into docs/PERFORMANCE.md.

Waits for /tmp/BENCH-RUNNING to be gone, and holds it from the hub's start to its stop.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LOCK = Path("/tmp/BENCH-RUNNING")
CADRE, PASSWORD = "330802100202.sj", "Demo@2026"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
# latency: added round trip (ms); throughputs in bytes per second.
NETWORKS = {
    "slow 4G (150 ms, 1.6 Mbit/s down, 750 kbit/s up)":
        {"latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8},
    "3G (300 ms, 750 kbit/s down, 250 kbit/s up)":
        {"latency": 300, "downloadThroughput": 750_000 / 8, "uploadThroughput": 250_000 / 8},
}
NO_THROTTLING = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
MODES = ("first", "repeat, HTTP cache", "repeat, service worker")
TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const sizes = [nav.transferSize, ...resources.map((r) => r.transferSize)];
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          bytes: sizes.reduce((a, b) => a + b, 0), requests: sizes.filter((s) => s > 0).length,
          resources: resources.length + 1};
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_hub(folder: Path) -> tuple[subprocess.Popen, str]:
    """The hub with the demo county, as run.sh starts it; returns the process and its URL."""
    port = free_port()
    env = {**os.environ, "HUB_INSTANCE_PATH": str(folder), "HUB_BIND": f"127.0.0.1:{port}",
           "HUB_DEMO": "1", "HUB_TOTP_REQUIRED": "off", "HUB_SECRET_KEY": "bench-pwa"}
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_WORKER", "HUB_ACCESS_LOG"):
        env.pop(name, None)
    with open(folder / "hub.log", "wb") as log:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((folder / "hub.log").read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    stop_hub(process)
    raise RuntimeError("the hub did not start in 180 s")


def stop_hub(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def sign_in(browser, url: str) -> dict:
    """The cadre's signed-in storage state (cookies), signed in once through the form."""
    context = browser.new_context(base_url=url, **PHONE)
    page = context.new_page()
    page.goto("/auth/login")
    page.get_by_label("账号").fill(CADRE)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    if "/auth/login" in page.url:
        raise RuntimeError(f"{CADRE} could not sign in")
    state = context.storage_state()
    context.close()
    return state


def prime_worker(page) -> None:
    """First visit installs the worker; the second goes through it, which keeps the page."""
    page.goto("/inbox/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.goto("/inbox/")
    page.wait_for_function("""async () => {
      const names = (await caches.keys()).filter((name) => name.startsWith("hub-pages-"));
      return names.length > 0 && (await (await caches.open(names[0])).keys()).length > 0;
    }""")


def measure(browser, url: str, state: dict, network: dict, mode: str) -> dict:
    """One load of /inbox/ in a fresh context, after the priming that `mode` calls for."""
    workers = "block" if mode == "repeat, HTTP cache" else "allow"
    context = browser.new_context(base_url=url, storage_state=state, service_workers=workers, **PHONE)
    try:
        page = context.new_page()
        if mode == "repeat, HTTP cache":
            page.goto("/inbox/")
        elif mode == "repeat, service worker":
            prime_worker(page)
        devtools = context.new_cdp_session(page)
        devtools.send("Network.enable")
        devtools.send("Network.emulateNetworkConditions", {"offline": False, **network})
        page.goto("/inbox/", wait_until="load")
        page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        result = page.evaluate(TIMINGS)
        if "/inbox/" not in page.url:
            raise RuntimeError(f"the inbox did not open: {page.url}")
        return result
    finally:
        context.close()


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def hold_lock() -> None:
    while LOCK.exists():
        print("waiting for another benchmark to finish (/tmp/BENCH-RUNNING)", flush=True)
        time.sleep(15)
    LOCK.write_text(f"bench/pwa.py {os.getpid()}\n")


def run(runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-pwa-") as folder:
        process, url = start_hub(Path(folder))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                     args=["--no-sandbox", "--disable-gpu", "--disable-quic"])
                state = sign_in(browser, url)
                measure(browser, url, state, NO_THROTTLING, "first")      # the server's first requests
                results = {}
                for name, network in NETWORKS.items():
                    for mode in MODES:
                        samples = [measure(browser, url, state, network, mode) for _ in range(runs)]
                        results[f"{name} | {mode}"] = {"median": median_of(samples), "runs": samples}
                        print(f"{name} | {mode}: {format_row(median_of(samples))}", flush=True)
                version = browser.version
                browser.close()
                return {"chromium": version, "results": results}
        finally:
            stop_hub(process)


def format_row(median: dict) -> str:
    return (f"DOMContentLoaded {median['dcl']:.0f} ms, load {median['load']:.0f} ms, "
            f"{median['bytes'] / 1024:.1f} KB in {median['requests']:.0f} requests over the network "
            f"(of {median['resources']:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="loads per network and mode (median)")
    parser.add_argument("--json", action="store_true", help="print every run as JSON at the end")
    args = parser.parse_args()
    print(f"{platform.node()} · {os.cpu_count()} cores · {platform.platform()} · {time.strftime('%Y-%m-%d')}")
    hold_lock()
    try:
        outcome = run(args.runs)
    finally:
        LOCK.unlink(missing_ok=True)
    print(f"Chromium {outcome['chromium']}")
    if args.json:
        json.dump(outcome, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()

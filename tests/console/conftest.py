"""The console in a real browser: Debian's Chromium driven by Playwright against a real app
(uvicorn in a thread, a SQLite file, the trained models), seeded through the API itself."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from chatcoach.config import Settings
from chatcoach.demo import DEMO_DIR
from chatcoach.serving.app import create_app
from chatcoach.serving.keys import create_key

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TZ = ZoneInfo("Asia/Shanghai")  # the report's default time zone; the browser runs in it too
TEAM = "north"
SIDE_ORDER = "加我小号，私下转我便宜五十"  # the side-order phrase tests/serving/test_api.py sees flagged


def _missing(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the console tests: {what} (scripts/test.sh installs it)")
    pytest.skip(f"{what} (bash scripts/chromium.sh installs it)")


@pytest.fixture(scope="session")
def pipeline(encoder):
    from chatcoach.pipeline import Pipeline

    return Pipeline.load(encoder=encoder)


class Server:
    """uvicorn serving the app in a background thread, on a socket bound before it starts."""

    def __init__(self, app):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture(scope="session")
def app(tmp_path_factory, pipeline):
    url = f"sqlite:///{tmp_path_factory.mktemp('console-db') / 'chatcoach.db'}"
    # Small audit batches so the progress bar has steps to show.
    return create_app(Settings(database_url=url, audit_batch_size=2), pipeline=pipeline)


@pytest.fixture(scope="session")
def keys(app):
    made = {}
    with app.state.db.session() as s:
        for name, role, rep, team in [("admin", "admin", None, None), ("qa", "qa", None, TEAM), ("trainer", "trainer", None, TEAM),
                                      ("rep_a", "rep", "rep-a", TEAM), ("rep_b", "rep", "rep-b", TEAM)]:
            made[name] = create_key(s, role, name=f"test {name}", rep_id=rep, team=team).secret
    return made


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _retimed(chat: dict, end: datetime) -> dict:
    """The chat moved in time so its last message is at `end` (today's report then has data)."""
    stamps = [datetime.fromisoformat(m["ts"]) for m in chat["messages"] if m.get("ts")]
    shift = end - max(stamps) if stamps else timedelta(0)
    for m in chat["messages"]:
        if m.get("ts"):
            m["ts"] = (datetime.fromisoformat(m["ts"]) + shift).astimezone(TZ).isoformat()
    return chat


def demo_chats() -> list[dict]:
    """The bundled demo chats, in file order: even positions go to rep-a, odd ones to rep-b."""
    lines = (DEMO_DIR / "chats.jsonl").read_text(encoding="utf-8").splitlines()
    chats = [json.loads(line) for line in lines if line.strip()]
    for i, chat in enumerate(chats):
        chat["rep_id"] = "rep-a" if i % 2 == 0 else "rep-b"
    return chats


def _live_chat(chat_id: str, texts: list[tuple[str, str]], end: datetime, industry: str) -> dict:
    """A chat in the demo library's industry, so its suggestions read as they would in use."""
    return {"chat_id": chat_id, "industry": industry, "customer_name": "王姐", "rep_name": "小美", "messages": [
        {"id": f"m{i + 1}", "sender": s, "text": t, "ts": (end - timedelta(minutes=2 * (len(texts) - i))).isoformat()}
        for i, (s, t) in enumerate(texts)]}


@pytest.fixture(scope="session")
def server(app, keys):
    """The running app, seeded through its own API: the demo SOP library (active for everyone),
    the demo chats split between two reps and moved to today, a fresh chat waiting for the rep's
    reply, and one with a side-order message for the QA queue."""
    with Server(app) as srv, httpx.Client(base_url=srv.url, timeout=120) as http:
        sop = (DEMO_DIR / "sop.jsonl").read_text(encoding="utf-8")
        lib = http.post("/v1/sop-libraries?name=demo", content=sop.encode(), headers=auth(keys["admin"]))
        assert lib.status_code == 201, lib.text
        act = http.post(f"/v1/sop-libraries/{lib.json()['id']}/activate", json={"team": "*"}, headers=auth(keys["admin"]))
        assert act.status_code == 200, act.text

        now = datetime.now(TZ)
        demo = demo_chats()
        for i, chat in enumerate(demo):
            _retimed(chat, now - timedelta(minutes=10 + 7 * i))
        industry = demo[0]["industry"]
        live = _live_chat("live-a", [("customer", "你好，朋友推荐来的，想给孩子了解下美术课"), ("rep", "您好～我是小美，孩子今年几岁啦？"),
                                     ("customer", "7岁，你们课怎么收费？")], now - timedelta(minutes=1), industry)
        risky = _live_chat("risk-a", [("customer", "这个课能便宜点吗"), ("rep", SIDE_ORDER), ("customer", "好的")],
                           now - timedelta(minutes=3), industry)
        for key, chats in (("rep_a", [c for c in demo if c["rep_id"] == "rep-a"] + [live, risky]),
                           ("rep_b", [c for c in demo if c["rep_id"] == "rep-b"])):
            r = http.post("/v1/chats", json={"chats": chats}, headers=auth(keys[key]))
            assert r.status_code == 200 and not any("error" in x for x in r.json()["results"]), r.text
        yield srv


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _missing(f"no Chromium at {CHROMIUM}")
    # Assertions wait as long as actions: a chat's first suggestions index its library, which took
    # over 5 s (Playwright's default) on a 2-core fp32 machine under load.
    playwright_api.expect.set_options(timeout=15_000)
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_for(browser, server):
    """page_for(key=None, width=1366, height=860) → a fresh page (its own storage), signed in with `key`."""
    contexts = []

    def make(key: str | None = None, width: int = 1366, height: int = 860, lang: str | None = None):
        ctx = browser.new_context(viewport={"width": width, "height": height}, timezone_id="Asia/Shanghai", locale="zh-CN")
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("dialog", lambda d: d.accept())  # confirm() before revoking / deleting
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        if lang:
            page.add_init_script(f"localStorage.setItem('cc.lang', {json.dumps(lang)})")
        page.goto(server.url + "/")
        if key:
            page.fill("#key", key)
            page.click("form.signin-card button[type=submit]")
            page.wait_for_selector("header.topbar")
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shoot(page, name: str, full_page: bool = False) -> None:
    """docs/screenshots/<name>.png, without the passing toasts of earlier steps."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('toasts').replaceChildren()")
    page.wait_for_timeout(250)  # let transitions settle
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

"""The report in a real browser: headless Chromium driven over the DevTools protocol.

Skips when Chromium is absent, except in CI (``CI`` set), where it fails:
``.ci/run`` installs Debian's ``chromium``. The screenshot is saved as
``artifacts/report.png`` (git-ignored).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.report_data import EVIL_SRC, hand_made_results

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium not found in CI: .ci/run should have installed it")
    pytest.skip("headless Chromium not installed (apt-get install chromium); CI runs this test")


class Page:
    """A minimal DevTools-protocol client for one page (websocket-client, synchronous)."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params):
        n = next(self.ids)
        self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expr: str, timeout: float = 20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.js(expr):
                return
            time.sleep(0.05)
        raise TimeoutError(expr)

    def click(self, selector: str) -> None:
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView(); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def key(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code
            )


@pytest.fixture
def browser(tmp_path):
    exe = _chromium()
    proc = subprocess.Popen(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        end = time.monotonic() + 30
        while port is None and time.monotonic() < end:
            line = proc.stderr.readline()
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            port = m and int(m.group(1))
            if not line and proc.poll() is not None:
                break
        if port is None:
            pytest.fail(f"Chromium did not start (exit {proc.poll()})")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        yield page
        page.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_report_renders_in_chromium(browser, tmp_path):
    res = hand_made_results(12)
    html = res.to_html(tmp_path / "report.html")
    page = browser
    for domain in ("Runtime", "Log", "Network", "Page"):
        page.call(f"{domain}.enable")
    start = time.monotonic()
    page.call("Page.navigate", url=html.as_uri())
    page.wait("document.body && document.body.dataset.ready === '1'")
    ready_s = time.monotonic() - start

    # the summary table: the primary score row with its number
    row = page.js("[...document.querySelectorAll('#score-table tbody tr')].map(r => r.innerText)")
    assert len(row) == 2 and "0.125" in row[0] and "★" in row[0]
    # the heatmap of the first sentence: 2 target words x (3 source words + EOS)
    cells = page.js("[...document.querySelectorAll('rect.cell')].map(c => c.dataset.v)")
    # stored as 8-bit levels: 0.1 -> 26/255, 0.7 -> 178/255, 0.9 -> 230/255 (round half to even)
    assert cells == ["0.102", "0.698", "0.102", "0.102", "0.000", "0.102", "0.902", "0.000"]
    assert page.js("document.querySelectorAll('rect.cell[data-gold=sure]').length") == 1
    assert page.js("document.querySelectorAll('rect.cell[data-gold=possible]').length") == 1
    assert page.js("document.querySelectorAll('circle.pred').length") == 2
    # hostile tokens are text, never elements
    labels = page.js("[...document.querySelectorAll('svg.heatmap text')].map(t => t.textContent)")
    assert labels[:3] == EVIL_SRC
    hostile = "img, [onerror], #detail script, #detail .tokens span *, #sentence-list td *"
    assert page.js(f"document.querySelectorAll({hostile!r}).length") == 0

    # sort by AER descending, click a sentence, step with the keyboard
    page.click("#list-head th[data-key=aer]")
    page.click("#list-head th[data-key=aer]")
    assert page.js("document.querySelector('#sentence-list tbody tr').dataset.k") == "11"
    page.click("#sentence-list tbody tr:nth-child(3)")
    assert page.js("document.body.dataset.selected") == "9"
    page.key("ArrowDown", 40)
    assert page.js("document.body.dataset.selected") == "8"
    assert "Sentence 8" in page.js("document.getElementById('detail').innerText")

    shot = page.call("Page.captureScreenshot", format="png")["data"]
    ARTIFACTS.mkdir(exist_ok=True)
    import base64

    (ARTIFACTS / "report.png").write_bytes(base64.b64decode(shot))

    page.js("0")  # drain pending events
    errors = [
        e
        for e in page.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    requests = [
        e["params"]["request"]["url"]
        for e in page.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert [u for u in requests if not u.startswith("file:")] == []
    assert ready_s < 10, ready_s

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


def _open(page, url: str) -> None:
    for domain in ("Runtime", "Log", "Page"):
        page.call(f"{domain}.enable")
    page.call("Page.navigate", url=url)
    page.wait("document.body && document.body.dataset.ready === '1'")


def _type(page, text: str):
    """Type ``text`` at the end of the filter; the count line and the error shown after it."""
    page.click("#filter")
    page.call("Input.insertText", text=text)
    return page.js(
        "[document.getElementById('count').textContent,"
        " document.getElementById('filter-error').hidden ? null :"
        " document.getElementById('filter-error').textContent]"
    )


def _filter(page, text: str):
    """Empty the filter, then type ``text`` (see :func:`_type`)."""
    page.js(
        "(() => { const f = document.getElementById('filter'); f.value = '';"
        " f.dispatchEvent(new Event('input')); })()"
    )
    return _type(page, text)


def test_filter_conditions_errors_and_sentence_links(browser, tmp_path):
    html = hand_made_results(12).to_html(tmp_path / "report.html")
    page = browser
    _open(page, html.as_uri())
    # aer = 0.25 k, src_len = 3, crossings = k % 3 for k = 0..11
    assert _filter(page, "aer > 0.3, src_len <= 10") == ["10 of 12 sentences", None]
    assert _filter(page, "AER > 0.3, src <= 3") == ["10 of 12 sentences", None]  # header text
    # crossings >= 1: k not a multiple of 3; aer < 2: k < 8 -> k = 1, 2, 4, 5, 7
    assert _filter(page, "crossings >= 1, aer < 2") == ["5 of 12 sentences", None]
    assert _filter(page, "exact = yes, b") == ["6 of 12 sentences", None]  # + words: k even
    # a half-typed condition or an unknown column: an error, the list as it was
    count, error = _type(page, ", aer >")
    assert count == "6 of 12 sentences" and error.startswith("incomplete condition")
    # complete, "exact = yes, b, aer > 1": k even and above 4
    assert _type(page, " 1") == ["3 of 12 sentences", None]
    count, error = _filter(page, "aerr > 0.3")
    assert count == "12 of 12 sentences" and "unknown column \u201caerr\u201d" in error
    assert "crossings" in error and "src (src_len)" in error
    count, error = _filter(page, "aer > x")
    assert "is not a number" in error
    assert _filter(page, "") == ["12 of 12 sentences", None]

    # choosing a sentence puts its link into the address; the link opens it
    page.click("#sentence-list tbody tr:nth-child(6)")
    assert page.js("location.hash") == "#s=5"
    assert page.js("document.querySelector('#detail a.permalink').getAttribute('href')") == "#s=5"
    _open(page, html.as_uri() + "#s=7")
    assert page.js("document.body.dataset.selected") == "7"
    page.js("location.hash = '#s=3'")
    page.wait("document.body.dataset.selected === '3'")
    page.js("location.hash = '#s=99'")
    page.wait("document.getElementById('detail').innerText.includes('not in this report')")


def test_layers_heads_and_unknown_words(browser, tmp_path):
    html = hand_made_results(4, heads=1).to_html(tmp_path / "report.html")
    page = browser
    _open(page, html.as_uri())
    # sentence 0: source word 2 ("cat") is unknown: red in the heatmap and in the source line
    assert page.js(
        "[...document.querySelectorAll('svg.heatmap text.unk')].map(t => t.textContent)"
    ) == ["cat"]
    assert page.js(
        "[...document.querySelectorAll('.tokens span.unk')].map(t => t.textContent)"
    ) == ["cat"]
    options = page.js("[...document.querySelectorAll('#att-view option')].map(o => o.textContent)")
    assert options == [
        "dec (mean of heads)",
        "dec2 (mean of heads)",
        "dec2, head 0",
        "dec2, head 1",
    ]

    def show(k: int) -> list[str]:
        page.js(
            f"(() => {{ const p = document.getElementById('att-view'); p.selectedIndex = {k};"
            " p.dispatchEvent(new Event('change')); })()"
        )
        return page.js("[...document.querySelectorAll('rect.cell')].map(c => c.dataset.v)")

    # target rows 0-1 (offset 0) of LAYER2 and of head 1, as 8-bit levels
    assert show(1) == ["0.502", "0.502", "0.000", "0.000", "0.000", "0.000", "0.200", "0.800"]
    assert show(3) == ["0.000", "1.000", "0.000", "0.000", "0.000", "0.000", "0.400", "0.600"]
    assert "dec2, head 1" in page.js("document.getElementById('detail').innerText")
    # sentence 1 has no single heads (heads=1): the page says so and shows the primary site
    page.click("#sentence-list tbody tr:nth-child(2)")
    text = page.js("document.getElementById('detail').innerText")
    assert "has no matrix for dec2, head 1; showing dec (mean of heads)" in text
    assert page.js("document.querySelectorAll('svg.heatmap text.unk').length") == 0

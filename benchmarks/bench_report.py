"""Benchmark the HTML report: size and time to interactive in headless Chromium.

Target (issue 7): the report of 1,000 sentences is under 5 MB and interactive
(``document.body.dataset.ready``, set when the explorer has rendered) within 2 s
of opening it.

    .venv/bin/python -m benchmarks.bench_report [MODEL.pt] [--sentences N] [--runs K]

Needs Debian's ``chromium``. Each run starts a fresh browser profile.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "enfr-bahdanau.pt"


def time_to_interactive(html: Path) -> float:
    """Seconds from navigation until the report says it is ready, in a fresh Chromium."""
    from tests.test_report_browser import FLAGS, Page

    profile = tempfile.mkdtemp()
    proc = subprocess.Popen(
        ["chromium", *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        while port is None:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            port = m and int(m.group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            target = next(t for t in json.load(r) if t["type"] == "page")
        page = Page(target["webSocketDebuggerUrl"])
        page.call("Page.enable")
        start = time.monotonic()
        page.call("Page.navigate", url=html.resolve().as_uri())
        page.wait("document.body && document.body.dataset.ready === '1'", timeout=60)
        elapsed = time.monotonic() - start
        page.ws.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(FIXTURE))
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("chromium") is None:
        print("chromium not installed (apt-get install chromium): skipped")
        return
    from attnprobe.pipeline.driver import analyze

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        analyze(args.model, limit=args.sentences, progress=False).save(out)
        html = out / "report.html"
        size = html.stat().st_size / 1e6
        times = [time_to_interactive(html) for _ in range(args.runs)]
    print(f"report of {args.sentences} sentences: {size:.2f} MB (target < 5)")
    print(
        "time to interactive: "
        + ", ".join(f"{t:.2f} s" for t in times)
        + f" (median {sorted(times)[len(times) // 2]:.2f} s, target <= 2)"
    )


if __name__ == "__main__":
    main()

"""docs/capture.md stays true: its Python blocks run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "capture.md"
# the doc trains each model for a minute; the test shortens that (the code is the same)
SECONDS = "SECONDS = 60"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_doc_has_the_blocks_the_readme_needs():
    text = "\n".join(blocks())
    assert SECONDS in text
    for needle in ("attnprobe.capture(model)", "attnprobe.wrap(", "edits.uniform()", "grads=True"):
        assert needle in text


@pytest.mark.slow
def test_capture_doc_runs(capsys):
    import torch

    namespace: dict = {"__name__": "capture_doc"}
    threads = torch.get_num_threads()  # the doc sets one thread for its training loop
    try:
        for n, code in enumerate(blocks()):
            code = code.replace(SECONDS, "SECONDS = 6")
            exec(compile(code, f"{DOC.name} block {n + 1}", "exec"), namespace)  # noqa: S102
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    assert "argmax attention hits a gold link" in printed
    assert namespace["trace2"].attention["attention"].shape[0] == 64
    results = namespace["results"]  # the full report of the user's own model
    assert results.metrics["model"]["family"] == "wrapped nn.Module"
    assert results.metrics["sections"]["gradflow"].get("skipped")
    assert "report.html" in printed and "AER 0." in printed

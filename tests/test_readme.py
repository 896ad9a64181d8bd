"""The README's Python examples run as written (from a folder that has the fixtures)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    monkeypatch.chdir(tmp_path)  # results.save("out") writes here, not into the checkout
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert (tmp_path / "out" / "report.html").is_file()

"""``python -m benchmarks``: the runner's own command line (the benchmarks themselves are
never run as tests: they time things)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_help_lists_every_benchmark_and_runs_none():
    r = run("--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: python -m benchmarks")
    for path in (ROOT / "benchmarks").glob("bench_*.py"):
        assert f"  {path.stem.removeprefix('bench_')} " in r.stdout
    assert "== " not in r.stdout  # nothing was run


def test_an_unknown_name_is_an_error_naming_the_available_ones():
    r = run("captur")
    assert r.returncode == 2 and "unknown benchmark(s) ['captur']" in r.stderr
    assert "capture" in r.stderr

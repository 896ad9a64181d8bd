"""Figures leave the caller's matplotlib alone: no backend switch, no pyplot, no open figures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import ROOT

from tests.report_data import hand_made_results

# run in a fresh interpreter: other tests may have imported pyplot or picked a backend
PROBE = textwrap.dedent(
    """
    import json, sys, tempfile
    import matplotlib
    matplotlib.use("svg")  # the caller's choice, e.g. a notebook's inline backend
    from attnprobe.report.figures import figure_svgs, write_figures, plot_attention_vs_attribution
    from attnprobe.results import Results
    metrics = json.loads(sys.stdin.read())
    svgs = figure_svgs(metrics)
    files = write_figures(metrics, tempfile.mkdtemp())
    plot_attention_vs_attribution([[1.0]], {"saliency": [[0.5]]})
    print(json.dumps({
        "backend": matplotlib.get_backend(),
        "pyplot": "matplotlib.pyplot" in sys.modules,
        "svgs": sorted(svgs),
        "files": sorted(p.name for p in files),
    }))
    """
)


def test_figures_keep_the_backend_and_never_import_pyplot():
    metrics = hand_made_results().metrics
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(metrics),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found == {
        "backend": "svg",
        "pyplot": False,
        "svgs": ["aer_by_method", "quality_by_length"],
        "files": [
            "aer_by_method.png",
            "aer_by_method.svg",
            "quality_by_length.png",
            "quality_by_length.svg",
        ],
    }

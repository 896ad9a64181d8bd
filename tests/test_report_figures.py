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


def _every_figure_metrics() -> dict:
    iv = {"mean": 0.3, "low": 0.2, "high": 0.4}
    return {
        "primary": {"site": "dec"},
        "quality": {
            "exact_match": 0.8,
            "buckets": [
                {"label": "1-10", "exact_match": 0.9, "token_accuracy": 0.99},
                {"label": "11-20", "exact_match": 0.7, "token_accuracy": 0.95},
            ],
        },
        "alignment": {
            "scores": [{"site": "dec", "method": "argmax-target", "offset": 0, "aer": 0.1}],
            "diagonal": {"aer": 0.54},
            "references": {"fast_align forward": {"aer": 0.164}, "other": {"aer": 0.3}},
        },
        "sections": {
            "gradflow": {
                "profile": {"keys": [0, 1, 2, 20], "mean": [1.0, 0.5, 0.4, 0.1]},
                "path_lengths": {"distance": [0, 1], "with": [3.0, 3.0], "without": [23, 22]},
            },
            "attribution": {"tau": {"saliency": [0.5, 0.25, None]}},
            "faithfulness": {
                "summaries": {e: {"tvd": iv} for e in ("uniform", "permute(seed=0)", "other_step")}
            },
        },
    }


def _inside(inner, outer, slack: float = 1.0) -> bool:
    return (
        inner.x0 >= outer.x0 - slack
        and inner.y0 >= outer.y0 - slack
        and inner.x1 <= outer.x1 + slack
        and inner.y1 <= outer.y1 + slack
    )


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def test_every_figure_titled_labelled_with_a_baseline_and_the_legend_outside():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from attnprobe.report.figures import FIGURES, plot_bottleneck

    metrics = _every_figure_metrics()
    rows = [
        {"name": "att", "arch": "bahdanau", "buckets": metrics["quality"]["buckets"]},
        {"name": "plain", "arch": "none", "buckets": metrics["quality"]["buckets"]},
    ]
    figures = {name: fn(metrics) for name, fn in FIGURES.items()}
    figures["bottleneck"] = plot_bottleneck(rows)
    assert None not in figures.values()
    for name, fig in figures.items():
        FigureCanvasAgg(fig).draw()
        renderer = fig.canvas.get_renderer()
        (ax,) = fig.axes
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), name
        assert ax.findobj(lambda a: a.get_gid() == "baseline"), f"{name}: no baseline"
        legend = ax.get_legend()
        assert legend is not None, name
        # the legend sits to the right of the axes, over no data
        assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1, name
        # nothing drawn (labels, ticks, legend) is cut off at the figure's edge (inches)
        assert _inside(fig.get_tightbbox(renderer), fig.bbox_inches, 0.01), name
    aer = figures["aer_by_method"].axes[0]
    assert [line.get_label() for line in aer.lines] == [
        "diagonal (word-blind): 0.540",
        "fast_align forward: 0.164",  # the best reference
    ]


def test_heatmap_labels_are_not_clipped():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from attnprobe.report.figures import plot_attention_vs_attribution

    src = ["anticonstitutionnellement", "b", "</s>"]
    tgt = ["extraordinarily-long-target-word", "y"]
    fig = plot_attention_vs_attribution(
        [[0.5, 0.5, 0], [0, 1, 0]], {"ig": [[1, 0, 0], [0, 1, 0]]}, src, tgt
    )
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    assert {"anticonstitutionnellement", "extraordinarily-long-target-word"} <= {
        t.get_text() for t in _texts(fig)
    }
    assert _inside(fig.get_tightbbox(renderer), fig.bbox_inches, 0.01)
    assert fig.axes[0].get_xlabel() == "source token" and fig.axes[0].get_ylabel() == "target token"

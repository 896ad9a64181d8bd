"""Figures of a report, drawn with matplotlib's object API from the metrics dict alone.

Each ``plot_*`` function takes the JSON-able metrics of a
:class:`~attnprobe.results.Results` and returns a matplotlib Figure, or None
when the data for it is absent; :data:`FIGURES` lists them by file name.
matplotlib is imported when a figure is drawn, never at import time, and
pyplot never: figures are plain ``matplotlib.figure.Figure`` objects, so the
caller's backend and pyplot state are untouched. SVGs keep
their text as text in a system font (``svg.fonttype = none``), so a figure
inlined into the HTML report is small and requests nothing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FIGURES",
    "plot_quality_by_length",
    "plot_aer_by_method",
    "plot_bottleneck",
    "plot_gradient_by_distance",
    "plot_path_length",
    "plot_attention_vs_attribution",
    "plot_tau_distribution",
    "plot_faithfulness",
    "figure_svgs",
    "write_figures",
]


def _subplots(figsize, nrows: int = 1, ncols: int = 1, **kwargs):
    """A new ``(Figure, axes)`` that pyplot does not know about.

    matplotlib's object API: no backend is chosen or switched (a notebook's
    ``%matplotlib inline`` stays as it was), nothing is registered in pyplot's
    figure list (no ``close`` needed, no "too many figures" warning), and
    ``savefig`` picks the renderer from the file format.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, legend: bool = True):
    """Title and axis labels (with units); the legend to the right of the axes, outside
    the data; a layout that fits every label. Returns ``fig``."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(
            loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False, fontsize=8
        )
    fig.tight_layout()
    return fig


def _baseline_h(ax, y, label: str, **style):
    """A horizontal reference line (marked ``gid="baseline"``) that numbers are read against."""
    line = ax.axhline(
        y, color=style.pop("color", "0.35"), ls=style.pop("ls", "--"), lw=1, label=label, **style
    )
    line.set_gid("baseline")
    return line


def plot_quality_by_length(metrics: dict):
    """Exact match and token accuracy per source-length bucket (Bahdanau et al. 2015, Fig. 2).

    Examples
    --------
    >>> m = {"quality": {"buckets": [{"label": "1-10", "exact_match": 0.9,
    ...                               "token_accuracy": 0.99}]}}
    >>> plot_quality_by_length(m).axes[0].get_xlabel()
    'source length (words)'
    >>> plot_quality_by_length({}) is None
    True
    """
    buckets = (metrics.get("quality") or {}).get("buckets") or []
    if not buckets:
        return None
    fig, ax = _subplots((7, 3.2))
    x = list(range(len(buckets)))
    ax.plot(x, [b["exact_match"] for b in buckets], "o-", label="exact match (greedy)")
    ax.plot(x, [b["token_accuracy"] for b in buckets], "s--", label="token accuracy (forced)")
    overall = (metrics.get("quality") or {}).get("exact_match")
    if overall is not None:  # the level the drop on long sentences is read against
        _baseline_h(ax, overall, "exact match, all lengths", ls=":")
    ax.set_xticks(x, [b["label"] for b in buckets])
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    return _finish(
        fig,
        ax,
        "Quality by source length",
        "source length (words)",
        "share (of sentences / of target words)",
    )


def plot_bottleneck(rows: list[dict]):
    """Greedy exact match per source-length bucket, one line per model (Bahdanau et al. Fig. 2).

    ``rows`` are :meth:`attnprobe.pipeline.comparison.ModelComparison.to_dict` dicts; the
    no-attention baseline falling behind on long sentences is the bottleneck.

    Examples
    --------
    >>> rows = [{"name": "att", "buckets": [{"label": "1-10", "exact_match": 0.9}]},
    ...         {"name": "none", "buckets": [{"label": "1-10", "exact_match": 0.5}]}]
    >>> [line.get_label() for line in plot_bottleneck(rows).axes[0].get_lines()]
    ['att', 'none']
    """
    rows = [r for r in rows if r.get("buckets")]
    if not rows:
        return None
    fig, ax = _subplots((7.5, 3.6))
    labels = list(dict.fromkeys(b["label"] for r in rows for b in r["buckets"]))
    for r in rows:
        by_label = {b["label"]: b["exact_match"] for b in r["buckets"]}
        x = [k for k, label in enumerate(labels) if label in by_label]
        baseline = r.get("arch") == "none"  # the model without attention: the baseline
        (line,) = ax.plot(
            x,
            [by_label[labels[k]] for k in x],
            "s--" if baseline else "o-",
            color="0.3" if baseline else None,
            label=f"{r['name']} (no attention)" if baseline else r["name"],
        )
        if baseline:
            line.set_gid("baseline")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    return _finish(
        fig,
        ax,
        "Quality by source length",
        "source length (words)",
        "greedy exact match (share of sentences)",
    )


def plot_aer_by_method(metrics: dict):
    """AER of each extraction method at each target offset, for the primary site.

    Examples
    --------
    >>> m = {"primary": {"site": "s"}, "alignment": {"scores": [
    ...     {"site": "s", "method": "argmax-target", "offset": 0, "aer": 0.3},
    ...     {"site": "s", "method": "argmax-target", "offset": -1, "aer": 0.1}]}}
    >>> plot_aer_by_method(m).axes[0].get_ylabel()
    'AER (0 = perfect, lower is better)'
    """
    site = (metrics.get("primary") or {}).get("site")
    rows = [r for r in (metrics.get("alignment") or {}).get("scores", []) if r["site"] == site]
    if not rows:
        return None
    methods = list(dict.fromkeys(r["method"] for r in rows))
    offsets = sorted({r["offset"] for r in rows})
    aer = {(r["method"], r["offset"]): r["aer"] for r in rows}
    fig, ax = _subplots((7, 3.4))
    width = 0.8 / len(offsets)
    for k, off in enumerate(offsets):
        xs = [m + (k - (len(offsets) - 1) / 2) * width for m in range(len(methods))]
        ax.bar(xs, [aer.get((m, off), 0.0) for m in methods], width, label=f"offset {off}")
    alignment = metrics.get("alignment") or {}
    diagonal = (alignment.get("diagonal") or {}).get("aer")
    if diagonal is not None:  # what a model that only goes left to right scores
        _baseline_h(ax, diagonal, f"diagonal (word-blind): {diagonal:.3f}")
    references = {
        k: r["aer"]
        for k, r in (alignment.get("references") or {}).items()
        if r.get("aer") is not None
    }
    if references:  # the best other aligner on the same gold
        name = min(references, key=references.get)
        _baseline_h(ax, references[name], f"{name}: {references[name]:.3f}", ls=":", color="C3")
    ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    return _finish(
        fig,
        ax,
        f"Alignment error by extraction method ({site})",
        "extraction method",
        "AER (0 = perfect, lower is better)",
    )


#: file name (without extension) -> figure function
def _section_data(metrics: dict, name: str) -> dict:
    """The data step ``name`` stored in a report's metrics ({} without it, or skipped).

    Folders written before the steps returned data only keep it under the section's ``data``.
    """
    d = (metrics.get("sections") or {}).get(name) or {}
    if d.get("skipped"):
        return {}
    return (d.get("data") or {}) if "title" in d else d


def plot_gradient_by_distance(metrics: dict, compare: dict | None = None):
    """Mean gradient norm ``|| d log p(y_t) / d e_s ||`` by distance ``|t - s|``, log scale.

    Parameters
    ----------
    metrics : a report's metrics (the ``gradflow`` section's profile is drawn).
    compare : more profiles on the same axes, ``{label: profile dict}`` (e.g. the
        ``gradient`` of a no-attention model from ``attnprobe compare --json``).

    Examples
    --------
    >>> m = {"sections": {"gradflow": {"profile": {"keys": [0, 1, 2],
    ...      "mean": [1.0, 0.5, 0.25], "count": [3, 2, 1]}}}}
    >>> ax = plot_gradient_by_distance(m, {"none": {"keys": [0, 1], "mean": [1.0, 0.1]}}).axes[0]
    >>> ax.get_yscale(), [line.get_label() for line in ax.lines]
    ('log', ['this model', 'none', 'near level (distance 0-2)'])
    >>> plot_gradient_by_distance({}) is None
    True
    """
    curves = {}
    own = _section_data(metrics, "gradflow").get("profile")
    if own:
        curves["this model"] = own
    curves.update(compare or {})
    curves = {k: p for k, p in curves.items() if p and p.get("keys")}
    if not curves:
        return None
    fig, ax = _subplots((7, 3.2))
    for label, p in curves.items():
        pts = [(k, m) for k, m in zip(p["keys"], p["mean"], strict=True) if m and m > 0]
        ax.plot([k for k, _ in pts], [m for _, m in pts], "o-", ms=3, label=label)
    first = next(iter(curves.values()))
    near = [m for k, m in zip(first["keys"], first["mean"], strict=True) if k <= 2 and m]
    if near:  # the level "far / near" is read against
        _baseline_h(ax, sum(near) / len(near), "near level (distance 0-2)", ls=":")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    return _finish(
        fig,
        ax,
        "Gradient reaching a source word by distance",
        "distance |t - s| (words)",
        "mean ||d log p(y_t) / d e_s||\n(log scale)",
    )


def plot_path_length(metrics: dict):
    """Shortest gradient path (edges) from ``e_s`` to ``y_t`` by distance, with and without
    attention edges (the unrolled dependency graph of a 20-word sentence): the median
    per distance, and the range (min to max) shaded where the data has it.

    Examples
    --------
    >>> m = {"sections": {"gradflow": {"path_lengths": {"distance": [0, 1],
    ...      "with": [3.0, 3.0], "without": [23.0, 23.0]}}}}
    >>> plot_path_length(m).axes[0].get_ylabel()
    'shortest path (edges)'
    >>> plot_path_length({}) is None
    True
    """
    pl = _section_data(metrics, "gradflow").get("path_lengths")
    if not pl:
        return None
    fig, ax = _subplots((7, 3.2))
    for key, label, style in (("with", "with attention", "o-"), ("without", "without", "s--")):
        pts = [(d, v) for d, v in zip(pl["distance"], pl[key], strict=True) if v is not None]
        (line,) = ax.plot([d for d, _ in pts], [v for _, v in pts], style, ms=3, label=label)
        lo, hi = pl.get(f"{key}_min"), pl.get(f"{key}_max")
        if lo and hi:  # the range per distance (older folders have the middle line only)
            band = [(d, a, b) for d, a, b in zip(pl["distance"], lo, hi, strict=True) if a]
            ax.fill_between(
                [d for d, _, _ in band],
                [a for _, a, _ in band],
                [b for _, _, b in band],
                color=line.get_color(),
                alpha=0.15,
                linewidth=0,
                label=f"{label}: min-max",
            )
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.get_lines()[-1].set_gid("baseline")  # without attention: what attention shortens
    return _finish(
        fig,
        ax,
        "Shortest gradient path, 20-word sentence",
        "distance |t - s| (words)",
        "shortest path (edges)",
    )


FIGURES: dict[str, Callable] = {
    "quality_by_length": plot_quality_by_length,
    "aer_by_method": plot_aer_by_method,
    "gradient_by_distance": plot_gradient_by_distance,
    "path_length": plot_path_length,
}


def _drawn(metrics: dict):
    for name, fn in FIGURES.items():
        fig = fn(metrics)
        if fig is not None:
            yield name, fig


def figure_svgs(metrics: dict) -> dict[str, str]:
    """Every figure that has data, as an inline ``<svg>`` element (XML prolog removed).

    Examples
    --------
    >>> figure_svgs({})
    {}
    """
    import matplotlib

    out = {}
    for name, fig in _drawn(metrics):
        buf = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "attnprobe"}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        text = buf.getvalue()
        out[name] = text[text.index("<svg") :]
    return out


def write_figures(metrics: dict, directory: str | os.PathLike) -> list[Path]:
    """Write each figure as ``NAME.png`` (150 dpi) and ``NAME.svg`` into ``directory``.

    Examples
    --------
    >>> import tempfile
    >>> write_figures({}, tempfile.mkdtemp())
    []
    """
    import matplotlib

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in _drawn(metrics):
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "attnprobe"}):
            fig.savefig(d / f"{name}.png", dpi=150, metadata={"Software": None})
            fig.savefig(d / f"{name}.svg", metadata={"Date": None})
        paths += [d / f"{name}.png", d / f"{name}.svg"]
    return paths


# -- attention vs attribution (issue 5); each function takes results, not the metrics dict --


def plot_attention_vs_attribution(attention, attributions: dict, src_tokens=None, tgt_tokens=None):
    """Heatmaps side by side: one sentence's attention ``[T, S]`` and its attribution matrices.

    ``attributions`` maps a method name to a ``[T, S]`` matrix; each panel is
    scaled by its own largest absolute value (attribution by absolute value).

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_attention_vs_attribution(np.eye(2), {"ig": -np.eye(2)}, ["a", "</s>"],
    ...                                     ["x", "</s>"])
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['attention', 'ig']
    """
    import numpy as np

    panels = {
        "attention": np.asarray(attention),
        **{k: np.asarray(v) for k, v in attributions.items()},
    }
    T, S = panels["attention"].shape
    src = list(src_tokens or [str(j) for j in range(S)])
    tgt = list(tgt_tokens or [str(i) for i in range(T)])
    # room for the longest labels (about 0.07 inch per character at 7 points)
    pad_x, pad_y = 0.07 * max(map(len, tgt), default=1), 0.07 * max(map(len, src), default=1)
    size = (1.5 + pad_x * len(panels) + 0.35 * S * len(panels), 1.3 + pad_y + 0.3 * T)
    fig, axes = _subplots(size, nrows=1, ncols=len(panels), squeeze=False)
    for ax, (name, m) in zip(axes[0], panels.items(), strict=True):
        m = np.abs(m)
        ax.imshow(m / (m.max() or 1.0), cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(S), src, rotation=90, fontsize=7)
        ax.set_yticks(range(T), tgt, fontsize=7)
        ax.set_xlabel("source token")
    axes[0][0].set_ylabel("target token")
    fig.suptitle(
        "Attention and attribution (|value|, each panel scaled to its maximum)", fontsize=9
    )
    fig.tight_layout()
    return fig


def plot_tau_distribution(agreements: dict):
    """Histogram of per-step Kendall tau, one line per (site, method) or method.

    ``agreements`` maps a label to an :class:`~attnprobe.analyses.agreement.Agreement`,
    to an array of tau values, or to a histogram of them
    (:func:`attnprobe.pipeline.attribution.tau_histogram`, as in ``metrics.json``).

    Examples
    --------
    >>> import numpy as np
    >>> plot_tau_distribution({"ig": np.array([0.2, 0.5, np.nan])}).axes[0].get_xlabel()
    'Kendall tau (attention vs attribution, per step)'
    >>> h = {"edges": [-1.0, 0.0, 1.0], "counts": [1, 3], "mean": 0.25}
    >>> plot_tau_distribution({"ig": h}).axes[0].get_legend().get_texts()[0].get_text()
    'ig (mean 0.25)'
    """
    import numpy as np

    fig, ax = _subplots((7, 3.2))
    bins = np.linspace(-1, 1, 21)
    for label, a in agreements.items():
        name = " / ".join(label) if isinstance(label, tuple) else str(label)
        if isinstance(a, dict):  # a histogram: drawn from its counts
            edges = np.asarray(a["edges"], dtype=float)
            counts = np.asarray(a["counts"], dtype=float)
            mean, some = a.get("mean"), counts.sum() > 0
            ax.hist(
                (edges[:-1] + edges[1:]) / 2,
                bins=edges,
                weights=counts if some else None,
                histtype="step",
                density=bool(some),
                label=f"{name} (mean {mean:.2f})" if mean is not None else name,
            )
            continue
        tau = np.asarray(getattr(a, "tau", a), dtype=float)
        tau = tau[np.isfinite(tau)]
        ax.hist(
            tau,
            bins=bins,
            histtype="step",
            density=True,
            label=f"{name} (mean {tau.mean():.2f})" if tau.size else name,
        )
    ax.axvline(0.0, color="0.35", ls="--", lw=1, label="0: unrelated rankings").set_gid("baseline")
    ax.grid(alpha=0.3)
    return _finish(
        fig,
        ax,
        "Attention vs attribution, per target step",
        "Kendall tau (attention vs attribution, per step)",
        "density (per unit of tau)",
    )


#: the y axis of :func:`plot_faithfulness` per metric, with its unit
FAITHFULNESS_LABELS = {
    "tvd": "TVD, next-token distribution (0-1)",
    "jsd": "JSD, next-token distribution (bits)",
    "delta_logp": "change of log p(y) (nats)",
    "argmax_change": "share of steps whose argmax changes",
    "greedy_change": "share of sentences whose translation changes",
}


def plot_faithfulness(summaries: dict, metric: str = "tvd"):
    """Mean output change per attention edit, with its bootstrap interval.

    ``summaries`` maps an edit name to an
    :class:`~attnprobe.analyses.faithfulness.EditSummary` or its ``to_dict()``;
    ``metric`` is ``tvd``, ``jsd``, ``delta_logp``, ``argmax_change`` or ``greedy_change``.

    Examples
    --------
    >>> s = {"uniform": {"tvd": {"mean": 0.3, "low": 0.2, "high": 0.4}}}
    >>> plot_faithfulness(s).axes[0].get_ylabel()
    'TVD, next-token distribution (0-1)'
    """
    rows = []
    for name, s in summaries.items():
        d = s.to_dict() if hasattr(s, "to_dict") else s
        if d.get(metric):
            rows.append((name, d[metric]))
    fig, ax = _subplots((3.5 + 0.8 * max(len(rows), 1), 3.6))
    x = list(range(len(rows)))
    means = [r["mean"] for _, r in rows]
    err = [
        [m - r["low"] for m, (_, r) in zip(means, rows, strict=True)],
        [r["high"] - m for m, (_, r) in zip(means, rows, strict=True)],
    ]
    ax.bar(x, means, yerr=err, capsize=3, color="0.6", label="mean, 95% interval")
    # 0: the output does not move (what the identity edit must give)
    _baseline_h(ax, 0.0, "0: no change (identity edit)", color="0.2", ls="-")
    ax.set_xticks(x, [n for n, _ in rows], rotation=30, ha="right", fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _finish(
        fig,
        ax,
        "Output change when attention is replaced",
        "attention edit",
        FAITHFULNESS_LABELS.get(metric, metric),
    )


def report_tau_distribution(metrics: dict):
    """:func:`plot_tau_distribution` of a report's ``attribution`` section (None without it).

    Examples
    --------
    >>> report_tau_distribution({}) is None
    True
    >>> m = {"sections": {"attribution": {"tau": {"saliency": [0.5, None]}}}}
    >>> report_tau_distribution(m).axes[0].get_ylabel()
    'density (per unit of tau)'
    """
    import numpy as np

    tau = _section_data(metrics, "attribution").get("tau")
    if not tau:
        return None

    def values(v):  # a histogram (metrics.json) or the per-step values of an older run
        if isinstance(v, dict):
            return v
        return np.array([np.nan if x is None else x for x in v], float)

    return plot_tau_distribution({m: values(v) for m, v in tau.items()})


def report_faithfulness(metrics: dict):
    """:func:`plot_faithfulness` (TVD) of a report's ``faithfulness`` section (None without it).

    Examples
    --------
    >>> report_faithfulness({}) is None
    True
    """
    summaries = _section_data(metrics, "faithfulness").get("summaries")
    return plot_faithfulness(summaries) if summaries else None


FIGURES["tau_distribution"] = report_tau_distribution
FIGURES["faithfulness"] = report_faithfulness

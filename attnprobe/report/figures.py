"""Figures of a report, drawn with matplotlib (Agg) from the metrics dict alone.

Each ``plot_*`` function takes the JSON-able metrics of a
:class:`~attnprobe.results.Results` and returns a matplotlib Figure, or None
when the data for it is absent; :data:`FIGURES` lists them by file name.
matplotlib is imported when a figure is drawn, never at import time. SVGs keep
their text as text in a system font (``svg.fonttype = none``), so a figure
inlined into the HTML report is small and requests nothing.
"""

from __future__ import annotations

__all__ = [
    "plot_attention_vs_attribution",
    "plot_tau_distribution",
    "plot_faithfulness",
]


# -- attention vs attribution (issue 5); each function takes results, not the metrics dict --


def _agg_plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


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

    plt = _agg_plt()
    panels = {
        "attention": np.asarray(attention),
        **{k: np.asarray(v) for k, v in attributions.items()},
    }
    T, S = panels["attention"].shape
    fig, axes = plt.subplots(
        1, len(panels), figsize=(2.2 + 0.35 * S * len(panels), 1.2 + 0.3 * T), squeeze=False
    )
    for ax, (name, m) in zip(axes[0], panels.items(), strict=True):
        m = np.abs(m)
        ax.imshow(m / (m.max() or 1.0), cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(S), src_tokens or [str(j) for j in range(S)], rotation=90, fontsize=7)
        ax.set_yticks(range(T), tgt_tokens or [str(i) for i in range(T)], fontsize=7)
    fig.tight_layout()
    return fig


def plot_tau_distribution(agreements: dict):
    """Histogram of per-step Kendall tau, one line per (site, method) or method.

    ``agreements`` maps a label to an :class:`~attnprobe.analyses.agreement.Agreement`
    (or to an array of tau values).

    Examples
    --------
    >>> import numpy as np
    >>> plot_tau_distribution({"ig": np.array([0.2, 0.5, np.nan])}).axes[0].get_xlabel()
    'Kendall tau (attention vs attribution, per step)'
    """
    import numpy as np

    plt = _agg_plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    bins = np.linspace(-1, 1, 21)
    for label, a in agreements.items():
        tau = np.asarray(getattr(a, "tau", a), dtype=float)
        tau = tau[np.isfinite(tau)]
        name = " / ".join(label) if isinstance(label, tuple) else str(label)
        ax.hist(
            tau,
            bins=bins,
            histtype="step",
            density=True,
            label=f"{name} (mean {tau.mean():.2f})" if tau.size else name,
        )
    ax.set_xlabel("Kendall tau (attention vs attribution, per step)")
    ax.set_ylabel("density")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_faithfulness(summaries: dict, metric: str = "tvd"):
    """Mean output change per attention edit, with its bootstrap interval.

    ``summaries`` maps an edit name to an
    :class:`~attnprobe.analyses.faithfulness.EditSummary` or its ``to_dict()``;
    ``metric`` is ``tvd``, ``jsd``, ``delta_logp``, ``argmax_change`` or ``greedy_change``.

    Examples
    --------
    >>> s = {"uniform": {"tvd": {"mean": 0.3, "low": 0.2, "high": 0.4}}}
    >>> plot_faithfulness(s).axes[0].get_ylabel()
    'tvd'
    """
    plt = _agg_plt()
    rows = []
    for name, s in summaries.items():
        d = s.to_dict() if hasattr(s, "to_dict") else s
        if d.get(metric):
            rows.append((name, d[metric]))
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * max(len(rows), 1), 3.2))
    x = list(range(len(rows)))
    means = [r["mean"] for _, r in rows]
    err = [
        [m - r["low"] for m, (_, r) in zip(means, rows, strict=True)],
        [r["high"] - m for m, (_, r) in zip(means, rows, strict=True)],
    ]
    ax.bar(x, means, yerr=err, capsize=3, color="0.6")
    ax.set_xticks(x, [n for n, _ in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(metric)
    ax.set_title("Output change when attention is replaced", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig

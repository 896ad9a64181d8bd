"""Figures of the measured claims (``docs/bottleneck.md``, ``docs/score-functions.md``).

Like :mod:`attnprobe.report.figures`: matplotlib's object API, no pyplot,
every figure titled, axes labelled with units, baselines drawn and marked
``gid="baseline"``, the legend outside the data.
"""

from __future__ import annotations

from attnprobe.report.figures import _subplots

__all__ = ["plot_length_curves", "plot_aer_intervals"]

_ARCH_LABEL = {"none": "no attention", "bahdanau": "Bahdanau attention"}
_ARCH_STYLE = {"none": ("s--", "0.3")}


def _arch_label(arch: str, seeds: int) -> str:
    name = _ARCH_LABEL.get(arch, f"{arch} attention")
    return f"{name} ({seeds} seed{'s' * (seeds != 1)})"


def plot_length_curves(result: dict):
    """BLEU and exact match by source length, one line per architecture (Bahdanau et al.
    2015, Fig. 2), from :meth:`attnprobe.pipeline.comparison.BottleneckResult.to_dict`.

    Each line is the mean over the architecture's seeds; the shaded band its
    95% bootstrap interval over test sentences; thin lines the single seeds.
    A dotted vertical line marks the longest training sentence when the
    models record it.

    Examples
    --------
    >>> e = {"mean": 50.0, "low": 45.0, "high": 55.0, "seeds": [48.0, 52.0]}
    >>> pts = [{"arch": a, "label": "1-10", "lo": 1, "hi": 10, "bleu": e, "exact_match": e}
    ...        for a in ("bahdanau", "none")]
    >>> fig = plot_length_curves({"points": pts, "models": [], "train_max_len": None})
    >>> [t.get_text() for t in fig.axes[1].get_legend().get_texts()][:2]
    ['Bahdanau attention (2 seeds)', 'no attention (2 seeds)']
    """
    from matplotlib.patches import Patch

    points = [p for p in result["points"] if p["lo"] != 0]  # the "all" rows are in the table
    if not points:
        return None
    labels = list(dict.fromkeys(p["label"] for p in points))
    fig, axes = _subplots((10.5, 3.8), 1, 2)
    archs = list(dict.fromkeys(p["arch"] for p in points))
    for ax, key, ylabel in (
        (axes[0], "bleu", "BLEU (0-100, higher is better)"),
        (axes[1], "exact_match", "exact match (share of sentences)"),
    ):
        for k, arch in enumerate(archs):
            mine = [p for p in points if p["arch"] == arch]
            x = [labels.index(p["label"]) for p in mine]
            est = [p[key] for p in mine]
            style, color = _ARCH_STYLE.get(arch, ("o-", f"C{k}"))
            label = _arch_label(arch, len(est[0]["seeds"]))
            (line,) = ax.plot(x, [e["mean"] for e in est], style, color=color, lw=2, label=label)
            if arch == "none":
                line.set_gid("baseline")
            ax.fill_between(
                x, [e["low"] for e in est], [e["high"] for e in est], color=color, alpha=0.2, lw=0
            )
            for s in range(len(est[0]["seeds"])):
                ax.plot(x, [e["seeds"][s] for e in est], "-", color=color, lw=0.6, alpha=0.6)
        max_len = result.get("train_max_len")
        his = [p["hi"] for p in points if p["arch"] == archs[0]]
        if max_len in his:
            line = ax.axvline(
                his.index(max_len) + 0.5,
                color="0.5",
                ls=":",
                lw=1,
                label=f"longest training sentence ({max_len} words)",
            )
            line.set_gid("baseline")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel("source sentence length (words)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 102 if key == "bleu" else 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_title("BLEU by source length", fontsize=10)
    axes[1].set_title("Greedy exact match by source length", fontsize=10)
    handles, names = axes[0].get_legend_handles_labels()
    handles.append(Patch(color="0.6", alpha=0.4))
    names.append("band: 95% bootstrap interval\nover sentences; thin: each seed")
    axes[1].legend(
        handles,
        names,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0,
        frameon=False,
        fontsize=8,
    )
    fig.suptitle(f"The fixed-vector bottleneck: {result.get('data') or 'test set'}", fontsize=11)
    fig.tight_layout()
    return fig


def plot_aer_intervals(rows: list[dict]):
    """AER of each model's attention with its 95% bootstrap interval, beside the diagonal
    baseline's, from :meth:`attnprobe.pipeline.comparison.ModelComparison.to_dict` rows.

    Models without attention (no AER) are left out.

    Examples
    --------
    >>> rows = [{"name": "a", "aer_interval": {"aer": 0.1, "low": 0.08, "high": 0.12,
    ...          "offset": 0}, "diagonal_aer": 0.54,
    ...          "diagonal_interval": {"aer": 0.54, "low": 0.52, "high": 0.56}}]
    >>> plot_aer_intervals(rows).axes[0].get_xlabel()
    'AER (0 = perfect, lower is better)'
    """
    rows = [r for r in rows if r.get("aer_interval")]
    if not rows:
        return None
    fig, ax = _subplots((8.0, 0.45 * len(rows) + 1.6))
    y = list(range(len(rows)))[::-1]
    aer = [r["aer_interval"]["aer"] for r in rows]
    lo = [r["aer_interval"]["aer"] - r["aer_interval"]["low"] for r in rows]
    hi = [r["aer_interval"]["high"] - r["aer_interval"]["aer"] for r in rows]
    ax.errorbar(aer, y, xerr=[lo, hi], fmt="o", color="C0", capsize=3, label="attention (argmax)")
    for a, yy, r in zip(aer, y, rows, strict=True):
        iv = r["aer_interval"]
        ax.annotate(
            f"{a:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]",
            (a, yy),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
        )
    diags = {r.get("data"): r.get("diagonal_interval") for r in rows if r.get("diagonal_interval")}
    for k, iv in enumerate(diags.values()):
        line = ax.axvline(
            iv["aer"],
            color="0.35",
            ls="--",
            lw=1,
            label="diagonal alignment\n(word-blind baseline)" if k == 0 else None,
        )
        line.set_gid("baseline")
        ax.axvspan(iv["low"], iv["high"], color="0.35", alpha=0.15, lw=0)
        ax.annotate(
            f"{iv['aer']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]",
            (iv["aer"], 0),
            xycoords=("data", "axes fraction"),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7.5,
            color="0.3",
        )
    ax.set_yticks(y, [f"{r['name']} (offset {r['aer_interval']['offset']})" for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.4)
    ax.set_xlim(0, 1)
    ax.grid(axis="x", alpha=0.3)
    n = {r.get("sentences") for r in rows}
    on = f" ({n.pop()} test sentences)" if len(n) == 1 else ""
    ax.set_title(f"Alignment error rate per model, 95% bootstrap intervals{on}", fontsize=10)
    ax.set_xlabel("AER (0 = perfect, lower is better)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False)
    fig.tight_layout()
    return fig

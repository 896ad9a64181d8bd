"""``attnprobe bottleneck``: BLEU and exact match by source length, several seeds per
architecture, with bootstrap intervals (Bahdanau et al. 2015, Fig. 2)."""

from __future__ import annotations

import sys

import click

from attnprobe.cli.options import (
    _load_model,
    batch_size_option,
    boot_option,
    check_extra_outputs,
    log,
    table_outputs,
    trust_pickle_option,
)
from attnprobe.errors import InputError


@click.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Evaluate only every k-th test sentence, k chosen so that at most N remain "
    "(a quick look).",
)
@boot_option(1, "Bootstrap resamples of the test sentences for the 95% intervals.")
@batch_size_option
@table_outputs(
    "numbers",
    "Also draw BLEU and exact match by source length, one line per architecture with "
    "its interval band and single seeds (.png or .svg).",
)
@trust_pickle_option
def bottleneck(models, limit, n_boot, batch_size, markdown, json_out, plot, trust_pickle):
    """The fixed-vector bottleneck: quality by source length, per architecture over seeds.

    MODELS are reference checkpoints of the same toy pair, several seeds per
    architecture (e.g. those `make bottleneck` trains into fixtures/models/bottleneck/).
    Each is decoded greedily on the pair's test split; per source-length bucket
    and architecture the table gives BLEU and exact match as "mean [low, high]
    (min-max)": the mean over seeds, its 95% bootstrap interval over test
    sentences (the same resamples for every seed), and the range of the single
    seeds. A second table lists each model's training record (steps, why it
    stopped, best dev loss, seconds). See docs/bottleneck.md.

    \b
    Examples:
      make bottleneck
      attnprobe bottleneck fixtures/models/bottleneck/*.pt --plot docs/bottleneck.png
      attnprobe bottleneck fixtures/models/enfr-bahdanau.pt fixtures/models/enfr-none.pt
    """
    import json

    from attnprobe.data import ParallelCorpus
    from attnprobe.fileio import atomic_path, write_text_atomic
    from attnprobe.pipeline.common import default_corpus
    from attnprobe.pipeline.comparison import bottleneck as run_bottleneck
    from attnprobe.pipeline.comparison import format_bottleneck
    from attnprobe.runs.forward import torch_threads

    check_extra_outputs(json_out, plot)
    loaded = [_load_model(path, trust_pickle) for path in models]
    pairs = [((getattr(m, "meta", None) or {}).get("data") or {}).get("toy") for m in loaded]
    for path, pair in zip(models, pairs, strict=True):
        if pair is None or pair != pairs[0]:
            raise InputError(
                "is not a model of a toy pair"
                if pair is None
                else f"is a {pair} model, {models[0]} a {pairs[0]} one",
                path=path,
                fix="give checkpoints trained on the same toy pair (attnprobe train --toy PAIR)",
            )
    corpus = default_corpus(loaded[0])[0]
    if limit and limit < len(corpus):
        step = -(-len(corpus) // limit)
        corpus = ParallelCorpus(corpus.src[::step], corpus.tgt[::step], corpus.name)
    log.info("evaluating %d models on %d sentences", len(loaded), len(corpus))
    with torch_threads(1):
        result = run_bottleneck(
            loaded,
            corpus,
            batch_size=batch_size,
            n_boot=n_boot,
            progress=None if sys.stderr.isatty() else False,
        )
    if json_out:
        log.info("writing %s", json_out)
        write_text_atomic(json_out, json.dumps(result.to_dict(), indent=1) + "\n")
    if plot:
        from attnprobe.report.claim_figures import plot_length_curves

        log.info("drawing %s", plot)
        fig = plot_length_curves(result.to_dict())
        with atomic_path(plot) as tmp:
            fig.savefig(tmp, format=plot.rsplit(".", 1)[-1].lower(), dpi=110)
    click.echo(format_bottleneck(result, markdown=markdown))

"""``attnprobe shortcut``: does attention give the gradient a shortcut? Measured at init."""

from __future__ import annotations

import click

from attnprobe.cli.options import _load_model, check_extra_outputs, log
from attnprobe.errors import InputError


def _ints(text: str, option: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(
            f"{option} {text}: not a comma-separated list of integers", fix=f"e.g. {option} 0,1,2"
        ) from None


@click.command()
@click.option(
    "--archs",
    default="bahdanau,none",
    show_default=True,
    metavar="ARCH,...",
    help="Architectures to build, one untrained model per seed each: bahdanau, none (the "
    "baseline: no attention), luong-general, luong-dot, ... (as in `attnprobe train`).",
)
@click.option(
    "--seeds",
    default="0,1,2",
    show_default=True,
    metavar="N,...",
    help="Initialisation seeds; the spread over seeds is shown.",
)
@click.option(
    "--sentences",
    default=24,
    show_default=True,
    help="Toy test sentences, spread evenly over 12-60 words (each costs one backward "
    "pass per target word; 24 took 1-3 minutes per model on a busy 2-core machine).",
)
@click.option(
    "--pair", default="enfr", show_default=True, help="Toy language pair the sentences come from."
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Also measure a saved reference model on the same sentences (repeatable): "
    "trained models show how confident they are, not only which path the gradient takes.",
)
@click.option(
    "--training",
    "training",
    multiple=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Measure over training instead (repeatable): the work folder OUT.work of each run of "
    "`attnprobe train --toy PAIR --checkpoint-every N --keep-checkpoints 0`, one per "
    "architecture and seed; attention is divided by no attention at the same seed and step.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write every number.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    metavar="FILE.png|svg",
    help="Draw the figure: relative gradient by path length and by distance, one line per model.",
)
@click.option("--bootstrap", default=1000, show_default=True, help="Bootstrap resamples.")
def shortcut(archs, seeds, sentences, pair, checkpoints, training, json_out, plot, bootstrap):
    """Measure how much gradient reaches far source words, with and without attention.

    Attention is said to give backpropagation a shortcut: every target word is
    one step away from every source word, instead of a walk back through the
    decoder's and the encoder's recurrence. This command measures that where
    it is a property of the architecture alone: it builds UNTRAINED models of
    the same size (the fixture models' size) for each architecture and seed,
    runs them on the same toy sentences, and takes the gradient of each target
    word's log-probability with respect to each source word embedding,
    ||d log p(y_t) / d e_s||.

    The gradients are grouped by the length of the path through the
    recurrence, t + s (target step t, source position s), and by the distance
    |t - s|; each sentence's are divided by its own near gradient (the first
    bucket: t + s <= 2, or |t - s| <= 2).
    The table gives the median over sentences for each model (the median over
    seeds, the range of seeds, and a 95% bootstrap interval), and how many
    times more of its near gradient an attention model keeps than the model
    without attention (seed by seed, on the same sentences). Trained
    models (--checkpoint) are shown beside them, but their numbers also
    reflect how sure each model is of its words.

    With --training the same measurement runs on the checkpoints that training
    runs saved (step 0 is the initialisation), and the table and figure follow
    the farthest bucket over the training steps: attention against no
    attention at the same size, seed and step.

    \b
    Examples:
      attnprobe shortcut
      attnprobe shortcut --archs bahdanau,luong-general,none --plot shortcut.png
      attnprobe shortcut --seeds 0 --sentences 4 --json shortcut.json
      attnprobe shortcut --training b0.work --training n0.work --plot over-training.png
    """
    from attnprobe.runs.shortcut import format_shortcut, measure_shortcut, plot_shortcut

    check_extra_outputs(json_out, plot)
    if training:
        from attnprobe.runs.shortcut import (
            format_over_training,
            measure_over_training,
            plot_over_training,
        )

        if checkpoints:
            raise InputError("give either --training DIR or --checkpoint FILE, not both")
        run = measure_over_training(training, sentences, pair, n_boot=bootstrap)
        _write(run, json_out, plot, plot_over_training)
        click.echo(format_over_training(run))
        return
    arch_list = [a.strip() for a in archs.split(",") if a.strip()]
    loaded = {path: _load_model(path) for path in checkpoints}
    run = measure_shortcut(
        arch_list,
        _ints(seeds, "--seeds"),
        sentences,
        pair,
        checkpoints=loaded,
        n_boot=bootstrap,
    )
    _write(run, json_out, plot, plot_shortcut)
    click.echo(format_shortcut(run))


def _write(run, json_out, plot, draw) -> None:
    """The JSON and figure outputs of a run, each written whole."""
    import json

    from attnprobe.fileio import atomic_path, write_text_atomic

    if json_out:
        log.info("writing %s", json_out)
        write_text_atomic(json_out, json.dumps(run.to_dict(), indent=1) + "\n")
    if plot:
        log.info("drawing %s", plot)
        fig = draw(run)
        with atomic_path(plot) as tmp:
            fig.savefig(tmp, format=plot.rsplit(".", 1)[-1].lower(), dpi=110)

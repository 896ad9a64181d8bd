"""Commands over a corpus: ``analyze``, ``compare``, and ``report`` (re-render a folder)."""

from __future__ import annotations

import sys

import click

from attnprobe.cli.options import (
    _analyses_option,
    _data_options,
    _given,
    _load_model,
    _log_corpus,
    _read_data,
    batch_size_option,
    boot_option,
    check_extra_outputs,
    interrupt_on_sigterm,
    log,
    resolve_threads,
    table_outputs,
    trust_pickle_option,
    warn,
)
from attnprobe.errors import InputError

#: kept in step with attnprobe.pipeline.driver (not imported here: the CLI starts without torch)
ENGINES = ("inprocess", "local", "ray")
SHARD_SIZE = 1024

_threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Torch CPU threads per worker [default: one per 4 CPUs this process may use, "
    "shared among the workers, at least 1: one on a 2-core machine, where one thread is "
    "fastest for these small models]. The count is in -v output and metrics.json.",
)


@click.command()
@click.argument("model", type=click.Path())
@_data_options
@_analyses_option
@click.option(
    "--methods",
    default=None,
    help="Comma-separated extraction methods to score (the first is shown in the explorer) "
    "[default: argmax-target,argmax-source,intersection,itermax].",
)
@click.option(
    "--attribution",
    "attribution",
    default="saliency,input_x_gradient",
    show_default=True,
    metavar="METHOD,...",
    help="Comma-separated attribution methods of the 'attribution' analysis: "
    "integrated_gradients (50 points; about 10x the cost of saliency), saliency, input_x_gradient, "
    "gradient_shap, occlusion.",
)
@click.option("--limit", type=int, default=None, help="Analyse only the first N sentence pairs.")
@batch_size_option
@click.option(
    "-o",
    "--out",
    "out_dir",
    default="attnprobe-report",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output folder (written whole, or not at all).",
)
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@click.option("--seed", default=0, show_default=True, help="Seed for analyses that sample.")
@_threads_option
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="inprocess",
    show_default=True,
    help="Who runs the shards: this process, local worker processes (as many as --workers), "
    "or Ray actors (pip install 'attnprobe[ray]'). Every engine gives the same numbers.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (local) or Ray actors, each loading the model once; more than 1 "
    "with the in-process engine means local workers.",
)
@click.option(
    "--shard-size",
    type=click.IntRange(min=1),
    default=SHARD_SIZE,
    show_default=True,
    help="Sentences per shard (as many source words as this many sentences of average "
    "length, in whole batches): the unit that is kept when a run is interrupted, and "
    "resumed by running the same command again.",
)
@click.option(
    "--address",
    default=None,
    help="Ray cluster to join ('auto': the one this machine is part of; default: start a "
    "local one). See docs/scale.md.",
)
@trust_pickle_option
@click.option(
    "--reference-alignments",
    "references",
    multiple=True,
    metavar="NAME=FILE",
    help="Another aligner's output for the same sentence pairs (e.g. fast_align's), scored "
    "against the same gold and shown beside attention's AER in the report. Pharaoh "
    "source-target links, 0-based, one line per pair. Repeat for several.",
)
def analyze(
    model,
    analyses,
    methods,
    attribution,
    limit,
    batch_size,
    out_dir,
    force,
    seed,
    threads,
    engine,
    workers,
    shard_size,
    address,
    trust_pickle,
    references,
    **data,
):
    """Analyse MODEL on a corpus and write an HTML report with its data files.

    Without data options, a fixture checkpoint is analysed on its own toy test
    split with its gold alignments. The output folder holds report.html (one
    self-contained file: open it in a browser, offline), metrics.json
    (corpus-level numbers with the signature), sentences.jsonl (one record per
    sentence), alignments/ (Pharaoh files per site and extraction method, at
    the best offset) and figures/ (PNG and SVG).

    The corpus is cut into shards of whole batches; finished shards are kept
    in the work area .OUT.work beside the output folder, so an interrupted
    run (Ctrl-C, SIGTERM, a killed worker) resumes when the same command runs
    again. A large corpus shows an even sample of its sentences in the
    report's explorer; sentences.jsonl has them all.

    \b
    Examples:
      attnprobe analyze fixtures/models/enfr-bahdanau.pt -o report-enfr
      attnprobe analyze model.pt --src test.en --tgt test.fr --gold test.gold
          --gold-one-based --limit 500 -o report
      attnprobe analyze model.pt --bitext big.txt --workers 2 -o big
      attnprobe analyze model.pt --bitext test.txt --gold test.gold
          --reference-alignments "fast_align=fa.txt" -o report
      attnprobe analyze model.pt --bitext big.txt --engine ray --address auto --workers 8 -o big
    """
    from attnprobe.fileio import check_output
    from attnprobe.pipeline.driver import (
        DEFAULT_METHODS,
        check_analyses,
        check_attribution,
        default_corpus,
    )
    from attnprobe.pipeline.driver import analyze as run_analysis
    from attnprobe.pipeline.scale.ray_engine import check_ray
    from attnprobe.runs.forward import torch_threads

    # every check that needs no data comes first: a mistake costs no waiting
    names = check_analyses(_split(analyses))
    attribution_list = _split(attribution)
    if "attribution" in names:
        check_attribution(attribution_list)
    elif _given(click.get_current_context(), "attribution"):
        raise InputError(
            "--attribution picks the methods of the attribution analysis, which --analyses "
            f"leaves out ({','.join(names)})",
            fix=f"add it: --analyses {','.join([*names, 'attribution'])}",
        )
    if engine == "ray":
        check_ray()
    if address is not None and engine != "ray":
        raise InputError("--address names a Ray cluster", fix="add --engine ray")
    out = check_output(out_dir, force)
    # a run with workers (any engine but this process alone) keeps the corpus and gold packed
    # in its driver (a few bytes a word and a link)
    corpus, gold = _read_data(**data, packed=engine != "inprocess" or workers > 1)
    if references and gold is None:
        raise InputError(
            "--reference-alignments are scored against the gold alignments",
            fix="give the corpus and --gold too",
        )
    reference_links = _read_references(references, corpus)
    m = _load_model(model, trust_pickle)
    if corpus is None:
        corpus, gold = default_corpus(m)
        _log_corpus(corpus, gold)
    method_list = DEFAULT_METHODS if methods is None else _split(methods)
    log.info("running analyses: %s", ", ".join(names))
    threads = resolve_threads(threads, workers)
    with torch_threads(threads), interrupt_on_sigterm():
        results = run_analysis(
            m,
            corpus,
            gold,
            analyses=names,
            methods=method_list,
            limit=limit,
            batch_size=batch_size,
            seed=seed,
            progress=None if sys.stderr.isatty() else False,
            attribution=attribution_list,
            threads=threads,
            engine=engine,
            workers=workers,
            shard_size=shard_size,
            address=address,
            out=out,
            force=force,
            trust=trust_pickle,
            model_ref=model,
            references=reference_links,
        )
    warn(results.metrics.get("warnings") or [])
    line = f"{results.n_sentences} sentences"
    if results.scores:
        best = results.score()
        line += (
            f", AER {best['aer']:.3f} ({best['method']} on {best['site']}, offset {best['offset']})"
        )
    click.echo(f"{line} -> {out / 'report.html'}")


def _read_references(given, corpus) -> dict:
    """``NAME=FILE`` options -> ``{NAME: alignments}``, checked against the corpus."""
    from attnprobe.alignment import read_alignments

    out = {}
    for item in given:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path:
            raise InputError(
                f"--reference-alignments {item!r} is not NAME=FILE",
                fix='write it as e.g. --reference-alignments "fast_align=fa.txt"',
            )
        links = read_alignments(
            path, lengths=[(len(s), len(t)) for s, t in zip(corpus.src, corpus.tgt, strict=True)]
        )
        if len(links) != len(corpus):
            raise InputError(
                f"{len(links)} alignment lines for {len(corpus)} sentence pairs",
                path=path,
                fix="give that aligner's output for exactly these sentence pairs, one line each",
            )
        out[name.strip()] = links
    return out


def _split(names: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [x.strip() for x in names.split(",") if x.strip()]


def _methods_help() -> str:
    from attnprobe.analyses.extraction import EXTRACTORS

    return ", ".join(EXTRACTORS)


@click.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_data_options
@click.option(
    "--methods",
    default=None,
    help="Comma-separated extraction methods whose AER is reported per offset; choices: "
    f"{_methods_help()} [default: argmax-target,argmax-source,intersection,union,itermax].",
)
@click.option(
    "--gradients",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Sentences for the gradient-flow summary (gradient norm near and far from the "
    "diagonal; each costs one backward per target word); 0 skips it.",
)
@batch_size_option
@table_outputs("rows", "Also draw exact match by source length, one line per model (.png or .svg).")
@click.option(
    "--plot-aer",
    type=click.Path(dir_okay=False),
    help="Also draw each model's argmax AER with its 95% bootstrap interval beside the "
    "diagonal alignment's (.png or .svg; needs gold alignments).",
)
@boot_option(0, "Bootstrap resamples of the sentences for the AER intervals (0: no intervals).")
@_threads_option
@trust_pickle_option
def compare(
    models,
    methods,
    gradients,
    batch_size,
    markdown,
    json_out,
    plot,
    plot_aer,
    n_boot,
    threads,
    trust_pickle,
    **data,
):
    """Compare MODELS on the same test set: quality by length, alignment, attention, gradients.

    Without data options each fixture checkpoint is evaluated on its own toy
    test split with its gold alignments.

    \b
    Examples:
      attnprobe compare fixtures/models/enfr-*.pt --markdown
      attnprobe compare fixtures/models/enfr-*.pt --plot-aer docs/score-functions.png
      attnprobe compare fixtures/models/enfr-bahdanau.pt fixtures/models/enfr-none.pt
          --gradients 64 --methods argmax-target,itermax
    """
    import json

    from attnprobe.fileio import atomic_path, write_text_atomic
    from attnprobe.pipeline.comparison import COMPARE_METHODS, format_comparison
    from attnprobe.pipeline.comparison import compare as run_compare
    from attnprobe.runs.forward import torch_threads

    check_extra_outputs(json_out, plot)
    check_extra_outputs(None, plot_aer)
    corpus, gold = _read_data(**data)
    method_list = COMPARE_METHODS if methods is None else _split(methods)
    loaded = [_load_model(path, trust_pickle) for path in models]
    log.info("comparing %d models", len(loaded))
    threads = resolve_threads(threads)
    with torch_threads(threads):
        rows = run_compare(
            loaded,
            corpus,
            gold,
            batch_size=batch_size,
            progress=None if sys.stderr.isatty() else False,
            methods=method_list,
            gradients=gradients,
            n_boot=n_boot,
        )
    if json_out:
        log.info("writing %s", json_out)
        write_text_atomic(json_out, json.dumps([r.to_dict() for r in rows], indent=1) + "\n")
    if plot:
        from attnprobe.report.figures import plot_bottleneck

        log.info("drawing %s", plot)
        fig = plot_bottleneck([r.to_dict() for r in rows])
        with atomic_path(plot) as tmp:
            fig.savefig(tmp, format=plot.rsplit(".", 1)[-1].lower(), dpi=120)
    if plot_aer:
        from attnprobe.report.claim_figures import plot_aer_intervals

        fig = plot_aer_intervals([r.to_dict() for r in rows])
        if fig is None:
            raise InputError(
                "--plot-aer: no model has an AER interval to draw",
                fix="compare attention models on data with gold alignments (and --boot > 0)",
            )
        log.info("drawing %s", plot_aer)
        with atomic_path(plot_aer) as tmp:
            fig.savefig(tmp, format=plot_aer.rsplit(".", 1)[-1].lower(), dpi=110)
    click.echo(format_comparison(rows, markdown=markdown))


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "-o", "--out", type=click.Path(dir_okay=False), help="HTML file [default: DIR/report.html]."
)
def report(directory, out):
    """Re-render the HTML report from the JSON files of an `attnprobe analyze` folder.

    Reads DIR/metrics.json and DIR/sentences.jsonl (no model, no torch) and
    writes report.html again, e.g. after editing the JSON or updating attnprobe.

    \b
    Examples:
      attnprobe report report-enfr
      attnprobe report report-enfr -o /tmp/enfr.html
    """
    from pathlib import Path

    from attnprobe.fileio import check_output
    from attnprobe.results import Results

    log.info("reading %s", directory)
    results = Results.from_json(directory, sample=True)  # the explorer's sentences only
    target = check_output(out or Path(directory) / "report.html", force=True)
    log.info("writing %s", target)
    with interrupt_on_sigterm():
        click.echo(str(results.to_html(target)))

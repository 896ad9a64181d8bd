"""Options and helpers shared by several commands."""

from __future__ import annotations

import click


def _load_model(path: str, trust: bool = False):
    from attnprobe.models.checkpoint import load

    return load(path, trust=trust)


def _data_options(fn):
    """The corpus and gold options shared by the commands that read a test set."""
    options = [
        click.option(
            "--src", type=click.Path(dir_okay=False), help="Source file, one sentence a line."
        ),
        click.option("--tgt", type=click.Path(dir_okay=False), help="Target file (with --src)."),
        click.option(
            "--bitext",
            type=click.Path(dir_okay=False),
            help='"source ||| target" lines (instead of --src/--tgt).',
        ),
        click.option(
            "--gold",
            type=click.Path(),
            help="Gold alignments (Pharaoh or NAACL), one sentence pair per line.",
        ),
        click.option(
            "--gold-one-based/--gold-zero-based",
            default=None,
            help="GOLD word positions start at 1 / at 0 [default: by format].",
        ),
        click.option("--reverse-gold", is_flag=True, help="GOLD lists target-source links: swap."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _read_data(src, tgt, bitext, gold, gold_one_based, reverse_gold):
    """(corpus, gold) from the data options; (None, None) when none is given."""
    from attnprobe.alignment import read_alignments
    from attnprobe.data import ParallelCorpus
    from attnprobe.errors import InputError

    if bitext and (src or tgt):
        raise InputError("give the corpus as either --bitext FILE or --src FILE --tgt FILE")
    if bool(src) != bool(tgt):
        raise InputError("--src and --tgt go together", fix="give both files")
    if bitext:
        corpus = ParallelCorpus.read_bitext(bitext, name=bitext)
    elif src:
        corpus = ParallelCorpus.read(src, tgt, name=f"{src} / {tgt}")
    else:
        if gold:
            raise InputError("--gold needs the corpus it aligns", fix="add --src/--tgt or --bitext")
        return None, None
    alignments = None
    if gold:
        alignments = read_alignments(
            gold,
            one_based=gold_one_based,
            reverse=reverse_gold,
            lengths=[(len(s), len(t)) for s, t in zip(corpus.src, corpus.tgt, strict=True)],
        )
        if len(alignments) != len(corpus):
            raise InputError(
                f"{len(alignments)} gold lines for {len(corpus)} sentence pairs",
                path=gold,
                fix="give the gold alignment of exactly these sentence pairs, one line each",
            )
    return corpus, alignments


def _analyses_option(fn):
    from attnprobe.pipeline.driver import ANALYSES, DEFAULT_ANALYSES

    return click.option(
        "--analyses",
        default=",".join(DEFAULT_ANALYSES),
        show_default=True,
        help=f"Comma-separated analyses to run: {', '.join(ANALYSES)}.",
    )(fn)

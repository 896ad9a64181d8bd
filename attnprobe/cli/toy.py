"""``attnprobe toy``: synthetic language pairs with exact gold alignments."""

from __future__ import annotations

import click


@click.command()
@click.argument("pair")
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Folder for the files (created if missing).",
)
@click.option(
    "--splits",
    default="train,dev,test",
    show_default=True,
    help="Comma-separated splits to write: train (40,000 pairs), dev (500), test (1,200).",
)
def toy(pair, out_dir, splits):
    """Write a synthetic parallel corpus whose word alignment is known exactly.

    PAIR is one of the toy language pairs (English source in both):

    \b
      enfr  English -> French-like: adjectives after the noun (crossing links),
            gender agreement, "not" -> "ne ... pas", "potato" -> "pomme de terre",
            "look for" -> "cherche", contractions (du, au), inserted "se".
      enja  English -> Japanese-like (romaji): verb-final clauses (SVO -> SOV),
            postpositions ("in the house" -> "ie ni"), case markers wa/ga/o
            inserted, articles dropped.

    For each split, three files appear in DIR: SPLIT.src and SPLIT.tgt
    (space-separated tokens, one sentence per line) and SPLIT.gold (Pharaoh
    gold alignment, 0-based source-target: "i-j" sure, "ipj" possible).
    Source lengths are uniform over 1..60 words. Output is identical on every
    machine (fixed seeds); the splits never share a source sentence. The grammar
    is documented in attnprobe/data/toy/__init__.py and fixtures/README.md.

    Example: attnprobe toy enfr -o data/enfr --splits dev,test
    """
    from attnprobe.data import toy as toy_module

    names = [s.strip() for s in splits.split(",") if s.strip()]
    paths = toy_module.write_corpus(pair, out_dir, names)
    for split, src in zip(names, paths[::3], strict=True):
        n = len(src.read_text(encoding="utf-8").splitlines())
        click.echo(f"{split}: {n} sentence pairs -> {src.with_suffix('')}.{{src,tgt,gold}}")

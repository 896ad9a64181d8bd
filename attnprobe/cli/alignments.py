"""Model-free commands on alignment files: ``score``, ``symmetrize``. They never import torch."""

from __future__ import annotations

import click

from attnprobe.alignment import FORMATS as ALIGNMENT_FORMATS
from attnprobe.alignment.symmetrize import SYMMETRIZATIONS

_ALIGNMENT_FILES_HELP = """
    \b
    Alignment files (the format is detected per file; --format forces it):
      pharaoh  one line per sentence: "0-0 1-2 2p3" = links source-target,
               "i-j" sure, "ipj" or "i?j" possible; an optional "id<TAB>"
               prefix; an empty line is a sentence without links.
      naacl    one line per link: "sentence i j [S|P] [confidence]" (WPT 2003),
               sentence ids from 1; position 0 (NULL) is dropped.
    \b
    Index base: Pharaoh files are read 0-based and NAACL files 1-based unless
    told otherwise. Many gold files are 1-based Pharaoh (e.g. awesome-align's
    enfr.gold: "1-1" links the first words): pass --gold-one-based for those.
    Direction: links are source-target; if a file lists target-source links
    (a reverse aligner's output, a "French first" gold), pass --reverse-...
"""


@click.command(epilog=None)
@click.argument("gold", type=click.Path(dir_okay=False))
@click.argument("hyp", type=click.Path(dir_okay=False))
@click.option(
    "--gold-one-based/--gold-zero-based",
    default=None,
    help="GOLD word positions start at 1 / at 0 [default: by format].",
)
@click.option(
    "--hyp-one-based/--hyp-zero-based",
    default=None,
    help="HYP word positions start at 1 / at 0 [default: by format].",
)
@click.option("--reverse-gold", is_flag=True, help="GOLD lists target-source links: swap them.")
@click.option("--reverse-hyp", is_flag=True, help="HYP lists target-source links: swap them.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(ALIGNMENT_FORMATS),
    default="auto",
    show_default=True,
    help="Format of both files.",
)
@click.option(
    "--text",
    type=click.Path(dir_okay=False),
    metavar="BITEXT",
    help='"source ||| target" lines: check that every link lies inside its sentence.',
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON object (aer, precision, recall, f1 as fractions; link counts).",
)
def score(gold, hyp, gold_one_based, hyp_one_based, reverse_gold, reverse_hyp, fmt, text, as_json):
    """Score a word alignment HYP against the gold alignment GOLD.

    Prints the alignment error rate AER = 1 - (|A&S| + |A&P|) / (|A| + |S|),
    precision |A&P|/|A|, recall |A&S|/|S| and F1, micro-averaged over the
    corpus (A: hypothesis links, S: sure gold links, P: possible gold links,
    sure ones included). No model is needed.

    Example (awesome-align's En-Fr gold is 1-based, its output 0-based):

        attnprobe score enfr.gold enfr.awesome-align.out --gold-one-based
    """
    from attnprobe.alignment import read_bitext_lengths, score_files

    lengths = read_bitext_lengths(text) if text else None
    result = score_files(
        gold,
        hyp,
        format=fmt,
        gold_one_based=gold_one_based,
        hyp_one_based=hyp_one_based,
        reverse_gold=reverse_gold,
        reverse_hyp=reverse_hyp,
        lengths=lengths,
    )
    click.echo(result.to_json() if as_json else str(result))


score.help += _ALIGNMENT_FILES_HELP


@click.command()
@click.argument("fwd", type=click.Path(dir_okay=False))
@click.argument("rev", type=click.Path(dir_okay=False))
@click.option(
    "-m",
    "--method",
    type=click.Choice(list(SYMMETRIZATIONS)),
    default="grow-diag-final",
    show_default=True,
    help="How to combine the two directions.",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output Pharaoh file (0-based source-target), written whole or not at all.",
)
@click.option(
    "--fwd-one-based/--fwd-zero-based",
    default=None,
    help="FWD word positions start at 1 / at 0 [default: by format].",
)
@click.option(
    "--rev-one-based/--rev-zero-based",
    default=None,
    help="REV word positions start at 1 / at 0 [default: by format].",
)
@click.option("--reverse-fwd", is_flag=True, help="FWD lists target-source links: swap them.")
@click.option(
    "--reverse-rev",
    is_flag=True,
    help="REV lists target-source links (as fast_align -r output usually does): swap.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(ALIGNMENT_FORMATS),
    default="auto",
    show_default=True,
    help="Format of both input files.",
)
def symmetrize(fwd, rev, method, out, fwd_one_based, rev_one_based, reverse_fwd, reverse_rev, fmt):
    """Combine a forward (FWD) and a reverse (REV) word alignment into one.

    Methods (Koehn et al. 2003): intersection, union, grow, grow-diag,
    grow-diag-final, grow-diag-final-and, in fast_align atools' visiting
    order. Both inputs must describe the same sentences, one per line.

    Example (a reverse file that lists target-source links):

        attnprobe symmetrize fwd.align rev.align --reverse-rev -m grow-diag-final-and -o sym.align
    """
    from attnprobe.alignment import write_pharaoh
    from attnprobe.alignment.symmetrize import symmetrize_files

    result = symmetrize_files(
        fwd,
        rev,
        method,
        format=fmt,
        forward_one_based=fwd_one_based,
        reverse_one_based=rev_one_based,
        reverse_forward=reverse_fwd,
        reverse_reverse=reverse_rev,
    )
    write_pharaoh(out, result)
    click.echo(
        f"{len(result)} sentences, {sum(len(a.sure) for a in result)} links -> {out}", err=True
    )


symmetrize.help += _ALIGNMENT_FILES_HELP

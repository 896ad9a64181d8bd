"""Model-free commands on alignment files: ``score``, ``symmetrize``. They never import torch.

File arguments are plain paths: the readers check them (a folder, a missing
file, an empty one) and raise :class:`~attnprobe.errors.InputError`, which the
group turns into one line and exit status 2; click's own path checks would
print a three-line usage error instead. Warnings are printed only once a
command has succeeded, so that a failing command prints exactly one line.
"""

from __future__ import annotations

import inspect
import os

import click

from attnprobe.alignment import FORMATS as ALIGNMENT_FORMATS
from attnprobe.alignment import MATCHING
from attnprobe.alignment.symmetrize import SYMMETRIZATIONS

_FORMATS_HELP = """
\b
Alignment files (the format is detected per file; --format forces it):
  pharaoh  one line per sentence: "0-0 1-2 2p3" = links source-target,
           "i-j" sure, "ipj" or "i?j" possible, separated by spaces or
           tabs; an empty line is a sentence without links. A line may
           start with an id and a tab ("s12<TAB>0-0 1-1"); then every
           line must, each with its own id.
  naacl    one line per link: "sentence i j [S|P] [confidence]" (WPT);
           no label means S; position 0 (NULL) is dropped.

Text is UTF-8 (a BOM is skipped); lines end at \\n or \\r\\n. A link given
twice counts once; given as sure and as possible, it is sure.
"""

_MATCH_HELP = """
\b
Sentence matching (--match):
  auto      by id when both files carry ids (NAACL sentence numbers or
            "id<TAB>" prefixes; 0007 is 7), by position when neither does.
            A file with ids against one without is accepted only when its
            ids are 1, 2, ..., N in order; otherwise choose:
  line      an id is a line number of the file without ids (the WPT
            convention: a sentence without links has no NAACL line).
  position  ignore ids: the k-th sentence of each file (NAACL: in order
            of first appearance) form a pair.

By id, a sentence of {first} missing from {second} is read as having no links
there (a warning gives the count); an id of {second} that {first} lacks, and an
id used on two lines, are errors. A sentence count is the number of sentences,
never the largest id.
"""

_BASE_HELP = """
Index base: Pharaoh files are read 0-based and NAACL files 1-based unless
told otherwise; a warning says when a file read 0-based never uses position
0. Direction: links are source-target; for a file that lists target-source
links, pass the --reverse- option of that file.

Bad input (a malformed link or line, a bad index or label, mixed formats,
bytes that are not UTF-8, a folder, an empty file, sentences that do not pair
up) stops the command with one line on stderr naming the file and line, exit
status 2, and nothing written.
"""

_SCORE_HELP = (
    """Score a word alignment HYP against the gold alignment GOLD.

Prints the alignment error rate AER = 1 - (|A&S| + |A&P|) / (|A| + |S|),
precision |A&P|/|A|, recall |A&S|/|S| and F1, micro-averaged over the corpus
(A: every hypothesis link, possible-marked ones too; S: sure gold links; P:
possible gold links, sure ones included). A score whose denominator is 0 is
undefined: n/a in text, null in JSON, with a warning. No model is needed.

\b
Example (awesome-align's En-Fr gold is 1-based, its output 0-based):
  attnprobe score enfr.gold enfr.awesome-align.out --gold-one-based
"""
    + _FORMATS_HELP
    + _MATCH_HELP.format(first="GOLD", second="HYP")
    + """
With --text, each file is paired with the lines of BITEXT by the same rules,
and every link must lie inside its sentence.
"""
    + _BASE_HELP
)

_SYMMETRIZE_HELP = (
    """Combine a forward (FWD) and a reverse (REV) word alignment into one.

\b
Methods (Koehn et al. 2003), in fast_align atools' visiting order:
  intersection, union, grow, grow-diag, grow-diag-final, grow-diag-final-and

Only sure links take part: links marked possible are ignored, with a warning
giving the count. The --out file gets one 0-based Pharaoh line per sentence,
with the ids of FWD as "id<TAB>" prefixes when the files were paired by id.

\b
Example (a reverse file that lists target-source links):
  attnprobe symmetrize fwd.align rev.align --reverse-rev \\
      -m grow-diag-final-and -o sym.align
"""
    + _FORMATS_HELP
    + _MATCH_HELP.format(first="FWD", second="REV")
    + _BASE_HELP
)


def _match_option(fn):
    return click.option(
        "--match",
        type=click.Choice(MATCHING),
        default="auto",
        show_default=True,
        help="How sentences of the two files pair up (see below).",
    )(fn)


def _format_option(fn):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(ALIGNMENT_FORMATS),
        default="auto",
        show_default=True,
        help="Format of both files.",
    )(fn)


def _warn(notes) -> None:
    for note in notes:
        click.echo(f"attnprobe: warning: {note}", err=True)


@click.command(help=inspect.cleandoc(_SCORE_HELP))
@click.argument("gold", type=click.Path())
@click.argument("hyp", type=click.Path())
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
@_format_option
@_match_option
@click.option(
    "--text",
    type=click.Path(),
    metavar="BITEXT",
    help='"source ||| target" lines: check that every link lies inside its sentence.',
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON object (aer, precision, recall, f1 as fractions or null; link counts).",
)
def score(
    gold, hyp, gold_one_based, hyp_one_based, reverse_gold, reverse_hyp, fmt, match, text, as_json
):
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
        match=match,
    )
    _warn(result.warnings)
    click.echo(result.to_json() if as_json else str(result))


def _check_output(path: str) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    from attnprobe.errors import InputError

    if os.path.isdir(path):
        raise InputError("is a folder; expected the output file", path=path, fix="add a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError("the output folder does not exist", path=path, fix="create it first")


@click.command(help=inspect.cleandoc(_SYMMETRIZE_HELP))
@click.argument("fwd", type=click.Path())
@click.argument("rev", type=click.Path())
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
    type=click.Path(),
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
@_format_option
@_match_option
def symmetrize(
    fwd, rev, method, out, fwd_one_based, rev_one_based, reverse_fwd, reverse_rev, fmt, match
):
    from attnprobe.alignment import write_pharaoh
    from attnprobe.alignment.symmetrize import symmetrize_files
    from attnprobe.errors import InputError

    _check_output(out)
    notes: list[str] = []
    result = symmetrize_files(
        fwd,
        rev,
        method,
        format=fmt,
        forward_one_based=fwd_one_based,
        reverse_one_based=rev_one_based,
        reverse_forward=reverse_fwd,
        reverse_reverse=reverse_rev,
        match=match,
        warnings=notes,
    )
    try:
        write_pharaoh(out, result)
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror})", path=out) from None
    _warn(notes)
    click.echo(f"{len(result)} sentences, {result.n_links} links -> {out}", err=True)

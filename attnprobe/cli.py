"""The ``attnprobe`` command line: a thin layer over the library.

Each command parses options, calls library functions, and prints. Errors from
the library (:class:`~attnprobe.errors.AttnprobeError`) become a one-line
message and exit status 2 in exactly one place, :class:`AttnprobeGroup`.
Heavy modules (torch) are imported inside the commands that need them, so that
model-free commands such as ``attnprobe score`` start fast.
"""

from __future__ import annotations

import logging
import sys

import click

from attnprobe import __version__
from attnprobe.alignment import FORMATS as ALIGNMENT_FORMATS
from attnprobe.errors import AttnprobeError
from attnprobe.symmetrize import SYMMETRIZATIONS


class UserError(click.ClickException):
    """An :class:`AttnprobeError` shown as ``attnprobe: error: ...`` with exit status 2."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"attnprobe: error: {self.format_message()}", err=True)


class AttnprobeGroup(click.Group):
    """Click group that maps the attnprobe exception tree to exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AttnprobeError as exc:
            raise UserError(str(exc)) from exc


@click.group(cls=AttnprobeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attnprobe")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Open up trained attentional seq2seq models.

    Capture attention from a model, turn it into word alignments, score those
    against human gold alignments, and compare attention with attribution.
    Run `attnprobe COMMAND --help` for the options of each command.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("attnprobe").setLevel(level)


# ---------------------------------------------------------------- models


def _load_model(path: str, trust: bool = False):
    from attnprobe.models.checkpoint import load

    return load(path, trust=trust)


_ARCH_HELP = (
    "Architecture: bahdanau (additive score on the previous state), luong-dot, luong-general, "
    "luong-concat, luong-location (Luong 2015 global attention; add -local-m or -local-p for "
    "local attention), or none (no attention: the fixed-vector bottleneck baseline)."
)


@cli.command()
@click.option("--arch", default="bahdanau", show_default=True, help=_ARCH_HELP)
@click.option(
    "--toy",
    "toy_pair",
    metavar="PAIR",
    help="Train on a built-in toy language pair (enfr or enja; see `attnprobe toy`).",
)
@click.option(
    "--train",
    "train_files",
    nargs=2,
    type=click.Path(dir_okay=False),
    metavar="SRC TGT",
    help="Training files: whitespace-tokenised, one sentence a line.",
)
@click.option(
    "--dev",
    "dev_files",
    nargs=2,
    type=click.Path(dir_okay=False),
    metavar="SRC TGT",
    help="Dev files for early stopping (same format as --train).",
)
@click.option(
    "--min-freq",
    default=1,
    show_default=True,
    help="Keep words seen at least this often in training (others become <unk>).",
)
@click.option("--max-vocab", default=0, show_default=True, help="Vocabulary size cap (0: none).")
@click.option(
    "--max-len",
    default=0,
    show_default=True,
    help="Drop training pairs with a side longer than this many words (0: keep all).",
)
@click.option(
    "--cell",
    type=click.Choice(["gru", "lstm"]),
    default="gru",
    show_default=True,
    help="Recurrent unit of encoder and decoder.",
)
@click.option("--emb-dim", default=64, show_default=True, help="Word embedding size.")
@click.option("--enc-dim", default=64, show_default=True, help="Encoder size per direction.")
@click.option("--hidden-dim", default=128, show_default=True, help="Decoder state size.")
@click.option("--layers", default=1, show_default=True, help="RNN layers (encoder and decoder).")
@click.option(
    "--dropout",
    default=0.0,
    show_default=True,
    help="Dropout on embeddings, between layers and before the output layer.",
)
@click.option(
    "--input-feeding/--no-input-feeding",
    default=True,
    show_default=True,
    help="Luong: feed the previous attentional state into the RNN input.",
)
@click.option("--window", default=5, show_default=True, help="Half-width D of local attention.")
@click.option(
    "--max-src-len",
    default=0,
    show_default=True,
    help="Location attention: longest source it can score (0: longest in the data).",
)
@click.option("--batch-size", default=64, show_default=True, help="Sentence pairs per update.")
@click.option("--lr", default=3e-3, show_default=True, help="Adam learning rate.")
@click.option("--epochs", default=20, show_default=True, help="At most this many passes.")
@click.option("--max-steps", default=0, show_default=True, help="At most this many updates.")
@click.option(
    "--time-limit",
    default=0.0,
    show_default=True,
    help="Stop at the first evaluation after this many seconds (0: no limit).",
)
@click.option("--clip", default=1.0, show_default=True, help="Gradient-norm clipping.")
@click.option("--eval-every", default=200, show_default=True, help="Updates between dev checks.")
@click.option(
    "--patience",
    default=5,
    show_default=True,
    help="Stop after this many dev checks without improvement.",
)
@click.option("--seed", default=0, show_default=True, help="Seeds weights, dropout, batch order.")
@click.option(
    "--threads",
    default=1,
    show_default=True,
    help="CPU threads (results are reproducible for a given seed and thread count).",
)
@click.option(
    "-o", "--out", required=True, type=click.Path(dir_okay=False), help="Checkpoint to write (.pt)."
)
@click.option("--force", is_flag=True, help="Overwrite an existing checkpoint.")
def train(
    arch, toy_pair, train_files, dev_files, min_freq, max_vocab, max_len, out, force, **options
):
    """Train a reference attentional seq2seq model and write a checkpoint.

    Give the data either as a toy pair (--toy enfr) or as tokenised files
    (--train SRC TGT --dev SRC TGT). Training stops early when the dev loss
    stops improving; the best weights are saved, with the training record
    (steps, time, dev loss and token accuracy) inside the checkpoint.

    \b
    Examples:
      attnprobe train --toy enfr --arch luong-general -o general.pt
      attnprobe train --train train.de train.en --dev val.de val.en
          --min-freq 2 --max-len 30 --time-limit 600 -o de-en.pt
    """
    import dataclasses
    from pathlib import Path

    from attnprobe.data import ParallelCorpus, Vocab
    from attnprobe.errors import InputError
    from attnprobe.models.checkpoint import save
    from attnprobe.models.rnn import ModelConfig, arch_fields
    from attnprobe.train import TrainConfig
    from attnprobe.train import train as run_training

    if Path(out).exists() and not force:
        raise InputError("already exists", path=out, fix="pass --force to overwrite it")
    fields = arch_fields(arch)
    if bool(toy_pair) == bool(train_files):
        raise InputError("give the data as either --toy PAIR or --train SRC TGT (and --dev)")
    if toy_pair:
        from attnprobe.toy import split_corpus

        train_data, dev_data = split_corpus(toy_pair, "train")[0], split_corpus(toy_pair, "dev")[0]
        data = {"toy": toy_pair}
    else:
        if not dev_files:
            raise InputError("--train needs --dev SRC TGT for early stopping")
        train_data = ParallelCorpus.read(*train_files)
        dev_data = ParallelCorpus.read(*dev_files)
        data = {"train": list(train_files), "dev": list(dev_files)}
    if max_len:
        keep = [
            i
            for i in range(len(train_data))
            if len(train_data.src[i]) <= max_len and len(train_data.tgt[i]) <= max_len
        ]
        train_data = ParallelCorpus(
            [train_data.src[i] for i in keep], [train_data.tgt[i] for i in keep], train_data.name
        )
    src_vocab = Vocab.build(train_data.src, min_freq, max_vocab or None)
    tgt_vocab = Vocab.build(train_data.tgt, min_freq, max_vocab or None)
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    train_cfg = TrainConfig(**{k: v for k, v in options.items() if k in train_keys})
    model_opts = {k: v for k, v in options.items() if k not in train_keys}
    if fields.get("score") == "location" and not model_opts["max_src_len"]:
        model_opts["max_src_len"] = max(max(train_data.lengths), max(dev_data.lengths)) + 1
    model_cfg = ModelConfig(len(src_vocab), len(tgt_vocab), **fields, **model_opts)
    result = run_training(model_cfg, train_data, dev_data, train_cfg, src_vocab, tgt_vocab)
    save(result.model, out, data=data, train=result.metadata(train_cfg))
    click.echo(
        f"{out}: {arch}, {result.steps} steps in {result.seconds:.0f}s ({result.stopped}), "
        f"dev loss {result.dev_loss:.4f}, dev token accuracy {result.dev_accuracy:.4f}"
    )


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("sentences", nargs=-1)
@click.option("--beam", default=1, show_default=True, help="Beam size (1: greedy decoding).")
@click.option(
    "--attention/--no-attention",
    "show_attention",
    default=True,
    show_default=True,
    help="Print the attention matrix under each translation.",
)
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Allow a pickled model file (it runs code when loaded: trusted files only).",
)
def translate(model, sentences, beam, show_attention, trust_pickle):
    """Translate sentences with a model and show where it attended.

    SENTENCES are whitespace-tokenised source sentences; without any, one
    sentence per line is read from standard input. Each translation is
    followed by the attention matrix: target words down, source words across
    (the last column is the source end-of-sentence token), the largest weight
    of each row written in hundredths.

    \b
    Example:
      attnprobe translate fixtures/models/enfr-bahdanau.pt "the black cat sees a dog"
    """
    import torch

    from attnprobe.data import EOS
    from attnprobe.report.text import attention_grid

    m = _load_model(model, trust_pickle)
    lines = list(sentences) or [line for line in sys.stdin.read().splitlines() if line.strip()]
    for line in lines:
        words = line.split()
        unknown = m.src_vocab.count_unknown(words)
        ids = torch.tensor([m.src_vocab.encode(words) + [m.src_vocab.index[EOS]]])
        lens = torch.tensor([ids.shape[1]])
        hyp = (m.greedy(ids, lens) if beam == 1 else m.beam(ids, lens, beam))[0]
        out = m.tgt_vocab.decode(hyp.tokens)
        note = f"  ({unknown} unknown source word{'s' * (unknown != 1)})" if unknown else ""
        click.echo(f"{line}\n  -> {' '.join(out)}{note}")
        if show_attention and hyp.attention is not None:
            rows = [*out, EOS][: hyp.attention.shape[0]]
            grid = attention_grid(hyp.attention[: len(rows)], [*words, EOS], rows)
            click.echo("\n".join("     " + g for g in grid.splitlines()) + "\n")


@cli.command()
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
    is documented in attnprobe/toy.py and fixtures/README.md.

    Example: attnprobe toy enfr -o data/enfr --splits dev,test
    """
    from attnprobe import toy as toy_module

    names = [s.strip() for s in splits.split(",") if s.strip()]
    paths = toy_module.write_corpus(pair, out_dir, names)
    for split, src in zip(names, paths[::3], strict=True):
        n = len(src.read_text(encoding="utf-8").splitlines())
        click.echo(f"{split}: {n} sentence pairs -> {src.with_suffix('')}.{{src,tgt,gold}}")


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


@cli.command(epilog=None)
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


@cli.command()
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
    from attnprobe.symmetrize import symmetrize_files

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


# ---------------------------------------------------------------- analyze


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
            type=click.Path(dir_okay=False),
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
    from attnprobe.pipeline import ANALYSES, DEFAULT_ANALYSES

    return click.option(
        "--analyses",
        default=",".join(DEFAULT_ANALYSES),
        show_default=True,
        help=f"Comma-separated analyses to run: {', '.join(ANALYSES)}.",
    )(fn)


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
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
    "integrated_gradients (50 points; about 30x the cost of saliency), saliency, input_x_gradient, "
    "gradient_shap, occlusion.",
)
@click.option("--limit", type=int, default=None, help="Analyse only the first N sentence pairs.")
@click.option("--batch-size", default=64, show_default=True, help="Sentences per forward pass.")
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
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Allow a pickled model file (it runs code when loaded: trusted files only).",
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
    trust_pickle,
    **data,
):
    """Analyse MODEL on a corpus and write an HTML report with its data files.

    Without data options, a fixture checkpoint is analysed on its own toy test
    split with its gold alignments. The output folder holds report.html (one
    self-contained file: open it in a browser, offline), metrics.json
    (corpus-level numbers with the signature), sentences.jsonl (one record per
    sentence), alignments/ (Pharaoh files per site and extraction method, at
    the best offset) and figures/ (PNG and SVG).

    \b
    Examples:
      attnprobe analyze fixtures/models/enfr-bahdanau.pt -o report-enfr
      attnprobe analyze model.pt --src test.en --tgt test.fr --gold test.gold
          --gold-one-based --limit 500 -o report
    """
    from pathlib import Path

    from attnprobe.errors import InputError
    from attnprobe.pipeline import DEFAULT_METHODS, _check_analyses, _check_attribution
    from attnprobe.pipeline import analyze as run_analysis

    names = _check_analyses([a.strip() for a in analyses.split(",") if a.strip()])
    attribution_list = [a.strip() for a in attribution.split(",") if a.strip()]
    if "attribution" in names:  # before any file is read
        _check_attribution(attribution_list)
    if Path(out_dir).exists() and not force:
        raise InputError("already exists", path=out_dir, fix="pass --force to replace it")
    corpus, gold = _read_data(**data)
    m = _load_model(model, trust_pickle)
    method_list = DEFAULT_METHODS if methods is None else [x.strip() for x in methods.split(",")]
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
    )
    out = results.save(out_dir, force=force)
    for w in results.metrics["warnings"]:
        click.echo(f"attnprobe: warning: {w}", err=True)
    line = f"{results.n_sentences} sentences"
    if results.scores:
        best = results.score()
        line += (
            f", AER {best['aer']:.3f} ({best['method']} on {best['site']}, offset {best['offset']})"
        )
    click.echo(f"{line} -> {out / 'report.html'}")


def _methods_help() -> str:
    from attnprobe.analyses.extraction import EXTRACTORS

    return ", ".join(EXTRACTORS)


@cli.command()
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
@click.option("--batch-size", default=64, show_default=True, help="Sentences per forward pass.")
@click.option("--markdown", is_flag=True, help="Print Markdown tables.")
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), help="Also write the rows as JSON."
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    help="Also draw exact match by source length, one line per model (.png or .svg).",
)
@click.option("--trust-pickle", is_flag=True, help="Allow pickled model files (trusted only).")
def compare(models, methods, gradients, batch_size, markdown, json_out, plot, trust_pickle, **data):
    """Compare MODELS on the same test set: quality by length, alignment, attention, gradients.

    Without data options each fixture checkpoint is evaluated on its own toy
    test split with its gold alignments.

    \b
    Examples:
      attnprobe compare fixtures/models/enfr-*.pt --markdown
      attnprobe compare fixtures/models/enfr-bahdanau.pt fixtures/models/enfr-none.pt
          --gradients 64 --methods argmax-target,itermax
    """
    import json

    from attnprobe.comparison import COMPARE_METHODS, format_comparison
    from attnprobe.comparison import compare as run_compare
    from attnprobe.fileio import atomic_path, write_text_atomic

    if plot and not plot.lower().endswith((".png", ".svg")):
        raise UserError(f"--plot {plot}: give a file name ending in .png or .svg")
    corpus, gold = _read_data(**data)
    method_list = (
        COMPARE_METHODS if methods is None else [x.strip() for x in methods.split(",") if x.strip()]
    )
    loaded = [_load_model(path, trust_pickle) for path in models]
    rows = run_compare(
        loaded,
        corpus,
        gold,
        batch_size=batch_size,
        progress=None if sys.stderr.isatty() else False,
        methods=method_list,
        gradients=gradients,
    )
    if json_out:
        write_text_atomic(json_out, json.dumps([r.to_dict() for r in rows], indent=1) + "\n")
    if plot:
        from attnprobe.report.figures import plot_bottleneck

        fig = plot_bottleneck([r.to_dict() for r in rows])
        with atomic_path(plot) as tmp:
            fig.savefig(tmp, format=plot.rsplit(".", 1)[-1].lower(), dpi=120)
    click.echo(format_comparison(rows, markdown=markdown))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "-o", "--out", type=click.Path(dir_okay=False), help="HTML file [default: DIR/report.html]."
)
def report(directory, out):
    """Re-render the HTML report from the JSON files of an `attnprobe analyze` folder."""
    from pathlib import Path

    from attnprobe.results import Results

    path = Results.from_json(directory).to_html(out or Path(directory) / "report.html")
    click.echo(str(path))


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--trust-pickle", is_flag=True, help="Allow a pickled model file (trusted only).")
def inspect(model, trust_pickle):
    """Print MODEL's architecture, its attention sites and its checkpoint metadata."""
    import json

    from attnprobe.models.rnn import config_dict
    from attnprobe.sites import find_sites

    m = _load_model(model, trust_pickle)
    meta = getattr(m, "meta", {}) or {}
    n_params = sum(p.numel() for p in m.parameters())
    click.echo(f"{model}: {m.cfg.name}, {n_params:,} parameters")
    click.echo("architecture:")
    for k, v in config_dict(m.cfg).items():
        click.echo(f"  {k}: {v}")
    click.echo(f"  vocabularies: source {len(m.src_vocab)}, target {len(m.tgt_vocab)}")
    declared = list(getattr(m, "sites", []))
    click.echo("attention sites:" + ("" if declared else " none (no attention)"))
    for site in declared:
        click.echo(f"  {site.key}  ({site.role}, {site.pattern}, module {site.path})")
    found = [c for c in find_sites(m) if c.site.key not in {s.key for s in declared}]
    for c in found:
        click.echo(f"  (candidate) {c}")
    click.echo("checkpoint:")
    click.echo(f"  sha256: {meta.get('sha256')}")
    click.echo(f"  data: {json.dumps(meta.get('data'))}")
    for k, v in (meta.get("train") or {}).items():
        click.echo(f"  train.{k}: {json.dumps(v)}")


def main(argv=None) -> None:
    """Console-script entry point (``attnprobe``)."""
    cli.main(args=argv, prog_name="attnprobe")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

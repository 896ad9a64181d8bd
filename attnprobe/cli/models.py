"""Commands on one model: ``train``, ``translate``, ``inspect``."""

from __future__ import annotations

import sys

import click

from attnprobe.cli.options import _load_model, log, trust_pickle_option

_ARCH_HELP = (
    "Architecture: bahdanau (additive score on the previous state), luong-dot, luong-general, "
    "luong-concat, luong-location (Luong 2015 global attention; add -local-m or -local-p for "
    "local attention), or none (no attention: the fixed-vector bottleneck baseline)."
)


@click.command()
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
    "--subwords",
    "n_subwords",
    default=0,
    show_default=True,
    metavar="N",
    help="Read subwords instead of words: train a SentencePiece model of at most N pieces per "
    "side on the training text (0: words). The model then covers any text in its characters; "
    "analyses map its pieces to the words of a gold. Needs pip install 'attnprobe[hf]'.",
)
@click.option(
    "--spm-model",
    "spm_models",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Read subwords of a given SentencePiece .model file instead: once for both sides, "
    "or twice (source, then target).",
)
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
    help="Wall-clock seconds for this run, checked after every update; the run stops in "
    "time for a last dev check and checkpoint (0: no limit).",
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
    "--checkpoint-every",
    default=0,
    show_default=True,
    help="Write a checkpoint every N updates (also at step 0 and at the end) into the work "
    "folder OUT.work beside the output, for --resume (0: none).",
)
@click.option(
    "--keep-checkpoints",
    default=2,
    show_default=True,
    help="Newest checkpoints kept in the work folder (0: all, e.g. for gradient flow over "
    "training).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the newest checkpoint in the work folder (weights, optimiser, step, "
    "random state, early stopping); give the same data and settings. OUT, if the earlier part "
    "wrote it, is replaced at the end.",
)
@click.option(
    "--log-every",
    default=100,
    show_default=True,
    help="Without a terminal: a progress line every N updates ...",
)
@click.option(
    "--log-seconds",
    default=30.0,
    show_default=True,
    help="... or every S seconds, whichever comes first.",
)
@click.option(
    "-o", "--out", required=True, type=click.Path(dir_okay=False), help="Checkpoint to write (.pt)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing checkpoint (and the checkpoints of an earlier run in the work "
    "folder).",
)
def train(
    arch,
    toy_pair,
    train_files,
    dev_files,
    min_freq,
    max_vocab,
    max_len,
    out,
    force,
    resume,
    n_subwords,
    spm_models,
    **options,
):
    """Train a reference attentional seq2seq model and write a checkpoint.

    Give the data either as a toy pair (--toy enfr) or as tokenised files
    (--train SRC TGT --dev SRC TGT). Training stops early when the dev loss
    stops improving, at --max-steps, or on time (--time-limit); the best
    weights are saved, with the training record (steps, time, dev loss and
    token accuracy) inside the checkpoint. On a terminal a progress bar shows
    the loss; otherwise a line every --log-every updates or --log-seconds
    seconds gives step, loss, dev loss, speed and the time left. With
    --checkpoint-every N the run can be interrupted and continued (--resume).
    See docs/training.md.

    \b
    Examples:
      attnprobe train --toy enfr --arch luong-general -o general.pt
      attnprobe train --train train.de train.en --dev val.de val.en
          --min-freq 2 --max-len 30 --time-limit 600 --checkpoint-every 500 -o de-en.pt
      attnprobe train ... --checkpoint-every 500 --resume -o de-en.pt
      attnprobe train --train train.en train.fr --dev val.en val.fr
          --subwords 8000 -o en-fr.pt
    """
    import dataclasses

    from attnprobe.data import ParallelCorpus, Vocab
    from attnprobe.errors import InputError
    from attnprobe.fileio import check_output
    from attnprobe.models.checkpoint import save
    from attnprobe.models.reference.rnn import ModelConfig, arch_fields
    from attnprobe.models.reference.subwords import to_pieces
    from attnprobe.models.reference.train import TrainConfig, work_area
    from attnprobe.models.reference.train import train as run_training

    # before training: a full disk or a typo costs no waiting; a resumed run replaces the
    # checkpoint its earlier part wrote
    check_output(out, force or resume)
    work = work_area(out)
    _check_work_area(work, resume, force)
    fields = arch_fields(arch)
    if bool(toy_pair) == bool(train_files):
        raise InputError("give the data as either --toy PAIR or --train SRC TGT (and --dev)")
    if toy_pair:
        from attnprobe.data.toy import split_corpus

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
    subwords = _subwords(n_subwords, spm_models, train_data, resume, min_freq, max_vocab)
    if subwords is None:
        src_vocab = Vocab.build(train_data.src, min_freq, max_vocab or None)
        tgt_vocab = Vocab.build(train_data.tgt, min_freq, max_vocab or None)
    else:
        src_vocab, tgt_vocab = (sw.vocab() for sw in subwords)
        data["subwords"] = list(spm_models) or f"trained on the training text, <= {n_subwords}"
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    train_cfg = TrainConfig(**{k: v for k, v in options.items() if k in train_keys})
    model_opts = {k: v for k, v in options.items() if k not in train_keys}
    if fields.get("score") == "location" and not model_opts["max_src_len"] and not resume:
        # the longest source in the tokens the model reads (pieces of a subword model)
        lengths = [
            max(c.lengths) if subwords is None else max(map(len, to_pieces(c, *subwords).src))
            for c in (train_data, dev_data)
        ]
        model_opts["max_src_len"] = max(lengths) + 1
    model_cfg = ModelConfig(len(src_vocab), len(tgt_vocab), **fields, **model_opts)
    unit = "words" if subwords is None else "pieces"
    vocabs = f"vocabularies {len(src_vocab)} / {len(tgt_vocab)} {unit}"
    click.echo(
        f"training {arch} on {len(train_data)} pairs (dev {len(dev_data)}), "
        + (f"resuming from {work}" if resume else vocabs),
        err=True,
    )
    result = run_training(
        model_cfg,
        train_data,
        dev_data,
        train_cfg,
        src_vocab,
        tgt_vocab,
        work_dir=work,
        resume=resume,
        subwords=subwords,
        on_progress=lambda line: click.echo(line, err=True),
    )
    log.info("writing %s", out)
    save(result.model, out, data=data, train=result.metadata(train_cfg))
    click.echo(
        f"{out}: {arch}, {result.steps} steps in {result.seconds:.0f}s ({result.stopped}), "
        f"dev loss {result.dev_loss:.4f} (step {result.best_step}), "
        f"dev token accuracy {result.dev_accuracy:.4f}"
    )


def _subwords(n, spm_models, train_data, resume, min_freq, max_vocab):
    """The (source, target) subword tokenisers asked for, or None for words.

    A resumed run takes its tokenisers from its checkpoint (None here).
    """
    from attnprobe.errors import InputError
    from attnprobe.models.reference.subwords import Subwords

    if not (n or spm_models):
        return None
    if n and spm_models:
        raise InputError("give either --subwords N or --spm-model FILE, not both")
    if len(spm_models) > 2:
        raise InputError(
            f"--spm-model given {len(spm_models)} times",
            fix="give it once (both sides) or twice (source, then target)",
        )
    if min_freq != 1 or max_vocab:
        raise InputError(
            "--min-freq and --max-vocab shape word vocabularies, not subword ones",
            fix="set the number of pieces with --subwords N",
        )
    if resume:
        return None
    if spm_models:
        sides = [Subwords.read(p) for p in spm_models]
        return (sides[0], sides[-1])
    log.info("training SentencePiece vocabularies (at most %d pieces per side)", n)
    return Subwords.train(train_data.src, n), Subwords.train(train_data.tgt, n)


def _check_work_area(work, resume: bool, force: bool) -> None:
    """A fresh run must not mix its checkpoints with an earlier run's: refuse, or (--force)
    delete the earlier ones; --resume needs one."""
    from attnprobe.errors import InputError
    from attnprobe.models.reference.train import latest_checkpoint

    latest = latest_checkpoint(work)
    if resume and latest is None:
        raise InputError(
            "no checkpoint to resume from",
            path=work,
            fix="train without --resume first (with --checkpoint-every N)",
        )
    if resume or latest is None:
        return
    if not force:
        raise InputError(
            f"holds the checkpoints of an earlier run (newest {latest.name})",
            path=work,
            fix="pass --resume to continue it, or --force to delete them and start afresh",
        )
    for old in work.glob("step-*.pt"):
        old.unlink()


@click.command()
@click.argument("model", type=click.Path())
@click.argument("sentences", nargs=-1)
@click.option("--beam", default=1, show_default=True, help="Beam size (1: greedy decoding).")
@click.option(
    "--attention/--no-attention",
    "show_attention",
    default=True,
    show_default=True,
    help="Print the attention matrix under each translation.",
)
@trust_pickle_option
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
    from functools import partial

    import torch

    from attnprobe.data import EOS
    from attnprobe.errors import InputError
    from attnprobe.report.text import attention_grid
    from attnprobe.runs.forward import cross_sites, teacher_forced

    for k, line in enumerate(sentences, 1):
        if not line.split():
            raise InputError(
                f"sentence {k} of {len(sentences)} is empty: there is nothing to translate",
                fix='give the source words, e.g. "the black cat sees a dog"',
            )
    m = _load_model(model, trust_pickle)
    lines = list(sentences) or [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        raise InputError(
            "no sentence to translate: none given and standard input is empty",
            fix='give a sentence as an argument, e.g. "the black cat sees a dog"',
        )
    if beam > 1 and not callable(getattr(m, "beam", None)):
        raise InputError(f"{m.name} has no beam search", fix="use greedy decoding (--beam 1)")
    sites = cross_sites(m)[:1]
    for line in lines:
        words = line.split()
        unknown = m.count_unknown(words, "src")
        batch = m.encode([words], [[]])
        with torch.no_grad():
            decode = m.greedy if beam == 1 else partial(m.beam, beam_size=beam)
            hyp = decode(batch.src, batch.src_lens)
        out = m.decode_ids(hyp[0].tokens)
        note = f"  ({unknown} unknown source word{'s' * (unknown != 1)})" if unknown else ""
        click.echo(f"{line}\n  -> {' '.join(out)}{note}")
        if show_attention and sites:  # the attention of the translation, read by capture
            fb = teacher_forced(m, m.encode([words], [out]), sites)
            grid = attention_grid(fb.attention[sites[0]][0], [*words, EOS], [*out, EOS])
            click.echo("\n".join("     " + g for g in grid.splitlines()) + "\n")


@click.command()
@click.argument("model", type=click.Path())
@trust_pickle_option
def inspect(model, trust_pickle):
    """Print MODEL's architecture, its attention sites and its checkpoint metadata.

    The sites are where `attnprobe analyze` reads attention; candidates are
    modules that look like attention but are not declared. The checkpoint part
    shows the file's sha256 (as in a report's signature), its data and the
    training record.

    \b
    Example:
      attnprobe inspect fixtures/models/enfr-bahdanau.pt
    """
    import json

    from attnprobe.capturing.discovery import find_sites

    m = _load_model(model, trust_pickle)
    card, meta = m.card(), getattr(m, "meta", {}) or {}
    click.echo(f"{model}: {card.get('family')}, {card['arch']}, {card['parameters']:,} parameters")
    click.echo("architecture:")
    for k, v in (card.get("config") or {}).items():
        click.echo(f"  {k}: {v}")
    click.echo(f"  vocabularies: source {card['src_vocab']}, target {card['tgt_vocab']}")
    for side, sw in (card.get("subwords") or {}).items():
        click.echo(f"  {side} tokens: {sw['kind']} pieces" if sw else f"  {side} tokens: words")
    declared = list(getattr(m, "sites", []))
    click.echo("attention sites:" + ("" if declared else " none (no attention)"))
    for site in declared:
        click.echo(f"  {site.key}  ({site.role}, {site.pattern}, module {site.path})")
    root = getattr(m, "site_root", None) or m
    found = [c for c in find_sites(root) if c.site.key not in {s.key for s in declared}]
    if declared and found:  # the model declares its sites: the guesses would be noise
        click.echo(
            f"  ({len(found)} other attention-like modules: attnprobe.find_sites lists them)"
        )
    else:
        for c in found:
            click.echo(f"  (candidate) {c}")
    click.echo("checkpoint:")
    click.echo(f"  sha256: {card.get('sha256')}")
    click.echo(f"  data: {json.dumps(meta.get('data'))}")
    for k, v in (meta.get("train") or {}).items():
        click.echo(f"  train.{k}: {json.dumps(v)}")

"""Options and helpers shared by several commands: data options, model loading, logging."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading

import click

log = logging.getLogger("attnprobe")

#: CPUs per torch thread that the automatic thread count asks for (see :func:`auto_threads`)
CPUS_PER_THREAD = 4

_HANDLER = "attnprobe.log_handler"  # key of the command's log handler in ctx.meta


class _StderrHandler(logging.Handler):
    """Prints ``attnprobe: LEVEL: message`` on the current stderr; remembers the warnings.

    ``click.echo`` finds the stderr of the moment (a test's ``CliRunner`` swaps it),
    and the warnings it printed let :func:`warn` skip those the library already logged.
    """

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.warned: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING:
                self.warned.add(message)
            click.echo(f"attnprobe: {record.levelname.lower()}: {message}", err=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


def log_to_stderr(ctx: click.Context, verbose: int) -> None:
    """Show the ``attnprobe`` logger on stderr while ``ctx`` runs, at WARNING less 10 per ``-v``.

    Only the ``attnprobe`` logger gets the handler, and it does not propagate:
    the root logger stays unconfigured, so other libraries' debug output (say,
    matplotlib's font search) stays out, and no record is printed twice. The
    logger's level, handlers and propagation are restored when ``ctx`` closes.
    """
    handler = _StderrHandler()
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(max(logging.DEBUG, logging.WARNING - 10 * verbose))
    log.propagate = False
    ctx.meta[_HANDLER] = handler

    def restore() -> None:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]

    ctx.call_on_close(restore)


def warn(messages) -> None:
    """Log each warning the library has not logged already, so that each shows once."""
    ctx = click.get_current_context(silent=True)
    handler = ctx.meta.get(_HANDLER) if ctx is not None else None
    shown = handler.warned if handler is not None else set()
    for message in messages:
        if message not in shown:
            log.warning("%s", message)


def _given(ctx: click.Context, name: str) -> bool:
    """Whether option ``name`` was given (command line or environment), not defaulted."""
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
    )


def _load_model(path: str, trust: bool = False):
    from attnprobe.models.registry import load

    log.info("loading model %s", path)
    model = load(path, trust=trust)
    log.debug("loaded %s: %s, sha256 %s", path, type(model).__name__, _sha256(model))
    return model


def check_extra_outputs(json_out: str | None, plot: str | None) -> None:
    """Check ``--json`` and ``--plot`` files before any work (each is replaced if it exists)."""
    from attnprobe.errors import InputError
    from attnprobe.fileio import check_output

    if plot and not plot.lower().endswith((".png", ".svg")):
        raise InputError(
            f"--plot {plot}: not a .png or .svg file name",
            fix="give a file name ending in .png or .svg",
        )
    for path in (json_out, plot):
        if path:
            check_output(path, force=True)


#: ``--batch-size`` of the commands that run a model over a corpus
batch_size_option = click.option(
    "--batch-size", default=64, show_default=True, help="Sentences per forward pass."
)

#: ``--trust-pickle`` of the commands that load a model file
trust_pickle_option = click.option(
    "--trust-pickle",
    is_flag=True,
    help="Allow a pickled model file (it runs code when loaded: trusted files only).",
)


def boot_option(minimum: int, help: str):
    """``--boot`` (parameter ``n_boot``): bootstrap resamples, at least ``minimum``, 1,000 by
    default.

    Examples
    --------
    >>> @click.command()
    ... @boot_option(0, "Resamples (0: none).")
    ... def cmd(n_boot):
    ...     pass
    >>> [(p.name, p.default) for p in cmd.params]
    [('n_boot', 1000)]
    """
    return click.option(
        "--boot",
        "n_boot",
        type=click.IntRange(min=minimum),
        default=1000,
        show_default=True,
        help=help,
    )


def table_outputs(what: str, plot_help: str):
    """``--markdown``, ``--json FILE`` (all ``what``) and ``--plot FILE`` of a table command.

    Examples
    --------
    >>> @click.command()
    ... @table_outputs("rows", "Also draw it.")
    ... def cmd(markdown, json_out, plot):
    ...     pass
    >>> [p.name for p in cmd.params]
    ['markdown', 'json_out', 'plot']
    """

    def decorate(fn):
        options = [
            click.option("--markdown", is_flag=True, help="Print Markdown tables."),
            click.option(
                "--json",
                "json_out",
                type=click.Path(dir_okay=False),
                help=f"Also write the {what} as JSON.",
            ),
            click.option("--plot", type=click.Path(dir_okay=False), help=plot_help),
        ]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def _sha256(model) -> str | None:
    return (getattr(model, "meta", None) or {}).get("sha256")


def _data_options(fn):
    """The corpus and gold options shared by the commands that read a test set."""
    options = [
        click.option("--src", type=click.Path(), help="Source file, one sentence a line."),
        click.option("--tgt", type=click.Path(), help="Target file (with --src)."),
        click.option(
            "--bitext",
            type=click.Path(),
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
        click.option(
            "--gold-match",
            type=click.Choice(["auto", "line", "position"]),
            default="auto",
            show_default=True,
            help="How GOLD's sentences pair with the corpus lines: auto (by position; a "
            "gold with sentence ids must number them 1..N in order), line (an id is a "
            "corpus line number: sentences without links may be missing), position "
            "(ignore ids). See `attnprobe score --help`.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _read_data(
    src, tgt, bitext, gold, gold_one_based, reverse_gold, gold_match="auto", packed=False
):
    """(corpus, gold) from the data options; (None, None) when none is given.

    ``packed``: read them into the compact forms of :mod:`attnprobe.data.packed`
    (word numbers and link arrays, a few bytes a word and a link), which a sharded
    run's driver keeps instead of Python lists (same checks, same results).
    """
    from attnprobe.alignment import read_alignments, read_link_table
    from attnprobe.data import ParallelCorpus
    from attnprobe.data.packed import PackedCorpus, PackedGold
    from attnprobe.errors import InputError

    reader = PackedCorpus if packed else ParallelCorpus  # same readers, same checks

    if bitext and (src or tgt):
        raise InputError("give the corpus as either --bitext FILE or --src FILE --tgt FILE")
    if bool(src) != bool(tgt):
        raise InputError("--src and --tgt go together", fix="give both files")
    if bitext:
        corpus = reader.read_bitext(bitext, name=bitext)
    elif src:
        corpus = reader.read(src, tgt, name=f"{src} / {tgt}")
    else:
        if gold:
            raise InputError("--gold needs the corpus it aligns", fix="add --src/--tgt or --bitext")
        return None, None
    alignments = None
    if gold:
        if packed:  # lengths from the offsets, links into arrays
            lengths = list(zip(corpus.src.lengths, corpus.tgt.lengths, strict=True))
        else:
            lengths = [(len(s), len(t)) for s, t in zip(corpus.src, corpus.tgt, strict=True)]
        read = read_link_table if packed else read_alignments
        alignments = read(
            gold, one_based=gold_one_based, reverse=reverse_gold, lengths=lengths, match=gold_match
        )
        if packed:
            alignments = PackedGold.of(alignments)
        if len(alignments) != len(corpus):
            raise InputError(
                f"{len(alignments)} gold lines for {len(corpus)} sentence pairs",
                path=gold,
                fix="give the gold alignment of exactly these sentence pairs, one line each",
            )
    _log_corpus(corpus, alignments)
    return corpus, alignments


def _log_corpus(corpus, gold) -> None:
    log.info(
        "corpus %s: %d sentence pairs%s",
        corpus.name,
        len(corpus),
        ", with gold alignments" if gold is not None else "",
    )


def _analyses_option(fn):
    from attnprobe.pipeline.driver import ANALYSES, DEFAULT_ANALYSES

    return click.option(
        "--analyses",
        default=",".join(DEFAULT_ANALYSES),
        show_default=True,
        help=f"Comma-separated analyses to run: {', '.join(ANALYSES)}.",
    )(fn)


@contextlib.contextmanager
def interrupt_on_sigterm():
    """Treat SIGTERM like Ctrl-C while the block runs (the previous handler comes back after).

    A ``kill`` (or a scheduler's stop) then goes through the same clean-up as
    Ctrl-C: temporary output folders are removed, finished shards are kept,
    and the command says how to resume (exit status 130).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def auto_threads(workers: int = 1, cpus: int | None = None) -> int:
    """The torch thread count a command uses per worker when ``--threads`` is not given.

    One thread per :data:`CPUS_PER_THREAD` CPUs this process may run on, shared
    among the workers, at least 1 and at most 8. The models analysed here are
    small: on a 2-core machine one thread was as fast as two when the machine
    was quiet, and 3.7x faster (median) when another process held a core, so
    threads are spent only where CPUs are plentiful.

    Examples
    --------
    >>> auto_threads(1, cpus=2), auto_threads(1, cpus=16), auto_threads(2, cpus=16)
    (1, 4, 2)
    >>> auto_threads(1, cpus=64)
    8
    """
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
    return max(1, min(8, cpus // (CPUS_PER_THREAD * max(1, workers))))


def resolve_threads(threads: int | None, workers: int = 1) -> int:
    """``--threads`` as given, or :func:`auto_threads`; says which at ``-v``."""
    n = threads if threads is not None else auto_threads(workers)
    how = "as asked" if threads is not None else "automatic; --threads N to change"
    log.info("torch threads: %d per worker (%s)", n, how)
    return n

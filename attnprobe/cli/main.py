"""The ``attnprobe`` command line: a thin layer over the library.

Each command parses options, calls library functions, and prints. What a
command can go through is mapped to the terminal in exactly one place,
:class:`AttnprobeGroup`:

- an :class:`~attnprobe.errors.AttnprobeError` (or an ``OSError`` such as a full
  disk) becomes one line ``attnprobe: error: ...`` and exit status 2;
- Ctrl-C becomes ``attnprobe: interrupted`` and exit status 130 (128 + SIGINT),
  after the atomic writers (:mod:`attnprobe.fileio`) removed what they had begun;
- log records of the ``attnprobe`` logger are printed as ``attnprobe: LEVEL:
  message`` lines on stderr: warnings always, stages with ``-v``, details with
  ``-vv``. Only that logger is configured (the root logger and other libraries'
  loggers are left alone), and only while the command runs.

Heavy modules (torch) are imported inside the commands that need them, so that
model-free commands such as ``attnprobe score`` start fast.
"""

from __future__ import annotations

import sys

import click

from attnprobe import __version__
from attnprobe.cli.options import log_to_stderr
from attnprobe.errors import AttnprobeError

#: exit status after Ctrl-C, as a shell reports a process killed by SIGINT
EXIT_INTERRUPTED = 130


class UserError(click.ClickException):
    """An :class:`AttnprobeError` shown as ``attnprobe: error: ...`` with exit status 2."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"attnprobe: error: {self.format_message()}", err=True)


def _os_error_message(exc: OSError) -> str:
    """``path: reason`` for an OSError the library did not map itself."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


class AttnprobeGroup(click.Group):
    """Click group that maps errors to exit status 2 and Ctrl-C to 130, in one place."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AttnprobeError as exc:
            raise UserError(str(exc)) from exc
        except OSError as exc:
            raise UserError(_os_error_message(exc)) from exc
        except KeyboardInterrupt:
            click.echo("attnprobe: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


@click.group(cls=AttnprobeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attnprobe")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show attnprobe's stages (-v: loading, corpus, each analysis, writing; -vv: details).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Open up trained attentional seq2seq models.

    Capture attention from a model, turn it into word alignments, score those
    against human gold alignments, and compare attention with attribution.
    Run `attnprobe COMMAND --help` for the options of each command.

    \b
    Examples:
      attnprobe analyze fixtures/models/enfr-bahdanau.pt -o report-enfr
      attnprobe -v translate fixtures/models/enfr-bahdanau.pt "the black cat sees a dog"
    """
    log_to_stderr(ctx, verbose)


def _add_commands() -> None:
    from attnprobe.cli import alignments, analysis, bottleneck, models, shortcut, toy

    for command in (
        analysis.analyze,
        analysis.compare,
        bottleneck.bottleneck,
        analysis.report,
        models.train,
        models.translate,
        models.inspect,
        toy.toy,
        shortcut.shortcut,
        alignments.score,
        alignments.symmetrize,
    ):
        cli.add_command(command)


_add_commands()


def main(argv=None) -> None:
    """Console-script entry point (``attnprobe``)."""
    cli.main(args=argv, prog_name="attnprobe")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

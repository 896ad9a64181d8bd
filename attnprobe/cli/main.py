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
from attnprobe.errors import AttnprobeError


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


def _add_commands() -> None:
    from attnprobe.cli import alignments, analysis, models, toy

    for command in (
        analysis.analyze,
        analysis.compare,
        analysis.report,
        models.train,
        models.translate,
        models.inspect,
        toy.toy,
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

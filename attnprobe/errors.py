"""One exception tree for everything attnprobe refuses to do.

Every error a user can cause is an :class:`AttnprobeError`. The CLI turns the
whole tree into a one-line message and exit status 2 in one place
(``attnprobe.cli.main``); library callers catch :class:`AttnprobeError` or one of its
subclasses. Messages say what was expected, what was found, and what to do.

Examples
--------
>>> from attnprobe.errors import InputError
>>> str(InputError("expected 'i-j' links, found 'x'", path="gold.txt", line=3,
...                fix="write links as source-target indices"))
"gold.txt:3: expected 'i-j' links, found 'x' (fix: write links as source-target indices)"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "AttnprobeError",
    "InputError",
    "CheckpointError",
    "UnknownNameError",
    "SiteError",
    "did_you_mean",
]


class AttnprobeError(Exception):
    """Base class of every error attnprobe raises on purpose.

    Examples
    --------
    >>> isinstance(InputError("bad"), AttnprobeError)
    True
    """


class InputError(AttnprobeError, ValueError):
    """Bad user input, optionally located in a file and line.

    Parameters
    ----------
    message : what is wrong (expected vs found).
    path, line : where, when the input came from a file (line is 1-based).
    fix : what the user should do about it.

    Examples
    --------
    >>> str(InputError("2 lines, expected 3", path="hyp.txt"))
    'hyp.txt: 2 lines, expected 3'
    """

    def __init__(self, message: str, *, path=None, line: int | None = None, fix: str | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        tail = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}{self.message}{tail}"


class CheckpointError(InputError):
    """A model file that is missing, truncated, not an attnprobe checkpoint, or unsafe.

    Examples
    --------
    >>> str(CheckpointError("not an attnprobe checkpoint", path="m.pt"))
    'm.pt: not an attnprobe checkpoint'
    """


class UnknownNameError(AttnprobeError, KeyError):
    """A name (score function, site, method, ...) that is not one of the known choices.

    The message lists the close matches ("did you mean") and the valid choices.

    Examples
    --------
    >>> str(UnknownNameError("score function", "genral", ["dot", "general", "concat"]))
    "unknown score function 'genral'; did you mean 'general'? (choices: dot, general, concat)"
    """

    def __init__(self, kind: str, name: str, choices: Iterable[str]):
        self.kind, self.name, self.choices = kind, name, list(choices)
        super().__init__(kind, name)

    def __str__(self) -> str:
        hint = did_you_mean(self.name, self.choices)
        shown = ", ".join(self.choices[:20]) + (", ..." if len(self.choices) > 20 else "")
        return f"unknown {self.kind} {self.name!r}{hint} (choices: {shown})"


class SiteError(AttnprobeError):
    """An attention site that cannot be found, read, or that never fired.

    Examples
    --------
    >>> raise SiteError("site 'decoder.attn' never fired")
    Traceback (most recent call last):
    ...
    attnprobe.errors.SiteError: site 'decoder.attn' never fired
    """


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``.

    Examples
    --------
    >>> did_you_mean("bahdanu", ["bahdanau", "luong"])
    "; did you mean 'bahdanau'?"
    >>> did_you_mean("zzz", ["bahdanau"])
    ''
    """
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""

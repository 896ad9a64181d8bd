"""``attnprobe.load``: one registry of model families, dispatching on what a path holds.

Each family is one adapter file and one entry in :data:`LOADERS`: a test of the
path (cheap: file names, never a full read) and the loader. Families are tried
in order; the first whose test accepts the path loads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from attnprobe.errors import InputError

__all__ = ["LOADERS", "load"]


def _is_checkpoint(path: Path) -> bool:
    return path.is_file()


def _load_checkpoint(path: Path, trust: bool):
    from attnprobe.models.checkpoint import load as load_checkpoint

    return load_checkpoint(path, trust=trust)


def _is_hf_dir(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def _load_hf(path: Path, trust: bool):
    from attnprobe.models.hf import load_hf

    return load_hf(path, trust)


# family -> (does this path hold one?, load it)
LOADERS: dict[str, tuple[Callable[[Path], bool], Callable[[Path, bool], object]]] = {
    "attnprobe checkpoint": (_is_checkpoint, _load_checkpoint),
    "Hugging Face folder": (_is_hf_dir, _load_hf),
}


def load(path: str | os.PathLike, trust: bool = False):
    """Load a model from ``path``, whatever family it is, ready for every analysis.

    Parameters
    ----------
    path : an attnprobe checkpoint (``.pt``; see :mod:`attnprobe.models.checkpoint`).
    trust : allow a pickled module (it runs code when loaded: trusted files only).

    Returns
    -------
    A model implementing :class:`~attnprobe.models.interface.Seq2SeqModel`, in eval mode.

    Raises
    ------
    InputError : nothing at ``path``, or no family recognises it.

    Examples
    --------
    >>> model = load("fixtures/models/enfr-bahdanau.pt")
    >>> model.card()["arch"], model.name
    ('bahdanau', 'enfr-bahdanau')
    >>> load("no/such/model.pt")
    Traceback (most recent call last):
    ...
    attnprobe.errors.InputError: no/such/model.pt: file not found (fix: check the path)
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=p, fix="check the path")
    for detect, loader in LOADERS.values():
        if detect(p):
            return loader(p, trust)
    raise InputError(
        f"not a model this version reads (known: {', '.join(LOADERS)})",
        path=p,
        fix="give an attnprobe checkpoint (.pt), or wrap your module with attnprobe.wrap",
    )

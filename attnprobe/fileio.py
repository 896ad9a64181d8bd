"""Atomic output: files and folders appear whole or not at all, with the modes the umask allows.

A crash, an exception or Ctrl-C while attnprobe writes must never leave a
half-written alignment file, checkpoint or report behind. Everything that
writes user-visible output goes through these helpers: it is written under a
temporary name beside its destination and renamed into place at the end; the
temporary file is removed in ``finally`` whatever happened.

``tempfile`` makes files 0600 and folders 0700. Output gets the modes a plain
``open()`` / ``mkdir`` would have given it (0666 / 0777 less the umask), and the
process umask is read without being changed (changing it, even briefly, races
with other threads and is a side effect on the caller).

An ``OSError`` while writing (a full disk, a read-only folder) becomes one
:class:`~attnprobe.errors.InputError` that names the destination;
:func:`check_output` finds an unwritable destination before any work starts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from attnprobe.errors import InputError

__all__ = [
    "write_text_atomic",
    "write_bytes_atomic",
    "atomic_path",
    "check_output",
    "output_error",
    "current_umask",
    "apply_umask",
]


def current_umask() -> int:
    """The process umask, read without changing it.

    Examples
    --------
    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:  # Linux: the kernel reports it; nothing changes
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere (macOS, Windows, Linux before 4.7) the only portable way to read the
    # umask is to set it and put it back: a brief change other threads could see.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(root: str | os.PathLike) -> None:
    """Give ``root`` (a file, or a folder and everything below it) the modes the umask allows.

    Files get ``0o666 & ~umask``, folders ``0o777 & ~umask``, as ``open()`` and
    ``mkdir`` would have made them; use it on what ``tempfile`` created (0600 / 0700).

    Examples
    --------
    >>> import tempfile, pathlib, stat
    >>> fd, name = tempfile.mkstemp(); os.close(fd)
    >>> apply_umask(name)
    >>> stat.S_IMODE(os.stat(name).st_mode) == 0o666 & ~current_umask()
    True
    """
    mask = current_umask()
    root = Path(root)
    paths = [root, *root.rglob("*")] if root.is_dir() else [root]
    for p in paths:
        if not p.is_symlink():
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def output_error(path: str | os.PathLike, exc: OSError) -> InputError:
    """The one-line error for an ``OSError`` met while writing ``path``.

    Examples
    --------
    >>> str(output_error("out", OSError(errno.ENOSPC, "No space left on device")))
    'out: cannot write: No space left on device (fix: free some space or write elsewhere)'
    """
    fixes = {
        errno.ENOSPC: "free some space or write elsewhere",
        errno.EDQUOT: "free some space or write elsewhere",
        errno.EACCES: "choose a folder you may write to",
        errno.EPERM: "choose a folder you may write to",
        errno.EROFS: "choose a folder on a writable disk",
        errno.ENOENT: "create the folder first, or choose another one",
    }
    reason = exc.strerror or str(exc) or type(exc).__name__
    return InputError(
        f"cannot write: {reason}", path=path, fix=fixes.get(exc.errno, "choose another output path")
    )


def check_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written; return it as a Path.

    Its folder must exist and take a new file (one is created and removed), and
    ``path`` itself must not exist unless ``force``.

    Raises
    ------
    InputError : ``path`` exists (without ``force``), its folder is missing, or
        the folder refuses a new file (permissions, read-only or full disk).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output(d / "report").name
    'report'
    >>> check_output(d / "no" / "report")
    Traceback (most recent call last):
    ...
    attnprobe.errors.InputError: .../no: folder not found (fix: create it first, or ...)
    """
    path = Path(path)
    if path.exists() and not force:
        raise InputError("already exists", path=path, fix="pass --force to replace it")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(
            "folder not found", path=parent, fix="create it first, or choose another output path"
        )
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise output_error(parent, exc) from exc
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> write_text_atomic(p, "hello\\n"); p.read_text()
    'hello\\n'
    """
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> write_bytes_atomic(p, b"\\x00\\x01"); p.read_bytes()
    b'\\x00\\x01'
    """
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Context manager yielding a temporary path that replaces ``path`` on success.

    The body writes to the temporary path; on success it gets the umask's mode
    and is renamed to ``path``. Whatever happens (an exception, Ctrl-C) the
    temporary file is gone afterwards and ``path`` is either untouched or whole.

    Raises
    ------
    InputError : an ``OSError`` while writing (full disk, no permission), naming ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "model.pt"
    >>> with atomic_path(p) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("weights")
    >>> p.read_text()
    'weights'
    """
    path = Path(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        yield tmp
        apply_umask(tmp)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise output_error(path, exc) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)

"""Atomic output: umask-respecting modes without touching the umask, clean-up, one-line errors."""

from __future__ import annotations

import errno
import os
import stat
import tempfile

import pytest

from attnprobe import fileio
from attnprobe.errors import InputError
from attnprobe.fileio import (
    apply_umask,
    atomic_path,
    check_output,
    current_umask,
    write_text_atomic,
)


@pytest.fixture
def umask():
    """Set the process umask for one test (the test does it, never the library) and restore it."""
    real_umask = os.umask  # umask_is_read_only may replace os.umask during the test
    saved = real_umask(0o022)
    real_umask(saved)

    def set_to(mask: int) -> None:
        real_umask(mask)

    yield set_to
    real_umask(saved)


@pytest.fixture
def umask_is_read_only(monkeypatch):
    """Fail if library code calls os.umask (setting it is the only way it can read it that way)."""

    def refuse(mask):
        raise AssertionError(f"os.umask({mask:#o}) called: the umask must only be read")

    monkeypatch.setattr(os, "umask", refuse)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_umask_mode_and_the_umask_is_unchanged(
    tmp_path, umask, umask_is_read_only, mask, expected
):
    umask(mask)
    assert current_umask() == mask
    write_text_atomic(tmp_path / "a.txt", "x\n")
    with atomic_path(tmp_path / "b.bin") as tmp:
        tmp.write_bytes(b"\x00")
    assert mode(tmp_path / "a.txt") == expected == mode(tmp_path / "b.bin")
    assert current_umask() == mask


def test_apply_umask_fixes_a_temporary_folder_tree(tmp_path, umask, umask_is_read_only):
    umask(0o027)
    d = tempfile.mkdtemp(dir=tmp_path)  # 0700
    fd, name = tempfile.mkstemp(dir=d)  # 0600
    os.close(fd)
    os.mkdir(os.path.join(d, "sub"), 0o700)
    apply_umask(d)
    assert (mode(d), mode(name), mode(os.path.join(d, "sub"))) == (0o750, 0o640, 0o750)


def test_a_failure_leaves_neither_the_file_nor_a_temporary(tmp_path):
    (tmp_path / "keep.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "keep.txt") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "old"


def test_a_full_disk_is_one_error_naming_the_destination(tmp_path):
    with pytest.raises(InputError) as info, atomic_path(tmp_path / "m.pt") as tmp:
        tmp.write_text("part")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(info.value) == (
        f"{tmp_path / 'm.pt'}: cannot write: No space left on device "
        "(fix: free some space or write elsewhere)"
    )
    assert list(tmp_path.iterdir()) == []


def test_writing_into_a_missing_folder_is_one_error(tmp_path):
    with pytest.raises(InputError, match="no/x.txt: cannot write: No such file"):
        write_text_atomic(tmp_path / "no" / "x.txt", "x")


def test_check_output(tmp_path, monkeypatch):
    assert check_output(tmp_path / "out") == tmp_path / "out"
    assert list(tmp_path.iterdir()) == []  # the probe file is gone
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match="out: already exists .fix: pass --force"):
        check_output(tmp_path / "out")
    assert check_output(tmp_path / "out", force=True) == tmp_path / "out"
    with pytest.raises(InputError, match="missing: folder not found"):
        check_output(tmp_path / "missing" / "out")

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    with pytest.raises(InputError) as info:
        check_output(tmp_path / "new")
    assert str(info.value) == (
        f"{tmp_path}: cannot write: Permission denied (fix: choose a folder you may write to)"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_check_output_finds_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="ro: cannot write: Permission denied"):
            check_output(ro / "out")
    finally:
        ro.chmod(0o700)

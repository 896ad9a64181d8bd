"""Results.save: modes from the umask (left unchanged), nothing half-written, one-line errors."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from pathlib import Path

import pytest

import attnprobe.results as results_module
from attnprobe.errors import InputError
from tests.report_data import hand_made_results


@pytest.fixture
def umask():
    real_umask = os.umask
    saved = real_umask(0o022)
    real_umask(saved)
    yield real_umask
    real_umask(saved)


def modes(root) -> dict[str, int]:
    """Path (relative, '.' for root) -> permission bits, for the whole tree."""
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for p in root.rglob("*"):
        out[p.relative_to(root).as_posix()] = stat.S_IMODE(p.stat().st_mode)
    return out


@pytest.mark.parametrize(
    "mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_saved_folder_has_the_umask_modes_and_the_umask_is_unchanged(
    tmp_path, umask, monkeypatch, mask, file_mode, dir_mode
):
    umask(mask)
    monkeypatch.setattr(os, "umask", lambda m: pytest.fail("Results.save changed the umask"))
    out = hand_made_results().save(tmp_path / "out", figures=False)
    monkeypatch.undo()
    found = modes(out)
    assert found["."] == dir_mode and found["alignments"] == dir_mode
    files = {k: v for k, v in found.items() if (out / k).is_file()}
    assert "metrics.json" in files and "report.html" in files
    assert set(files.values()) == {file_mode}, files
    assert umask(mask) == mask  # the process umask is what the test set


def test_interrupted_replace_brings_the_old_folder_back(tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("keep")
    real_replace = os.replace
    calls = []

    def replace_then_interrupt(src, dst):
        calls.append((src, dst))
        real_replace(src, dst)
        if len(calls) == 1:  # the old folder is moved aside, the new one not yet in place
            raise KeyboardInterrupt

    monkeypatch.setattr(results_module.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        hand_made_results().save(tmp_path / "out", force=True, figures=False)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (tmp_path / "out" / "old.txt").read_text() == "keep"


def test_a_full_disk_is_one_error_naming_the_output_folder(tmp_path, monkeypatch):
    import attnprobe.fileio as fileio

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results_module, "write_text_atomic", full)
    with pytest.raises(InputError) as info:
        hand_made_results().save(tmp_path / "out", figures=False)
    assert str(info.value) == (
        f"{tmp_path / 'out'}: cannot write: No space left on device "
        "(fix: free some space or write elsewhere)"
    )
    assert list(tmp_path.iterdir()) == []
    # the same error raised by a file helper (naming the file in the temporary folder)
    monkeypatch.setattr(results_module, "write_text_atomic", fileio.write_text_atomic)
    monkeypatch.setattr(fileio.Path, "write_bytes", lambda self, data: full(None, None))
    with pytest.raises(InputError, match=r"out: cannot write: No space left on device"):
        hand_made_results().save(tmp_path / "out", figures=False)
    assert list(tmp_path.iterdir()) == []


def test_save_logs_its_stages(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="attnprobe"):
        hand_made_results().save(tmp_path / "out", figures=False)
    messages = [r.getMessage() for r in caplog.records if r.name == "attnprobe"]
    assert messages == [
        f"writing {tmp_path / 'out'}",
        "writing metrics.json and sentences.jsonl (3 sentences)",
        "writing alignments/",
        "writing report.html",
    ]


def test_rendered_lines_are_written_as_they_are_and_only_the_sample_is_parsed(tmp_path):
    from attnprobe.pipeline.common import choose_later
    from attnprobe.pipeline.scale.work_area import render_shard

    metrics = {
        "corpus": {"analysed": 2},
        "alignment": {"keys": ["dec/argmax-target", "dec/union"]},
    }
    recs = []
    for i, (a, b) in enumerate((([[0, 0], [1, 1]], [[1, 0]]), ([], [[0, 2], [0, 1]]))):
        rec = {"index": i, "src": ["w"], "tgt": ["v"], "links": {}}
        choose_later(rec, "alignment dec/argmax-target", 0, {"links": {"dec/argmax-target": a}})
        choose_later(rec, "alignment dec/argmax-target", -1, {"links": {"dec/argmax-target": []}})
        choose_later(rec, "alignment dec/union", 0, {"links": {"dec/union": b}})
        recs.append(rec)
    shard = tmp_path / "000000-abc.jsonl"
    shard.write_text('{"stats":0}\n' + "".join(json.dumps(r) + "\n" for r in recs))
    chosen = {"alignment dec/argmax-target": 0, "alignment dec/union": 0}
    keys = list(results_module.alignment_files(metrics).values())
    lines = Path(render_shard(shard, tmp_path / "lines", chosen, keys)).read_text().splitlines()
    res = results_module.write_output(tmp_path / "out", metrics, iter(lines), figures=False)
    out = tmp_path / "out"
    assert (out / "sentences.jsonl").read_text().splitlines() == [
        '{"index":0,"src":["w"],"tgt":["v"],"links":{"dec/argmax-target":[[0,0],[1,1]],'
        '"dec/union":[[1,0]]}}',
        '{"index":1,"src":["w"],"tgt":["v"],"links":{"dec/argmax-target":[],'
        '"dec/union":[[0,2],[0,1]]}}',
    ]
    # Pharaoh lines, links sorted by target word, then source word
    assert (out / "alignments" / "attention.dec.argmax-target.txt").read_text() == "0-0 1-1\n\n"
    assert (out / "alignments" / "attention.dec.union.txt").read_text() == "1-0\n0-1 0-2\n"
    assert [s["links"]["dec/union"] for s in res.sentences] == [[[1, 0]], [[0, 2], [0, 1]]]

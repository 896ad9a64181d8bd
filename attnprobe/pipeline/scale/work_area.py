"""Where a run keeps its finished shards: in memory, or in a work area on disk for resume.

The work area of output folder ``OUT`` is the hidden folder ``.OUT.work``
beside it (never inside: ``OUT`` appears only when the run is whole). Each
finished shard is one file ``shards/NUMBER-ID.jsonl``: a first line with the
shard's statistics (:func:`attnprobe.pipeline.scale.stats.dumps`), then one line per
sentence record. A file is written under a temporary name and renamed, so it
is either whole or absent: a run killed at any moment loses at most the shards
in flight. A rerun with the same options (same shard ids) skips the shards it
finds; files of other runs (other ids) and half-written temporary files are
removed. The work area is removed once the output folder is in place.

Workers stream a shard's records into a temporary file as its batches finish
(:class:`ShardWriter`), so that they never hold a whole shard's records.

Records come back in corpus order (:meth:`WorkArea.records`) through an index
of (file, byte offset) per sentence: a few bytes a sentence, not the records.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from array import array
from pathlib import Path

import numpy as np

from attnprobe.pipeline.scale.shards import Shard, ShardOutput
from attnprobe.pipeline.scale.stats import dumps, loads

__all__ = ["MemoryStore", "ShardWriter", "WorkArea", "render_shard", "work_area_of"]

log = logging.getLogger("attnprobe")

#: shard files kept open at once while the records are read back in corpus order
_OPEN = 128


def work_area_of(out: str | os.PathLike) -> Path:
    """The work area of output folder ``out``: ``.NAME.work`` beside it.

    Examples
    --------
    >>> work_area_of("runs/big").as_posix()
    'runs/.big.work'
    """
    out = Path(out)
    return out.with_name(f".{out.name}.work")


class MemoryStore:
    """Finished shards kept in memory (the Python API's ``analyze`` without an output folder)."""

    def __init__(self):
        self.outputs: dict[int, ShardOutput] = {}

    def open(self, shards: list[Shard]) -> set[int]:
        """Numbers of the shards already finished (none: a memory store starts empty)."""
        return set(self.outputs)

    def writer(self, number: int, sid: str) -> ShardWriter:
        """A :class:`ShardWriter` for shard ``number`` (its records streamed to a file)."""
        return ShardWriter(self.dir / f"{number:06d}-{sid}.jsonl")

    def put(self, output: ShardOutput) -> None:
        self.outputs[output.number] = output

    def stats(self):
        """Each finished shard's statistics, in shard order."""
        return (self.outputs[k].stats for k in sorted(self.outputs))

    def records(self):
        """Every record, in corpus order."""
        recs = [r for k in sorted(self.outputs) for r in self.outputs[k].records]
        return iter(sorted(recs, key=lambda r: r["index"]))


class ShardWriter:
    """One shard's file, written as its batches finish: records go to a temporary file;
    :meth:`close` puts the statistics line first and renames the whole into place.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "000001-abc.jsonl"
    >>> w = ShardWriter(path)
    >>> w.write(['{"index":3}', '{"index":1}'])
    >>> path.exists()
    False
    >>> w.close({"n": 2})
    >>> path.read_text().splitlines()
    ['{"n":2}', '{"index":3}', '{"index":1}']
    """

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.records.tmp")
        self.file = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in close/discard

    def write(self, lines) -> None:
        """Add a batch's records (JSON lines)."""
        for line in lines:
            self.file.write(line + "\n")

    def close(self, stats: dict) -> None:
        """Write the shard's file: the statistics line, then the records; atomically."""
        self.file.close()
        whole = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(whole, "w", encoding="utf-8") as f, open(self.tmp, encoding="utf-8") as r:
                f.write(dumps(stats) + "\n")
                shutil.copyfileobj(r, f, 1 << 20)
            os.replace(whole, self.path)
        finally:
            whole.unlink(missing_ok=True)
            self.tmp.unlink(missing_ok=True)

    def discard(self) -> None:
        """Drop what was written (the shard failed)."""
        self.file.close()
        self.tmp.unlink(missing_ok=True)


class WorkArea:
    """Finished shards as files under ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike, key: str):
        self.root = Path(root)
        self.dir = self.root / "shards"
        self.key = key
        self.files: dict[int, Path] = {}

    def open(self, shards: list[Shard]) -> set[int]:
        """Create or reuse the work area for ``shards``; the numbers of those already done.

        Files that belong to no shard of this plan (another run's options, a
        half-written temporary file of a killed run) are removed.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        names = {f"{s.number:06d}-{s.id}.jsonl": s.number for s in shards}
        done = set()
        for p in self.dir.iterdir():
            if p.name in names:
                self.files[names[p.name]] = p
                done.add(names[p.name])
            else:
                log.info("removing %s (not a shard of this run)", p)
                p.unlink(missing_ok=True)
        (self.root / "run.json").write_text(
            json.dumps({"key": self.key, "shards": len(shards)}) + "\n", encoding="utf-8"
        )
        return done

    def writer(self, number: int, sid: str) -> ShardWriter:
        """A :class:`ShardWriter` for shard ``number`` (its records streamed to a file)."""
        return ShardWriter(self.dir / f"{number:06d}-{sid}.jsonl")

    def put(self, output: ShardOutput) -> None:
        """Write one finished shard, atomically (temporary file, then rename).

        An output without records was written by a worker: it is only noted.
        """
        path = self.dir / f"{output.number:06d}-{output.id}.jsonl"
        if output.records is None:
            if not path.is_file():
                raise FileNotFoundError(f"shard {output.number}: {path} was not written")
            self.files[output.number] = path
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(dumps(output.stats) + "\n")
                for rec in output.records:  # JSON lines already, or dicts
                    line = rec if isinstance(rec, str) else json.dumps(rec, separators=(",", ":"))
                    f.write(line + "\n")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.files[output.number] = path

    def stats(self):
        """Each finished shard's statistics, in shard order (one line read per file)."""
        for k in sorted(self.files):
            with open(self.files[k], encoding="utf-8") as f:
                yield loads(f.readline())

    def records(self):
        """Every record, in corpus order, read back one at a time."""
        return self._in_corpus_order(self.files, header=True, parse=True)

    @staticmethod
    def _in_corpus_order(files: dict, header: bool, parse: bool):
        """The lines of ``files`` (shard number -> path) in corpus order: each line's
        first key is its sentence's corpus index; ``header``: skip each file's first line."""
        numbers = sorted(files)
        index, where, offset = array("q"), array("i"), array("q")  # 20 bytes a sentence
        for slot, k in enumerate(numbers):  # one pass per file: each record's line and offset
            with open(files[k], "rb") as f:
                if header:
                    f.readline()
                pos = f.tell()
                for line in f:
                    # the corpus index is the record's first key: read it without parsing all
                    index.append(int(line[9 : line.index(b",")]))
                    where.append(slot)
                    offset.append(pos)
                    pos += len(line)
        order = np.argsort(np.frombuffer(index, np.int64), kind="stable")
        where_a, offset_a = np.frombuffer(where, np.int32), np.frombuffer(offset, np.int64)
        handles: dict[int, object] = {}  # the most recently used files, at most _OPEN
        try:
            for i in order:
                slot = int(where_a[i])
                f = handles.pop(slot, None)
                if f is None:
                    if len(handles) >= _OPEN:
                        handles.pop(next(iter(handles))).close()
                    f = open(files[numbers[slot]], "rb")  # noqa: SIM115 - closed below
                handles[slot] = f
                f.seek(offset_a[i])
                line = f.readline()
                yield json.loads(line) if parse else line.decode("utf-8").rstrip("\n")
        finally:
            for f in handles.values():
                f.close()

    def lines(self, chosen: dict, keys: list[str], processes: int = 1):
        """Every record as its output line (:func:`~attnprobe.results.output_line`, the
        corpus-level ``chosen`` options applied), in corpus order, one at a time.

        With ``processes`` > 1 the shards are first rendered to files by that many
        processes at once (:func:`render_shard`): the choices come after the last
        shard, and this JSON read and write per record is otherwise the driver's
        largest share of a sharded run, alone at its end.
        """
        from attnprobe.pipeline.common import resolve_choices
        from attnprobe.results import output_line

        processes = min(processes, len(self.files), os.cpu_count() or 1)
        if processes <= 1:
            for rec in self.records():
                yield output_line(resolve_choices(rec, chosen), keys)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        out = self.root / "lines"
        shutil.rmtree(out, ignore_errors=True)  # an interrupted rendering's, if any
        out.mkdir(parents=True)
        rendered = {k: out / p.name for k, p in self.files.items()}
        jobs = [(str(self.files[k]), str(rendered[k]), chosen, keys) for k in self.files]
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=ctx, initializer=_quiet) as pool:
            list(pool.map(render_shard, *zip(*jobs, strict=True)))
        yield from self._in_corpus_order(rendered, header=False, parse=False)

    def remove(self) -> None:
        """Remove the work area (after the output folder is in place)."""
        shutil.rmtree(self.root, ignore_errors=True)


def _quiet() -> None:
    """A rendering process leaves Ctrl-C to the driver (which then waits for it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def render_shard(path: str, dest: str, chosen: dict, keys: list[str]) -> str:
    """Write shard file ``path``'s records to ``dest`` as output lines; returns ``dest``.

    Each line is :func:`~attnprobe.results.output_line` of the record with the
    corpus-level ``chosen`` options applied
    (:func:`~attnprobe.pipeline.common.resolve_choices`). ``dest`` appears whole
    (temporary file, then rename). A module function: a process pool runs it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from attnprobe.pipeline.common import choose_later
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rec = {"index": 4, "links": {}}
    >>> choose_later(rec, "offset", 0, {"links": {"a": [[1, 0], [0, 1]]}})
    >>> choose_later(rec, "offset", -1, {"links": {"a": []}})
    >>> _ = (d / "s.jsonl").write_text('{"stats":1}\\n' + json.dumps(rec) + "\\n")
    >>> print(pathlib.Path(render_shard(d / "s.jsonl", d / "s.lines", {"offset": 0}, ["a"]))
    ...       .read_text().replace("\\t", " | "), end="")
    {"index":4,"links":{"a":[[1,0],[0,1]]}} | 1-0 0-1
    """
    from attnprobe.pipeline.common import resolve_choices
    from attnprobe.results import output_line

    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with open(path, encoding="utf-8") as f, open(tmp, "w", encoding="utf-8") as g:
            f.readline()  # the shard's statistics
            for line in f:
                g.write(output_line(resolve_choices(json.loads(line), chosen), keys) + "\n")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return str(dest)

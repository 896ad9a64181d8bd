"""What ``attnprobe analyze`` found: :class:`Results`, plain data that round-trips to disk.

Results are JSON-able dicts and lists, not live objects: ``metrics`` holds the
corpus-level numbers (with the signature that reproduces them) and
``sentences`` one record per analysed sentence. That keeps three things cheap:
writing them (``metrics.json``, ``sentences.jsonl``), re-rendering a report
from those files alone (``attnprobe report DIR``), and keeping this module and
the report free of torch (the report never touches the model).

The output directory is written to a temporary sibling folder and renamed into
place at the end, so a crash or Ctrl-C leaves either the whole report or nothing;
the temporary folder's name carries the writer's process id, so a later run
removes the leftovers of a writer that was killed outright. A large run is
written from a stream of records (:func:`write_output`): ``sentences.jsonl``
and the alignment files get every sentence, the HTML report a bounded,
deterministic sample of them (:data:`REPORT_SENTENCES`).
The report modules never import this one (:func:`quantize` lives in
:mod:`attnprobe.report.quantized` and is re-exported here), so the import graph
has no cycle: results -> report, never back.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attnprobe.alignment import Alignment, write_pharaoh
from attnprobe.alignment.formats import format_links
from attnprobe.errors import InputError
from attnprobe.fileio import apply_umask, output_error, write_text_atomic
from attnprobe.report.quantized import dequantize, quantize

__all__ = [
    "Results",
    "quantize",
    "dequantize",
    "OUTPUT_FILES",
    "REPORT_SENTENCES",
    "report_sample",
    "alignment_files",
    "output_line",
    "write_output",
]

log = logging.getLogger("attnprobe")

#: the files of an output directory (besides alignments/ and figures/)
OUTPUT_FILES = ("report.html", "metrics.json", "sentences.jsonl")

#: most sentences the report's explorer shows (a larger run shows an even spread of them;
#: sentences.jsonl keeps every one)
REPORT_SENTENCES = 1200


def report_sample(n: int, size: int | None = None) -> list[int]:
    """The positions of the sentences the report shows: all, or ``size`` spread evenly.

    Examples
    --------
    >>> report_sample(3), report_sample(10, size=4)
    ([0, 1, 2], [0, 3, 6, 9])
    """
    size = REPORT_SENTENCES if size is None else size
    if n <= size:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, size).round().astype(int).tolist()))


def _links(pairs) -> frozenset:
    return frozenset((int(i), int(j)) for i, j in pairs)


@dataclass
class Results:
    """Corpus-level ``metrics`` and per-sentence ``sentences`` of one analysis run.

    ``metrics`` keys: ``signature`` (versions, checkpoint hash, options, seed),
    ``model``, ``corpus``, ``primary`` (the site / method / offset the explorer
    shows), ``alignment`` (scores per site x method x offset), ``quality``,
    ``sections`` (the data of every further step, worded by
    :mod:`attnprobe.report.sections`), ``warnings``, ``skipped``.
    Each sentence record has ``index``, ``src``, ``tgt``, its numbers, ``gold``
    links, predicted ``links`` per ``site/method`` and the quantised
    ``attention`` of the primary site.

    Examples
    --------
    >>> r = Results({"corpus": {"sentences": 0}}, [])
    >>> r.n_sentences
    0
    """

    metrics: dict
    sentences: list[dict] = field(default_factory=list)

    # ------------------------------------------------------------- accessors

    @property
    def n_sentences(self) -> int:
        """Number of analysed sentences (of the run, when ``sentences`` is the report's sample)."""
        sample = self.metrics.get("explorer")
        return sample["of"] if sample else len(self.sentences)

    @property
    def signature(self) -> dict:
        """Versions, checkpoint hash, options and seed that reproduce these numbers."""
        return self.metrics.get("signature", {})

    @property
    def scores(self) -> list[dict]:
        """Alignment scores, one dict per site x method x offset (empty without gold)."""
        return (self.metrics.get("alignment") or {}).get("scores", [])

    def score(self, site: str | None = None, method: str | None = None, offset=None) -> dict:
        """The score row of one site / method / offset (default: the primary ones).

        Examples
        --------
        >>> r = Results({"primary": {"site": "a", "method": "m", "offset": 0},
        ...              "alignment": {"scores": [{"site": "a", "method": "m", "offset": 0,
        ...                                        "aer": 0.25}]}})
        >>> r.score()["aer"]
        0.25
        """
        primary = self.metrics.get("primary", {})
        want = (
            site or primary.get("site"),
            method or primary.get("method"),
            primary.get("offset") if offset is None else offset,
        )
        for row in self.scores:
            if (row["site"], row["method"], row["offset"]) == want:
                return row
        raise InputError(f"no alignment score for site/method/offset {want}")

    def alignments(self, key: str) -> list[Alignment]:
        """Predicted alignments for ``key`` = ``"site/method"`` (at its best offset).

        Examples
        --------
        >>> r = Results({}, [{"src_len": 2, "tgt_len": 1, "links": {"a/m": [[1, 0]]}}])
        >>> r.alignments("a/m")[0].sure
        frozenset({(1, 0)})
        """
        return [
            Alignment(_links(s["links"][key]), frozenset(), s["src_len"], s["tgt_len"])
            for s in self.sentences
        ]

    # ------------------------------------------------------------------ disk

    def to_json(self, directory: str | os.PathLike) -> Path:
        """Write ``metrics.json`` and ``sentences.jsonl`` into ``directory`` (created if missing).

        Examples
        --------
        >>> import tempfile
        >>> d = Results({"corpus": {"sentences": 1}}, [{"index": 0}]).to_json(tempfile.mkdtemp())
        >>> Results.from_json(d).sentences
        [{'index': 0}]
        """
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        write_text_atomic(d / "metrics.json", json.dumps(self.metrics, indent=1) + "\n")
        lines = (json.dumps(s, separators=(",", ":")) for s in self.sentences)
        write_text_atomic(d / "sentences.jsonl", "".join(line + "\n" for line in lines))
        return d

    @classmethod
    def from_json(cls, directory: str | os.PathLike, sample: bool = False) -> Results:
        """Read what :meth:`to_json` wrote.

        ``sample``: keep only the sentences the report shows (:func:`report_sample`),
        reading ``sentences.jsonl`` line by line: memory stays bounded on any corpus.

        Raises
        ------
        InputError : a missing or unreadable file.
        """
        d = Path(directory)
        files = [d / "metrics.json", d / "sentences.jsonl"]
        for p in files:
            if not p.is_file():
                raise InputError(
                    "not found", path=p, fix="give a folder written by `attnprobe analyze`"
                )
        metrics = _read_json(files[0], files[0].read_text(encoding="utf-8"))
        n = (metrics.get("corpus") or {}).get("analysed")
        shown = set(report_sample(n)) if sample and n else None
        sentences, k = [], 0
        with open(files[1], encoding="utf-8") as f:
            for line_no, x in enumerate(f, 1):
                if not x.strip():
                    continue
                if shown is None or k in shown:
                    sentences.append(_read_json(files[1], x, line_no))
                k += 1
        if shown is not None and len(sentences) < k:
            metrics = {**metrics, "explorer": {"shown": len(sentences), "of": k}}
        return cls(metrics, sentences)

    def to_html(self, path: str | os.PathLike) -> Path:
        """Write the self-contained HTML report to ``path`` (atomically).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = Results({}, []).to_html(pathlib.Path(tempfile.mkdtemp()) / "r.html")
        >>> p.read_text().startswith("<!DOCTYPE html>")
        True
        """
        from attnprobe.report.html import render_report

        path = Path(path)
        write_text_atomic(path, render_report(self._report_view()))
        return path

    def _report_view(self) -> Results:
        """These results with at most :data:`REPORT_SENTENCES` sentences (an even spread)."""
        if len(self.sentences) == len(report_sample(len(self.sentences))):
            return self
        shown = [self.sentences[k] for k in report_sample(len(self.sentences))]
        explorer = {"shown": len(shown), "of": len(self.sentences)}
        return Results({**self.metrics, "explorer": explorer}, shown)

    def _repr_html_(self) -> str:
        from attnprobe.report.html import render_summary

        return render_summary(self)

    def save(self, out_dir: str | os.PathLike, force: bool = False, figures: bool = True) -> Path:
        """Write the whole output directory, all or nothing.

        Files: ``report.html``, ``metrics.json``, ``sentences.jsonl``,
        ``alignments/attention.SITE.METHOD.txt`` (Pharaoh, 0-based source-target,
        at the best offset; plug-in sections add theirs, e.g.
        ``alignments/attribution.METHOD.EXTRACTION.txt``) and ``figures/*.png|svg``.
        Everything is written into a temporary folder beside ``out_dir`` that is
        renamed into place at the end; on any error (Ctrl-C included) it is removed
        and ``out_dir`` is untouched.

        Files get the modes the umask allows (0644 under umask 022), like files
        made with ``open()``; the umask itself is left alone.

        Raises
        ------
        InputError : ``out_dir`` exists and ``force`` is false, or writing failed
            (full disk, no permission: an ``OSError``), naming ``out_dir``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
        >>> sorted(p.name for p in Results({}, []).save(d, figures=False).iterdir())
        ['alignments', 'metrics.json', 'report.html', 'sentences.jsonl']
        """
        return _publish(out_dir, force, lambda d: self._write_all(d, figures))

    def _write_all(self, d: Path, figures: bool) -> None:
        log.info("writing metrics.json and sentences.jsonl (%d sentences)", self.n_sentences)
        self.to_json(d)
        log.info("writing alignments/")
        (d / "alignments").mkdir()
        for name, key in alignment_files(self.metrics).items():
            write_pharaoh(d / "alignments" / name, self.alignments(key))
        if figures:
            from attnprobe.report.figures import write_figures

            log.info("drawing figures/")
            write_figures(self.metrics, d / "figures")
        log.info("writing report.html")
        self.to_html(d / "report.html")


def _read_json(path: Path, text: str, line: int | None = None):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=path, line=line) from None


def _remove(path: Path) -> None:
    """Remove a folder (or a file) of ours, ignoring what is already gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _publish(out_dir, force: bool, write) -> Path:
    """Fill a temporary folder beside ``out_dir`` with ``write(folder)``, then rename it there.

    On any error (Ctrl-C included) the temporary folder is removed and
    ``out_dir`` is untouched; leftovers of writers killed outright (their process
    is gone) are removed first.
    """
    out = Path(out_dir)
    if out.exists() and not force:
        raise InputError("already exists", path=out, fix="pass --force to replace it")
    tmp = old = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out)
        prefix = f".{out.name}.{os.getpid()}."
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=prefix, suffix=".tmp"))
        log.info("writing %s", out)
        write(tmp)
        apply_umask(tmp)
        if out.exists():  # --force: keep the old folder until the new one is in place
            old = out.with_name(f".{out.name}.old")
            _remove(old)
            os.replace(out, old)
        os.replace(tmp, out)
        tmp = None
    except OSError as exc:
        raise output_error(out, exc) from exc
    except InputError as exc:
        if isinstance(exc.__cause__, OSError):  # from a file inside the temporary folder
            raise output_error(out, exc.__cause__) from exc.__cause__
        raise
    finally:  # also on Ctrl-C: no temporary folder stays, and the old folder comes back
        if tmp is not None:
            _remove(tmp)
        if old is not None:
            if out.exists():
                _remove(old)
            else:
                os.replace(old, out)
    return out


def _remove_leftovers(out: Path) -> None:
    """Remove ``.NAME.PID.*.tmp`` folders beside ``out`` whose writer process is gone."""
    for p in out.parent.glob(f".{out.name}.*.tmp"):
        pid = p.name[len(out.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            log.info("removing %s (left by a run that was killed)", p)
            _remove(p)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def alignment_files(metrics: dict) -> dict[str, str]:
    """The alignment files of an output folder: file name -> the records' ``links`` key.

    One file per site and extraction method at its best offset
    (``metrics["alignment"]["keys"]``), and those the sections name
    (``alignment_files``: plug-ins name their own, e.g.
    ``attribution.METHOD.EXTRACTION.txt``).

    Raises
    ------
    InputError
        A section names a file that is not a plain file name.

    Examples
    --------
    >>> alignment_files({"alignment": {"keys": ["decoder.attention/argmax-target"]}})
    {'attention.decoder.attention.argmax-target.txt': 'decoder.attention/argmax-target'}
    """
    files = {}
    for key in (metrics.get("alignment") or {}).get("keys", []):
        site, method = key.rsplit("/", 1)
        files[f"attention.{site}.{method}.txt"] = key
    for section in (metrics.get("sections") or {}).values():
        for name, key in ((section or {}).get("alignment_files") or {}).items():
            if os.path.basename(name) != name or name.startswith("."):
                raise InputError(f"alignment file name {name!r} is not a plain file name")
            files[name] = key
    return files


def output_line(rec: dict, keys) -> str:
    """One sentence as :func:`write_output` takes it: ``rec`` as compact JSON, then, for
    each links key of ``keys`` (:func:`alignment_files`' values, in order), a tab and
    those links as a Pharaoh line.

    Examples
    --------
    >>> output_line({"index": 0, "links": {"a": [[1, 0], [0, 1]]}}, ["a"]).split("\\t")
    ['{"index":0,"links":{"a":[[1,0],[0,1]]}}', '1-0 0-1']
    """
    links = "".join("\t" + format_links(rec["links"][key]) for key in keys)
    return json.dumps(rec, separators=(",", ":")) + links


def write_output(
    out_dir, metrics: dict, lines, force: bool = False, figures: bool = True
) -> Results:
    """Write an output folder from a stream of sentences in corpus order, all or nothing.

    The same files as :meth:`Results.save`. Each sentence comes as its
    :func:`output_line` for the keys of :func:`alignment_files` (rendered where
    the records are: :meth:`~attnprobe.pipeline.scale.work_area.WorkArea.lines`);
    ``sentences.jsonl`` and the alignment files are written as the lines come,
    and only the report's sample (:func:`report_sample`) is parsed (memory: one
    line and the sample). Returns Results holding that sample
    (``metrics["explorer"]`` says so when it is not every sentence).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> rec = {"index": 0, "src": ["a"], "tgt": ["b"], "src_len": 1, "tgt_len": 1}
    >>> r = write_output(d, {"corpus": {"analysed": 1}}, iter([output_line(rec, [])]),
    ...                  figures=False)
    >>> (d / "sentences.jsonl").read_text()[:12], r.n_sentences
    ('{"index":0,"', 1)
    """
    n = (metrics.get("corpus") or {}).get("analysed") or 0
    shown = set(report_sample(n))
    sample: list[dict] = []

    def write(d: Path) -> None:
        (d / "alignments").mkdir()
        files = alignment_files(metrics)
        log.info("writing metrics.json and sentences.jsonl (%d sentences)", n)
        handles = {}
        try:
            for name in files:
                handles[name] = open(d / "alignments" / name, "w", encoding="utf-8")  # noqa: SIM115
            out = list(handles.values())
            with open(d / "sentences.jsonl", "w", encoding="utf-8") as f:
                for k, whole in enumerate(lines):
                    line, *links = whole.split("\t")
                    f.write(line + "\n")
                    for h, text in zip(out, links, strict=True):
                        h.write(text + "\n")
                    if k in shown:
                        sample.append(json.loads(line))
        finally:
            for h in handles.values():
                h.close()
        write_text_atomic(d / "metrics.json", json.dumps(metrics, indent=1) + "\n")
        if figures:
            from attnprobe.report.figures import write_figures

            log.info("drawing figures/")
            write_figures(metrics, d / "figures")
        log.info("writing report.html")
        view(d)

    result: list[Results] = []

    def view(d: Path) -> None:
        m = (
            metrics
            if len(sample) == n
            else {**metrics, "explorer": {"shown": len(sample), "of": n}}
        )
        result.append(Results(m, sample))
        result[0].to_html(d / "report.html")

    _publish(out_dir, force, write)
    return result[0]

"""Malformed and odd alignment files through the commands, one table.

Every malformed input must give exit status 2, exactly one line on stderr that
names the file (and the line, where one applies), nothing on stdout, and no
file written. Every odd but well-formed input is scored exactly: the expected
counts were worked out by hand from the file contents in each row.

Runs from inside the test folder, so that messages name the files as given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from attnprobe.cli.main import cli

FOLDER = object()  # a file entry that is a folder


@dataclass
class Error:
    """Exit 2 with one stderr line ``attnprobe: error: {where}: ...{text}...``."""

    where: str
    text: str


@dataclass
class Scored:
    """Exit 0; ``score --json`` gives these counts (and scores where given)."""

    links: int
    sure: int
    possible: int
    hits_sure: int
    hits_possible: int
    sentences: int
    warnings: int = 0
    scores: dict = field(default_factory=dict)


@dataclass
class Written:
    """Exit 0 (symmetrize); ``out.txt`` holds ``text``; stderr has warnings + a summary."""

    text: str
    warnings: int = 0


def case(name, files, args, expect):
    return pytest.param(files, args, expect, id=name)


G, H = "g.txt", "h.txt"
SCORE = ["score", G, H, "--json"]
BIG = "9" * 5000

ERRORS = [
    # ---- tokens and indices
    case("bad-token", {G: "0-0 1:1\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "'1:1'")),
    case("bad-token-hyp-line-2", {G: "0-0\n0-0\n", H: "0-0\n0-x\n"}, SCORE, Error("h.txt:2", "")),
    case("glued-links", {G: "0-0 0-01-1\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "malformed")),
    case("negative-pharaoh", {G: "0-0 0--1\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "negative")),
    case("negative-naacl", {G: "1 -1 2 S\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "negative")),
    case("float-pharaoh", {G: "0-0 0-1.5\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "not an integ")),
    case("float-naacl", {G: "1 1.0 2 S\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "not an integer")),
    case("5000-digits", {G: "0-0\n", H: f"0-{BIG}\n"}, SCORE, Error("h.txt:1", "beyond")),
    case("beyond-int64", {G: f"0-{'9' * 20}\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "beyond")),
    case("1e12", {G: "0-0\n", H: "1000000000000-0\n"}, SCORE, Error("h.txt:1", "beyond")),
    case("huge-naacl", {G: "1 1 99999999999 S\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "beyond")),
    case(
        "outside-text",
        {G: "0-0 0-2\n", H: "0-0\n", "b.txt": "a ||| b c\n"},
        [*SCORE, "--text", "b.txt"],
        Error("g.txt:1", "points outside sentence 1"),
    ),
    case(
        "outside-text-hyp",
        {G: "0-0\n0-0\n", H: "0-0\n1-0\n", "b.txt": "a ||| b\nc ||| d\n"},
        [*SCORE, "--text", "b.txt"],
        Error("h.txt:2", "points outside sentence 2"),
    ),
    case(
        "zero-in-one-based",
        {G: "1-1\n0-1\n", H: "0-0\n0-0\n"},
        [*SCORE, "--gold-one-based"],
        Error("g.txt:2", "position 0"),
    ),
    # ---- NAACL labels and columns
    case("bad-label", {G: "1 1 1 Q\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "label 'Q'")),
    case("bad-confidence", {G: "1 1 1 S x\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "confidence")),
    case("two-columns", {G: "1 1 1 S\n1 2\n", H: "0-0\n"}, SCORE, Error("g.txt:2", "2 fields")),
    case("six-columns", {G: "1 1 1 S\n1 1 1 S 1 x\n", H: "0-0\n"}, SCORE, Error("g.txt:2", "6")),
    case("id-zero", {G: "0 1 1 S\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "sentence id 0")),
    case("id-not-number", {G: "1 1 1 S\nx 1 1 S\n", H: "0-0\n"}, SCORE, Error("g.txt:2", "'x'")),
    # ---- mixed or unknown formats
    case(
        "naacl-then-pharaoh", {G: "1 1 1 S\n0-0\n", H: "0-0\n"}, SCORE, Error("g.txt:2", "Pharaoh")
    ),
    case(
        "pharaoh-then-naacl",
        {G: "0-0\n1 2 3 S\n", H: "0-0\n0-0\n"},
        SCORE,
        Error("g.txt:2", "NAACL"),
    ),
    case("undetectable", {G: "<xml/>\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "cannot tell")),
    case("megabyte-line", {G: "x" * 1_000_000, H: "0-0\n"}, SCORE, Error("g.txt:1", "cannot tell")),
    case(
        "u2028-is-not-a-separator", {G: "0-0\u20281-1\n", H: "0-0\n"}, SCORE, Error("g.txt:1", "")
    ),
    case(
        "lone-cr-is-not-a-line-end", {G: "0-0\r1-1\r", H: "0-0\n0-0\n"}, SCORE, Error("g.txt:1", "")
    ),
    # ---- bytes and files
    case("latin-1", {G: b"0-0\n1-1\n0-0 \xe9\n", H: "0-0\n"}, SCORE, Error("g.txt:3", "not UTF-8")),
    case("nul-byte", {G: b"0-0\n0-\x001\n", H: "0-0\n"}, SCORE, Error("g.txt:2", "NUL")),
    case("utf-16", {G: "0-0\n".encode("utf-16"), H: "0-0\n"}, SCORE, Error("g.txt:1", "NUL")),
    case("folder-gold", {G: FOLDER, H: "0-0\n"}, SCORE, Error("g.txt", "is a folder")),
    case("folder-hyp", {G: "0-0\n", H: FOLDER}, SCORE, Error("h.txt", "is a folder")),
    case(
        "folder-text",
        {G: "0-0\n", H: "0-0\n", "b.txt": FOLDER},
        [*SCORE, "--text", "b.txt"],
        Error("b.txt", "is a folder"),
    ),
    case("empty-gold", {G: "", H: "0-0\n"}, SCORE, Error("g.txt", "empty file")),
    case("bom-only-hyp", {G: "0-0\n", H: "\ufeff"}, SCORE, Error("h.txt", "empty file")),
    case("missing", {H: "0-0\n"}, SCORE, Error("g.txt", "file not found")),
    case(
        "bad-bitext",
        {G: "0-0\n", H: "0-0\n", "b.txt": "a b\n"},
        [*SCORE, "--text", "b.txt"],
        Error("b.txt:1", "'|||'"),
    ),
    # ---- sentence counts and ids
    case("hyp-short", {G: "0-0\n0-0\n", H: "0-0\n"}, SCORE, Error("h.txt:2", "ends after 1")),
    case("gold-short", {G: "0-0\n", H: "0-0\n\n\n"}, SCORE, Error("g.txt:2", "ends after 1")),
    case(
        "text-count",
        {G: "0-0\n0-0\n", H: "0-0\n0-0\n", "b.txt": "a ||| b\nc ||| d\ne ||| f\n"},
        [*SCORE, "--text", "b.txt"],
        Error("g.txt:3", "2 sentences, but 3 sentence lengths"),
    ),
    case(
        "hyp-id-not-in-gold", {G: "1\t0-0\n2\t1-1\n", H: "3\t0-0\n"}, SCORE, Error("h.txt:1", "'3'")
    ),
    case("duplicate-id", {G: "1\t0-0\n", H: "1\t0-0\n1\t1-1\n"}, SCORE, Error("h.txt:2", "line 1")),
    case(
        "duplicate-padded-id", {G: "7\t0-0\n", H: "7\t0-0\n007\t1\n"}, SCORE, Error("h.txt:2", "")
    ),
    case("line-without-id", {G: "1\t0-0\n0-0\n", H: "0-0\n0-0\n"}, SCORE, Error("g.txt:2", "id")),
    case("empty-line-in-ids", {G: "1\t0-0\n\n2\t\n", H: "0-0\n"}, SCORE, Error("g.txt:2", "empty")),
    case("late-id", {G: "0-0\n5\t1-1\n", H: "0-0\n0-0\n"}, SCORE, Error("g.txt:2", "has none")),
    case(
        "naacl-hyp-id-not-in-gold",
        {G: "1 1 1 S\n2 1 1 S\n", H: "1 1 1\n9 1 1\n"},
        SCORE,
        Error("h.txt:2", "'9' is not in g.txt"),
    ),
    case(
        "mixing-wpt-ids",
        {G: "26 1 1\n27 1 1\n29 1 1\n", H: "0-0\n0-0\n0-0\n"},
        SCORE,
        Error("g.txt:1", "not 1..3 in order"),
    ),
    case(
        "mixing-gap",
        {G: "1 1 1\n2 1 1\n4 1 1\n", H: "0-0\n0-0\n0-0\n"},
        SCORE,
        Error("g.txt:3", "not 1..3 in order"),
    ),
    case(
        "line-id-beyond",
        {G: "1 1 1\n5 1 1\n", H: "0-0\n0-0\n0-0\n"},
        [*SCORE, "--match", "line"],
        Error("g.txt:2", "not a line of h.txt, which has 3"),
    ),
    case(
        "line-id-not-a-number",
        {G: "s1\t0-0\n", H: "0-0\n"},
        [*SCORE, "--match", "line"],
        Error("g.txt:1", "not a line number"),
    ),
    case(
        "position-count",
        {G: "26 1 1\n27 1 1\n", H: "0-0\n0-0\n0-0\n"},
        [*SCORE, "--match", "position"],
        Error("g.txt", "2 sentences, but h.txt has 3"),
    ),
    # ---- symmetrize
    case(
        "sym-bad-token",
        {"f.txt": "0-0\n", "r.txt": "0-x\n"},
        ["symmetrize", "f.txt", "r.txt", "-o", "out.txt"],
        Error("r.txt:1", "'0-x'"),
    ),
    case(
        "sym-out-folder",
        {"f.txt": "0-0\n", "r.txt": "0-0\n", "out.txt": FOLDER},
        ["symmetrize", "f.txt", "r.txt", "-o", "out.txt"],
        Error("out.txt", "is a folder"),
    ),
    case(
        "sym-out-no-such-folder",
        {"f.txt": "0-0\n", "r.txt": "0-0\n"},
        ["symmetrize", "f.txt", "r.txt", "-o", "nowhere/out.txt"],
        Error("nowhere/out.txt", "folder does not exist"),
    ),
    case(
        "sym-count",
        {"f.txt": "0-0\n0-0\n", "r.txt": "0-0\n"},
        ["symmetrize", "f.txt", "r.txt", "-o", "out.txt"],
        Error("r.txt:2", "ends after 1"),
    ),
    case(
        "sym-rev-id-not-in-fwd",
        {"f.txt": "a\t0-0\n", "r.txt": "b\t0-0\n"},
        ["symmetrize", "f.txt", "r.txt", "-o", "out.txt"],
        Error("r.txt:1", "'b' is not in f.txt"),
    ),
    case(
        "sym-mixing",
        {"f.txt": "5 1 1\n", "r.txt": "0-0\n"},
        ["symmetrize", "f.txt", "r.txt", "-o", "out.txt"],
        Error("f.txt:1", "not 1..1"),
    ),
    case(
        "sym-folder-input",
        {"f.txt": FOLDER, "r.txt": "0-0\n"},
        ["symmetrize", "f.txt", "r.txt", "-o", "out.txt"],
        Error("f.txt", "is a folder"),
    ),
]

# analyze --gold reads the corpus and the gold before it loads the model (m.pt need not exist)
CORPUS = {"s.txt": "a b\nc\n", "t.txt": "x y\nz\n"}
ANALYZE = ["analyze", "m.pt", "--src", "s.txt", "--tgt", "t.txt", "--out", "rep", "--gold", G]
ERRORS += [
    case("analyze-bad-token", {**CORPUS, G: "0-0\n0-x\n"}, ANALYZE, Error("g.txt:2", "'0-x'")),
    case("analyze-outside", {**CORPUS, G: "0-0 1-1\n0-1\n"}, ANALYZE, Error("g.txt:2", "outside")),
    case("analyze-folder", {**CORPUS, G: FOLDER}, ANALYZE, Error("g.txt", "is a folder")),
    case("analyze-wpt-ids", {**CORPUS, G: "2 1 1 S\n"}, ANALYZE, Error("g.txt:1", "not 1..2")),
    case("analyze-empty-gold", {**CORPUS, G: ""}, ANALYZE, Error("g.txt", "empty file")),
    case("analyze-count", {**CORPUS, G: "0-0\n"}, ANALYZE, Error("g.txt:2", "1 sentences, but 2")),
    case("analyze-latin-1", {**CORPUS, G: b"0-0\n\xe9\n"}, ANALYZE, Error("g.txt:2", "UTF-8")),
    case(
        "analyze-empty-corpus",
        {"s.txt": "", "t.txt": "x\n", G: "0-0\n"},
        ANALYZE,
        Error("s.txt", "empty file"),
    ),
]

OK = [
    case(
        "crlf-and-lf",
        {G: "0-0 1-1\r\n1-2\n", H: "0-0\r\n1-2 2-2\n"},
        SCORE,
        Scored(3, 3, 3, 2, 2, 2),
    ),
    case(
        "bom-no-final-newline-trailing-space",
        {G: "\ufeff0-0 1-1  \t\n1-2", H: "0-0\t\n1-2 "},
        SCORE,
        Scored(2, 3, 3, 2, 2, 2),
    ),
    case("duplicate-links", {G: "0-0 0-0 1-1\n", H: "0-0 0-0\n"}, SCORE, Scored(1, 2, 2, 1, 1, 1)),
    case(
        "tab-separated-links", {G: "0-0\t1-1\n", H: "1-1\t0-0\n"}, SCORE, Scored(2, 2, 2, 2, 2, 1)
    ),
    case("sure-wins", {G: "0-0 0p0 1p1\n", H: "0-0 1-1\n"}, SCORE, Scored(2, 1, 2, 1, 2, 1)),
    case("possible-in-hyp", {G: "0-0 1-1\n", H: "0p0 1?1 2p2\n"}, SCORE, Scored(3, 2, 2, 2, 2, 1)),
    # by id: a {0-0} hit; b {1-1, 0-1} vs {1-1}; c {} vs {0-0}. By position only 1 sure hit.
    case(
        "ids-shuffled",
        {G: "a\t0-0\nb\t1-1 0-1\nc\t\n", H: "c\t0-0\na\t0-0\nb\t1-1\n"},
        SCORE,
        Scored(3, 3, 3, 2, 2, 3),
    ),
    case(
        "gold-ids-missing-from-hyp",
        {G: "1\t0-0\n2\t0-0\n3\t0-0\n", H: "02\t0-0\n"},
        SCORE,
        Scored(1, 3, 3, 1, 1, 3, warnings=1),
    ),
    # ids 26, 27, 29 are three sentences (not 29); sure: 26 {0-0}, 27 {0-0}, 29 {0-1}
    case(
        "naacl-sparse-padded-ids",
        {G: "0026 1 1 S\n0027 1 1 S\n0027 2 2 P\n0029 1 2 S\n"},
        ["score", G, G, "--json"],
        Scored(4, 3, 4, 3, 4, 3),
    ),
    case(
        "naacl-huge-id",
        {G: "99999999999999999999999 1 1 S\n"},
        ["score", G, G, "--json"],
        Scored(1, 1, 1, 1, 1, 1),
    ),
    case(
        "naacl-ids-1-to-n",
        {G: "1 1 1 S\n2 1 1 S\n3 2 2 P\n", H: "0-0\n0-0\n1-1\n"},
        SCORE,
        Scored(3, 2, 3, 2, 3, 3),
    ),
    case(
        "naacl-ids-as-lines",
        {G: "1 1 1 S\n3 1 1 S\n", H: "0-0\n0-0\n0-0\n"},
        [*SCORE, "--match", "line"],
        Scored(3, 2, 2, 2, 2, 3, warnings=1),
    ),
    # S = {0-0, 2-2} (s), P adds 1-1 (p + confidence); '1 3 3 0.9' is sure
    case(
        "naacl-labels-confidences",
        {G: "1 1 1 s\n1 2 2 p 0.5\n1 3 3 0.9\n", H: "0-0 1-1\n"},
        SCORE,
        Scored(2, 2, 3, 1, 2, 1),
    ),
    case(
        "naacl-null-dropped", {G: "1 0 1 S\n1 1 1 S\n", H: "0-0\n"}, SCORE, Scored(1, 1, 1, 1, 1, 1)
    ),
    case("naacl-tabs-crlf", {G: "1\t1\t1\tS\r\n", H: "0-0\n"}, SCORE, Scored(1, 1, 1, 1, 1, 1)),
    case(
        "largest-index",
        {G: "2147483647-0\n", H: "2147483647-0 0-0\n"},
        SCORE,
        Scored(2, 1, 1, 1, 1, 1),
    ),
    case(
        "empty-hyp",
        {G: "0-0\n1-1\n", H: "\n\n"},
        SCORE,
        Scored(
            0,
            2,
            2,
            0,
            0,
            2,
            warnings=1,
            scores={"precision": None, "recall": 0.0, "aer": 1.0, "f1": None},
        ),
    ),
    case(
        "no-sure-gold",
        {G: "0p0\n", H: "0-0\n"},
        SCORE,
        Scored(
            1,
            0,
            1,
            0,
            1,
            1,
            warnings=1,
            scores={"precision": 1.0, "recall": None, "aer": 0.0, "f1": None},
        ),
    ),
    case(
        "both-empty",
        {G: "\n", H: "\n"},
        SCORE,
        Scored(
            0,
            0,
            0,
            0,
            0,
            1,
            warnings=1,
            scores={"precision": None, "recall": None, "aer": None, "f1": None},
        ),
    ),
    # U+2028 inside a bitext line does not end it: two sentences, not three
    case(
        "u2028-in-text",
        {G: "1-0\n0-0\n", H: "1-0\n0-0\n", "b.txt": "a\u2028b ||| c\nd ||| e\n"},
        [*SCORE, "--text", "b.txt"],
        Scored(2, 2, 2, 2, 2, 2),
    ),
    # 1-based gold read 0-based: gold {1-1, 2-2} {1-1} {2-1} vs {0-0, 1-1} {0-0} {1-0}
    case(
        "one-based-gold-hint",
        {G: "1-1 2-2\n1-1\n2-1\n", H: "0-0 1-1\n0-0\n1-0\n"},
        SCORE,
        Scored(4, 4, 4, 1, 1, 3, warnings=1),
    ),
    case(
        "one-based-gold-told",
        {G: "1-1 2-2\n1-1\n2-1\n", H: "0-0 1-1\n0-0\n1-0\n"},
        [*SCORE, "--gold-one-based"],
        Scored(4, 4, 4, 4, 4, 3),
    ),
    case(
        "reverse-gold",
        {G: "1-0\n", H: "0-1 1-1\n"},
        [*SCORE, "--reverse-gold"],
        Scored(2, 1, 1, 1, 1, 1),
    ),
    case(
        "sym-possible-ignored",
        {"f.txt": "0-0 1p1\n", "r.txt": "0-0 1-1\n"},
        ["symmetrize", "f.txt", "r.txt", "-m", "union", "-o", "out.txt"],
        Written("0-0 1-1\n", warnings=1),
    ),
    case(
        "sym-by-id",
        {"f.txt": "b\t0-0\na\t1-1\n", "r.txt": "a\t1-1\n"},
        ["symmetrize", "f.txt", "r.txt", "-m", "union", "-o", "out.txt"],
        Written("b\t0-0\na\t1-1\n", warnings=1),
    ),
    case(
        "sym-crlf-bom",
        {"f.txt": "\ufeff0-0\r\n0-1\r\n", "r.txt": "0-0\n1-0"},
        ["symmetrize", "f.txt", "r.txt", "-m", "intersection", "-o", "out.txt"],
        Written("0-0\n\n"),
    ),
]


def snapshot(root: Path) -> dict:
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def invoke(tmp_path, monkeypatch, files, args):
    for name, content in files.items():
        path = tmp_path / name
        if content is FOLDER:
            path.mkdir()
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, args)
    return result, before, snapshot(tmp_path)


def test_the_table_is_large_enough():
    assert len(ERRORS) + len(OK) >= 40


@pytest.mark.parametrize("files, args, expect", ERRORS)
def test_malformed_input_is_one_line_exit_2_nothing_written(
    tmp_path, monkeypatch, files, args, expect
):
    r, before, after = invoke(tmp_path, monkeypatch, files, args)
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.endswith("\n"), r.stderr
    assert r.stderr.startswith(f"attnprobe: error: {expect.where}: "), r.stderr
    assert expect.text in r.stderr
    assert len(r.stderr) < 400 and "Traceback" not in r.stderr
    assert after == before  # nothing written


@pytest.mark.parametrize("files, args, expect", OK)
def test_odd_but_well_formed_input_is_scored_exactly(tmp_path, monkeypatch, files, args, expect):
    r, before, after = invoke(tmp_path, monkeypatch, files, args)
    assert r.exit_code == 0, r.output
    notes = r.stderr.splitlines()
    if isinstance(expect, Written):
        assert (tmp_path / "out.txt").read_text() == expect.text
        assert len(notes) == expect.warnings + 1 and notes[-1].endswith("-> out.txt")
    else:
        assert after == before
        d = json.loads(r.stdout)
        counts = ("links", "sure", "possible", "hits_sure", "hits_possible", "sentences")
        assert tuple(d[k] for k in counts) == tuple(getattr(expect, k) for k in counts)
        for name, value in expect.scores.items():
            assert d[name] == (None if value is None else pytest.approx(value)), name
        assert len(notes) == expect.warnings
    assert all(n.startswith("attnprobe: warning: ") for n in notes[: expect.warnings]), notes


def test_analyze_reads_a_naacl_gold_numbered_like_the_corpus(tmp_path):
    from attnprobe.cli.options import _read_data

    (tmp_path / "s.txt").write_text("a b\u2028c\nd\n")  # U+2028 stays inside the line
    (tmp_path / "t.txt").write_text("x\ny z\n")
    (tmp_path / "g.wa").write_text("0001 3 1 P\r\n2 1 2 S\r\n")  # ids 1..N: no doubt
    corpus, gold = _read_data(
        str(tmp_path / "s.txt"), str(tmp_path / "t.txt"), None, str(tmp_path / "g.wa"), None, False
    )
    assert len(corpus) == 2 and corpus.src[0] == ["a", "b", "c"]
    assert [sorted(a.possible) for a in gold] == [[(2, 0)], [(0, 1)]]
    assert gold[0].sure == frozenset() and gold[1].sure == {(0, 1)}

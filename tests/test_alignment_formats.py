"""The text line reader and the alignment file formats: line rules and round trips."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnprobe.alignment import (
    MAX_INDEX,
    Alignment,
    LinkTable,
    read_alignments,
    read_link_table,
    read_text_lines,
    write_naacl,
    write_pharaoh,
)
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError

A = Alignment.from_links


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


# --------------------------------------------------------------------------- lines


@pytest.mark.parametrize(
    "content, lines",
    [
        ("a\nb\n", ["a", "b"]),
        ("a\nb", ["a", "b"]),  # no final newline
        ("a\r\nb\nc\r\n", ["a", "b", "c"]),  # mixed line ends
        ("\ufeffa\n", ["a"]),  # BOM
        ("\n", [""]),
        ("a\n\n", ["a", ""]),
        ("a\u2028b\u2029c\x85d\n", ["a\u2028b\u2029c\x85d"]),  # not line ends
        ("a\rb\r\n", ["a\rb"]),  # a lone CR is not a line end either
        ("a \t\n", ["a \t"]),  # trailing whitespace is kept for the parsers
    ],
)
def test_lines_end_at_newline_only(tmp_path, content, lines):
    assert read_text_lines(write(tmp_path, "t.txt", content)) == lines


@pytest.mark.parametrize(
    "content, message",
    [
        (b"ok\nok\ncaf\xe9\n", r"t\.txt:3: not UTF-8 text \(byte 0xe9\)"),
        (b"ok\n\x00\n", r"t\.txt:2: NUL byte"),
        (b"", r"t\.txt: empty file"),
        (b"\xef\xbb\xbf", r"t\.txt: empty file"),
    ],
)
def test_unreadable_text_names_file_and_line(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        read_text_lines(write(tmp_path, "t.txt", content))


def test_folders_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="is a folder, not a file"):
        read_text_lines(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        read_text_lines(tmp_path / "nope")
    assert read_text_lines(write(tmp_path, "e.txt", ""), allow_empty=True) == []


def test_corpus_reader_keeps_u2028_inside_its_line(tmp_path):
    # splitlines() made this 3-line corpus 4 sentence pairs
    src = write(tmp_path, "s.txt", "a\u2028b\nc\nd\n")
    tgt = write(tmp_path, "t.txt", "x\ny\nz\n")
    corpus = ParallelCorpus.read(src, tgt)
    assert len(corpus) == 3 and corpus.src[0] == ["a", "b"]  # U+2028 is still whitespace
    with pytest.raises(InputError, match=r"e\.txt: empty file"):
        ParallelCorpus.read(write(tmp_path, "e.txt", ""), tgt)


# --------------------------------------------------------------------------- ids


def test_pharaoh_ids_are_canonical_and_distinct(tmp_path):
    t = read_link_table(write(tmp_path, "g.txt", "0007\t0-0\ns-1\t\n0\t1-1\n"))
    assert t.ids == ("7", "s-1", "0") and len(t) == 3
    with pytest.raises(InputError, match=r"g\.txt:2: sentence id '7' was already used on line 1"):
        read_link_table(write(tmp_path, "g.txt", "7\t0-0\n07\t1-1\n"))


def test_naacl_sentences_are_the_ids_that_occur(tmp_path):
    # ids 26, 27, 29 (the WPT 2005 English-Hindi layout): three sentences, in file order
    path = write(tmp_path, "g.wa", "29 1 1\r\n26 1 1\r\n26 2 2\r\n27 3 1\r\n29 2 2\r\n")
    t = read_link_table(path)
    assert t.ids == ("29", "26", "27")
    assert t.to_alignments() == [A([(0, 0), (1, 1)]), A([(0, 0), (1, 1)]), A([(2, 0)])]


def test_a_sentence_with_only_null_links_is_still_a_sentence(tmp_path):
    t = read_link_table(write(tmp_path, "g.wa", "1 1 1 S\n2 0 1 S\n"))
    assert t.ids == ("1", "2") and t.to_alignments() == [A([(0, 0)]), A([])]


def test_largest_index_is_accepted_and_one_more_is_not(tmp_path):
    t = read_link_table(write(tmp_path, "g.txt", f"{MAX_INDEX}-0\n"))
    assert t[0].sure == {(MAX_INDEX, 0)}
    with pytest.raises(InputError, match=rf"g\.txt:1: link '{MAX_INDEX + 1}-0': index .* beyond"):
        read_link_table(write(tmp_path, "g.txt", f"{MAX_INDEX + 1}-0\n"))
    with pytest.raises(InputError, match="must not exceed"):
        LinkTable.from_links([0], [MAX_INDEX + 1], [0], n_sentences=1)
    with pytest.raises(InputError, match="must not exceed"):
        A([(0, MAX_INDEX + 1)])


def test_leading_zeros_do_not_make_an_index_huge(tmp_path):
    t = read_link_table(write(tmp_path, "g.txt", f"{'0' * 5000}1-{'0' * 20}2\n"))
    assert t[0].sure == {(1, 2)}


def test_writers_check_ids(tmp_path):
    with pytest.raises(InputError, match="cannot start a Pharaoh line"):
        write_pharaoh(tmp_path / "a.txt", [A([])], ids=["a b"])
    with pytest.raises(InputError, match="cannot start a Pharaoh line"):
        write_pharaoh(tmp_path / "a.txt", [A([])], ids=["1-2"])  # it would read as a link
    with pytest.raises(InputError, match="NAACL sentence ids are positive integers"):
        write_naacl(tmp_path / "a.wa", [A([(0, 0)])], ids=["s1"])
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "a.wa").exists()


# --------------------------------------------------------------------------- round trips

links = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=8)
alignments = st.builds(lambda s, p: A(s, p), links, links)
FORMATS = ["pharaoh-p", "pharaoh-?", "pharaoh-ids", "pharaoh-reversed", "naacl", "naacl-ids"]


@settings(max_examples=60, deadline=None)
@given(st.lists(alignments, min_size=1, max_size=6), st.sampled_from(FORMATS), st.randoms())
def test_every_format_reads_back_what_was_written(tmp_path_factory, corpus, kind, rnd):
    path = tmp_path_factory.mktemp("rt") / "a.txt"
    if kind in ("pharaoh-p", "pharaoh-?"):
        write_pharaoh(path, corpus, possible_mark=kind[-1])
        assert read_alignments(path) == corpus
    elif kind == "pharaoh-ids":
        ids = [f"s{k}" for k in rnd.sample(range(100), len(corpus))]
        write_pharaoh(path, corpus, ids=ids)
        table = read_link_table(path)
        assert table.ids == tuple(ids) and table.to_alignments() == corpus
    elif kind == "pharaoh-reversed":  # a target-source file, read with reverse=True
        write_pharaoh(path, [a.reversed() for a in corpus])
        assert read_alignments(path, reverse=True) == corpus
    elif kind == "naacl":  # ids 1..N; sentences without links have no line
        write_naacl(path, corpus)
        got = read_alignments(
            path, format="naacl", n_sentences=len(corpus), match="line", warnings=[]
        )
        assert got == corpus
    else:  # sparse ids: the sentences read back are those that have links
        ids = [str(k) for k in rnd.sample(range(1, 10**6), len(corpus))]
        write_naacl(path, corpus, ids=ids)
        kept = [(i, a) for i, a in zip(ids, corpus, strict=True) if a.possible]
        if kept:
            table = read_link_table(path)
            assert table.ids == tuple(i for i, _ in kept)
            assert table.to_alignments() == [a for _, a in kept]
        else:
            assert path.read_bytes() == b""


def test_an_empty_corpus_cannot_be_a_pharaoh_file(tmp_path):
    write_pharaoh(tmp_path / "a.txt", [])
    with pytest.raises(InputError, match="empty file"):
        read_alignments(tmp_path / "a.txt")


@settings(max_examples=40, deadline=None)
@given(st.lists(alignments, max_size=6), st.lists(st.integers(-1, 5), max_size=8))
def test_select_picks_rows_and_fills_empty_ones(corpus, rows):
    table = LinkTable.from_alignments(corpus)
    rows = [r for r in rows if r < len(corpus)]
    got = table._select(rows).to_alignments()
    assert got == [corpus[r] if r >= 0 else A([]) for r in rows]


def test_shuffled_lines_keep_their_ids(tmp_path):
    corpus = [A([(k, 0)]) for k in range(5)]
    lines = [f"{k}\t{k}-0\n" for k in range(5)]
    random.Random(3).shuffle(lines)
    table = read_link_table(write(tmp_path, "g.txt", "".join(lines)))
    by_id = dict(zip(table.ids, table.to_alignments(), strict=True))
    assert [by_id[str(k)] for k in range(5)] == corpus


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=30))
def test_format_links_writes_the_line_format_pharaoh_writes(pairs):
    from attnprobe.alignment import Alignment
    from attnprobe.alignment.formats import format_links, format_pharaoh

    assert format_links([list(p) for p in pairs]) == format_pharaoh(Alignment.from_links(pairs))


def test_format_links_by_hand():
    from attnprobe.alignment.formats import format_links

    # sorted by target word, then source word: (2,0) (0,1) (1,1) (0,3)
    assert format_links([[0, 3], [1, 1], [2, 0], [0, 1]]) == "2-0 0-1 1-1 0-3"

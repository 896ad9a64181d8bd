"""Vocabularies, corpus reading and batching."""

from __future__ import annotations

import random

import pytest

from attnprobe.data import ParallelCorpus, Vocab, bucket_batches, make_batch
from attnprobe.errors import InputError


def test_vocab_orders_by_frequency_then_alphabet_and_maps_unknowns():
    v = Vocab.build([["b", "c", "b"], ["a", "c", "b"]])
    assert v.tokens[4:] == ["b", "c", "a"]
    assert v.encode(["a", "nope"]) == [6, 1]
    assert Vocab.build([["a", "b", "b"]], min_freq=2).tokens[4:] == ["b"]
    with pytest.raises(InputError, match="has no pad token '<pad>'"):
        Vocab(["a", "b"])


def test_vocab_keeps_the_model_s_own_ids_and_finds_specials_by_name():
    v = Vocab(["x", "</s>", "<blank>", "y", "<u>", "<go>"], pad="<blank>", unk="<u>", bos="<go>")
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (2, 4, 5, 1)
    assert v.encode(["y", "x", "zz"]) == [3, 0, 4]
    assert v.decode([5, 3, 2, 0, 1, 3]) == ["y", "x"]  # BOS and PAD dropped, stops at EOS
    with pytest.raises(InputError, match="bos token '<s>'"):
        Vocab(["</s>", "<pad>", "<unk>"])


def test_batch_layout_follows_the_conventions():
    v = Vocab.build([["a", "b"]])
    b = make_batch([["a", "b"]], [["b", "a", "b"]], v, v)
    assert b.src.tolist() == [[4, 5, 3]]  # words then EOS
    assert b.tgt_in.tolist() == [[2, 5, 4, 5]]  # BOS then words
    assert b.tgt_out.tolist() == [[5, 4, 5, 3]]  # words then EOS
    assert b.tgt_lens.tolist() == [4]


def test_bucketing_covers_every_index_once_and_is_seeded():
    lengths = [random.Random(0).randint(1, 60) for _ in range(103)]
    a = list(bucket_batches(lengths, 10, random.Random(1)))
    assert sorted(i for batch in a for i in batch) == list(range(103))
    assert a == list(bucket_batches(lengths, 10, random.Random(1)))
    assert a != list(bucket_batches(lengths, 10, random.Random(2)))
    spread = max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in a)
    assert spread <= 10  # sorted by length: a batch spans a narrow band


def test_reading_reports_file_and_line(tmp_path):
    (tmp_path / "a.src").write_text("a b\n\nc\n")
    (tmp_path / "a.tgt").write_text("x\ny\nz\n")
    with pytest.raises(InputError, match=r"a\.src:2: empty sentence"):
        ParallelCorpus.read(tmp_path / "a.src", tmp_path / "a.tgt")
    (tmp_path / "b.tgt").write_text("x\n")
    with pytest.raises(InputError, match=r"b\.tgt: 1 lines, but the source file"):
        ParallelCorpus.read(tmp_path / "a.src", tmp_path / "b.tgt")
    (tmp_path / "bi.txt").write_text("a b ||| x\nno separator\n")
    with pytest.raises(InputError, match=r"bi\.txt:2: expected 'source tokens \|\|\| target"):
        ParallelCorpus.read_bitext(tmp_path / "bi.txt")
    (tmp_path / "latin1.txt").write_bytes("ok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.txt:2: not UTF-8"):
        ParallelCorpus.read(tmp_path / "latin1.txt", tmp_path / "latin1.txt")

"""Subword (SentencePiece) reference models: pieces in, words out, one mapping to the gold."""

from __future__ import annotations

import sys

import pytest
import torch
from click.testing import CliRunner

from attnprobe.alignment import Alignment
from attnprobe.alignment.subwords import word_ids
from attnprobe.cli.main import cli
from attnprobe.data import ParallelCorpus
from attnprobe.errors import CheckpointError, InputError
from attnprobe.models.checkpoint import load, save
from attnprobe.models.reference.rnn import ModelConfig
from attnprobe.models.reference.subwords import Subwords
from attnprobe.models.reference.train import TrainConfig, train

# words built from a few stems and endings, so that pieces are shared between words
STEMS, ENDS = ["walk", "talk", "jump"], ["", "s", "ed", "ing"]
WORDS = [s + e for s in STEMS for e in ENDS]
SRC = [[WORDS[(i + k) % 12] for k in range(n)] for i in range(12) for n in (1, 2, 3)]
DATA = ParallelCorpus(SRC, [list(reversed(s)) for s in SRC])
ARCH = ModelConfig(5, 5, attention="bahdanau", emb_dim=8, enc_dim=8, hidden_dim=16)


@pytest.fixture(scope="module")
def sw():
    return Subwords.train(DATA.src, 20)


@pytest.fixture(scope="module")
def model(sw):
    cfg = TrainConfig(batch_size=12, max_steps=4, eval_every=4, lr=0.01)
    return train(ARCH, DATA, DATA, cfg, progress=False, subwords=(sw, sw)).model


def test_training_is_deterministic(sw):
    assert Subwords.train(DATA.src, 20).proto == sw.proto


def test_words_are_split_into_pieces_that_spell_them(sw):
    for w in WORDS:
        assert "".join(sw.pieces(w)) == "\u2581" + w
    # 20 pieces cannot hold 12 words and their characters whole: some word is split
    assert any(len(sw.pieces(w)) > 1 for w in WORDS)


def test_encode_maps_positions_to_words_as_the_shared_convention_does(model, sw):
    src, tgt = ["walking", "jumps", "talk"], ["talked", "walk"]
    batch = model.encode([src], [tgt])
    pieces = model.token_strings(batch.src[0].tolist(), "src")
    assert pieces[-1] == "</s>"
    # an independent reading of the same pieces: alignment.subwords.word_ids
    assert batch.src_words[0] == word_ids(pieces, "sentencepiece", specials={"</s>"}, words=src)
    out = model.token_strings(batch.tgt_out[0].tolist(), "tgt")
    assert batch.tgt_words[0] == word_ids(out, "sentencepiece", specials={"</s>"}, words=tgt)
    # decoder input: BOS then the same pieces as the output, shifted by one
    assert batch.tgt_in[0, 1:].tolist() == batch.tgt_out[0, :-1].tolist()
    assert int(batch.src_lens[0]) == sum(len(sw.pieces(w)) for w in src) + 1


def test_pieces_are_pooled_to_the_words_of_a_word_level_gold(model):
    import attnprobe

    corpus = ParallelCorpus([["walking", "jumps"]], [["jumps", "walking"]])
    gold = [Alignment.from_links([(0, 1), (1, 0)], src_len=2, tgt_len=2)]
    res = attnprobe.analyze(model, corpus, gold, analyses=["alignment"], progress=False)
    rec = res.sentences[0]
    assert len(model.encode(corpus.src, corpus.tgt).src_words[0]) > 3  # more pieces than words
    # words, not pieces: 2 target words + EOS rows, 2 source words + EOS columns
    assert rec["attention"]["shape"][-2:] == [3, 3]
    links = {tuple(x) for x in rec["links"][f"{model.sites[0].key}/argmax-target"]}
    assert links <= {(i, j) for i in range(2) for j in range(2)}  # word links, in range
    assert 0.0 <= rec["aer"] <= 1.0 and rec["src_len"] == 2


def test_unknown_words_count_words_with_an_unknown_piece(model):
    # training text has no "x", "q" or "é": a word with any of them is unknown, once
    assert model.count_unknown(["walked", "xwalk", "qéq", "talks"], "src") == 2
    assert model.count_unknown(["walk"], "tgt") == 0
    b = model.encode([["xwalk"]], [["walk"]])
    assert b.src[0].tolist().count(model.src_vocab.unk_id) == 1


def test_decode_ids_joins_pieces_into_words(model):
    batch = model.encode([["walk"]], [["jumping", "talks"]])
    assert model.decode_ids(batch.tgt_out[0].tolist()) == ["jumping", "talks"]


def test_checkpoint_carries_the_sentencepiece_models(model, tmp_path):
    save(model, tmp_path / "m.pt")
    again = load(tmp_path / "m.pt")
    assert again.src_subwords.proto == model.src_subwords.proto
    assert again.card()["subwords"]["src"]["kind"] == "sentencepiece"
    a, b = model.encode([["walks"]], [["talked"]]), again.encode([["walks"]], [["talked"]])
    assert torch.equal(a.src, b.src) and a.src_words == b.src_words


def test_without_sentencepiece_one_line_errors_name_the_extra(model, tmp_path, monkeypatch):
    save(model, tmp_path / "m.pt")
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # import fails
    with pytest.raises(CheckpointError) as err:
        load(tmp_path / "m.pt")
    assert str(err.value) == (
        f"{tmp_path / 'm.pt'}: a subword model: subword vocabularies need the sentencepiece "
        "package, which is not installed (fix: pip install 'attnprobe[hf]')"
    )
    (tmp_path / "a").write_text("walk\n")
    r = CliRunner().invoke(
        cli,
        ["train", "--train", *[str(tmp_path / "a")] * 2, "--dev", *[str(tmp_path / "a")] * 2]
        + ["--subwords", "50", "-o", str(tmp_path / "n.pt")],
    )
    assert r.exit_code == 2 and r.stderr == (
        "attnprobe: error: subword vocabularies need the sentencepiece package, which is not "
        "installed (fix: pip install 'attnprobe[hf]')\n"
    )


def test_bad_subword_options(tmp_path):
    with pytest.raises(InputError, match="at least 8 pieces"):
        Subwords.train(DATA.src, 4)
    (tmp_path / "x.model").write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"x.model: not a SentencePiece model"):
        Subwords.read(tmp_path / "x.model")


def test_cli_trains_with_subwords_and_with_a_given_model(sw, tmp_path):
    d = tmp_path
    (d / "t.src").write_text("\n".join(" ".join(s) for s in DATA.src) + "\n")
    (d / "t.tgt").write_text("\n".join(" ".join(s) for s in DATA.tgt) + "\n")
    (d / "sw.model").write_bytes(sw.proto)
    common = ["--train", d / "t.src", d / "t.tgt", "--dev", d / "t.src", d / "t.tgt"]
    common += ["--max-steps", "2", "--emb-dim", "8", "--enc-dim", "8", "--hidden-dim", "16"]

    def run(*args):
        return CliRunner().invoke(cli, [str(a) for a in ["train", *common, *args]])

    r = run("--subwords", "20", "-o", d / "a.pt")
    assert r.exit_code == 0, r.output
    a = load(d / "a.pt")
    assert a.src_subwords.proto == sw.proto  # trained on the same text: the same model
    assert a.meta["data"]["subwords"] == "trained on the training text, <= 20"
    r = run("--spm-model", d / "sw.model", "-o", d / "b.pt")
    assert r.exit_code == 0, r.output
    assert load(d / "b.pt").tgt_subwords.proto == sw.proto
    both = run("--subwords", "20", "--spm-model", d / "sw.model", "-o", d / "c.pt")
    assert both.exit_code == 2 and "either --subwords N or --spm-model FILE" in both.output
    words = run("--subwords", "20", "--min-freq", "2", "-o", d / "c.pt")
    assert words.exit_code == 2 and "shape word vocabularies" in words.output
    shown = CliRunner().invoke(cli, ["translate", str(d / "a.pt"), "walking talks"])
    assert shown.exit_code == 0, shown.output
    assert "walking" in shown.output.splitlines()[0]
    card = CliRunner().invoke(cli, ["inspect", str(d / "a.pt")])
    assert "  src tokens: sentencepiece pieces\n  tgt tokens: sentencepiece pieces" in card.output


@pytest.mark.parametrize(("unknown", "warned"), [(0, False), (1, False), (3, True)])
def test_analyze_warns_from_five_percent_unknown_words(unknown, warned):
    import attnprobe
    from attnprobe.data import Vocab
    from attnprobe.models.reference.rnn import build_model

    v = Vocab.build([WORDS])
    m = build_model(ModelConfig(len(v), len(v), emb_dim=8, enc_dim=8, hidden_dim=16), seed=0)
    m.src_vocab = m.tgt_vocab = v
    # 25 source words: 1 unknown is 4% (quiet), 3 are 12%
    src = [WORDS[:5] for _ in range(5)]
    for k in range(unknown):
        src[k] = ["zzz", *WORDS[1:5]]
    corpus = ParallelCorpus(src, [["walk"]] * 5)
    res = attnprobe.analyze(m, corpus, analyses=["alignment"], progress=False)
    said = [w for w in res.metrics["warnings"] if "unknown to the model" in w]
    assert bool(said) == warned
    if warned:
        assert said[0].startswith("12.0% of the source words (3 of 25) are unknown")
        assert "attnprobe train --subwords" in said[0]


def test_a_subword_run_resumes_with_its_own_pieces(sw, tmp_path):
    def cfg(steps, every=0):
        return TrainConfig(
            batch_size=12, max_steps=steps, eval_every=2, lr=0.01, checkpoint_every=every
        )

    straight = train(ARCH, DATA, DATA, cfg(4), progress=False, subwords=(sw, sw)).model
    train(ARCH, DATA, DATA, cfg(2, 2), progress=False, subwords=(sw, sw), work_dir=tmp_path)
    # resumed without tokenisers: they come from the checkpoint
    resumed = train(ARCH, DATA, DATA, cfg(4), progress=False, work_dir=tmp_path, resume=True).model
    assert resumed.src_subwords.proto == sw.proto
    a, b = resumed.state_dict(), straight.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)

"""Sharded runs: exact merges, every engine the same numbers, resume, failures, leftovers."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnprobe.alignment import Alignment, score_alignments
from attnprobe.analyses.bottleneck import bleu_from_statistics, bleu_statistics, corpus_bleu
from attnprobe.pipeline.alignment import link_counts, scores_of
from attnprobe.pipeline.scale.shards import ShardError, plan_shards
from attnprobe.pipeline.scale.stats import Max, Rows, dumps, loads, merge, merge_all
from attnprobe.pipeline.scale.work_area import work_area_of
from attnprobe.results import Results, report_sample

MODEL = "fixtures/models/enfr-bahdanau.pt"

# ------------------------------------------------------------------ merging


def _sentence_stats(draw_int, draw_float, k):
    """Statistics of one sentence, of every kind a step keeps."""
    return {
        "sentences": 1,
        "counts": np.array([draw_int, draw_int + 1, 2 * draw_int], np.int64),
        "nll": draw_float,
        "worst": Max(draw_float),
        "jumps": {str(draw_int % 3 - 1): 1},
        "by_position": {str(k): [draw_float]},
        "rows": [k],
        "table": Rows(np.array([[k, draw_float]])),
    }


def _close(a, b, path=""):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _close(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), path  # counts: exactly
    elif isinstance(a, Rows):
        assert np.array_equal(a.array, b.array), path
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), path
    else:
        assert a == b, path


@st.composite
def grouped(draw):
    n = draw(st.integers(1, 30))
    ints = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    floats = draw(
        st.lists(st.floats(0, 1e3, allow_nan=False, allow_subnormal=False), min_size=n, max_size=n)
    )
    per = [_sentence_stats(i, f, k) for k, (i, f) in enumerate(zip(ints, floats, strict=True))]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, n - 1)), max_size=n)) - {n})
    bounds = [0, *cuts, n]
    parts = [per[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    seed = draw(st.integers(0, 2**16))
    return per, parts, seed


def _tree_merge(parts: list[dict], rng) -> dict:
    """Merge neighbouring parts in a random grouping until one is left (order kept)."""
    parts = list(parts)
    while len(parts) > 1:
        k = int(rng.integers(len(parts) - 1))
        parts[k : k + 2] = [merge(parts[k], parts[k + 1])]
    return parts[0]


@settings(max_examples=60, deadline=None)
@given(grouped())
def test_merging_shard_statistics_in_any_grouping_equals_the_whole(case):
    per, parts, seed = case
    whole = merge_all(per)
    shards = [merge_all(p) for p in parts]
    merged = _tree_merge(shards, np.random.default_rng(seed))
    _close(merged, whole)
    # by hand: counts and rows
    assert merged["sentences"] == len(per)
    assert merged["rows"] == list(range(len(per)))
    assert merged["table"].array[:, 0].tolist() == list(range(len(per)))
    assert merged["worst"].value == max(p["nll"] for p in per)
    _close(loads(dumps(merged)), merged)  # the shard files keep them exactly


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("abcd"), max_size=7),
            st.lists(st.sampled_from("abcd"), min_size=1, max_size=7),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 12),
)
def test_bleu_of_summed_statistics_is_sacrebleu_corpus_bleu(pairs, cut):
    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    parts = [pairs[:cut], pairs[cut:]]
    summed = sum((bleu_statistics(h, r) for p in parts for h, r in p), np.zeros(10, np.int64))
    assert bleu_from_statistics(summed) == pytest.approx(corpus_bleu(hyps, refs), abs=1e-9)


def test_alignment_counts_of_parts_score_like_the_whole():
    gold = [
        Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)]),
        Alignment.from_links([(0, 1)]),
        Alignment.from_links([]),
    ]
    hyp = [
        Alignment.from_links([(0, 0), (1, 2), (2, 2)]),
        Alignment.from_links([(0, 1), (1, 1)]),
        Alignment.from_links([(0, 0)]),
    ]
    parts = link_counts(score_alignments(gold[:1], hyp[:1])) + link_counts(
        score_alignments(gold[1:], hyp[1:])
    )
    # by hand: |A| = 3 + 2 + 1 = 6, |S| = 2 + 1 = 3, |P| = 3 + 1 = 4, |A&S| = 1 + 1,
    # |A&P| = 2 + 1 -> AER = 1 - (2 + 3) / (6 + 3) = 4/9
    assert parts.tolist() == [6, 3, 4, 2, 3, 3]
    assert scores_of(parts).aer == pytest.approx(4 / 9)
    assert scores_of(parts) == score_alignments(gold, hyp)


def test_shards_hold_whole_length_sorted_batches_with_stable_ids():
    lengths = [5, 1, 4, 2, 3, 6, 1]
    # batches by length: (1, 6) 2 words, (3, 4) 5, (2, 0) 9, (5,) 6 -- 2, 2, 2, 1 sentences.
    # shard size 4: at most 4 sentences and 4 x 22 / 7 = 12.57 source words a shard
    shards = plan_shards(lengths, 2, 4, "key")
    assert [s.batches for s in shards] == [((1, 6), (3, 4)), ((2, 0),), ((5,),)]
    assert [s.first_batch for s in shards] == [0, 2, 3]
    assert [s.id for s in shards] == [s.id for s in plan_shards(lengths, 2, 4, "key")]
    assert {s.id for s in shards}.isdisjoint(s.id for s in plan_shards(lengths, 2, 4, "other"))
    assert [s.batches for s in plan_shards(lengths, 2, None, "key")] == [
        ((1, 6), (3, 4), (2, 0), (5,))
    ]
    # the last two shards of a run in pieces of whole batches. Lengths 1..14, batches of
    # one, shard size 5: at most 5 sentences and 5 x 105 / 14 = 37.5 words a shard, so
    # (1..5) 5 sentences, (6..9) 30 words (+10: 40), (10..12) 33 (+13: 46), (13, 14) 27;
    # the last two are cut into single batches (at most 4 pieces each)
    shards = plan_shards(list(range(1, 15)), 1, 5, "key")
    assert [[p + 1 for p in s.positions] for s in shards] == [
        [1, 2, 3, 4, 5],
        [6, 7, 8, 9],
        [10],
        [11],
        [12],
        [13],
        [14],
    ]
    lengths = [5, 1, 4, 2, 3, 6, 1]
    # shard size 3: 9.43 words, and (1, 6) + (3, 4) would be 4 sentences (7 words only)
    assert [s.batches for s in plan_shards(lengths, 2, 3, "key")] == [
        ((1, 6),),
        ((3, 4),),
        ((2, 0),),
        ((5,),),
    ]


def test_the_report_shows_a_bounded_even_sample(tmp_path, monkeypatch):
    assert report_sample(5, size=3) == [0, 2, 4]
    assert report_sample(3, size=3) == [0, 1, 2]
    d = tmp_path / "run"
    d.mkdir()
    (d / "metrics.json").write_text(json.dumps({"corpus": {"analysed": 7}}))
    (d / "sentences.jsonl").write_text("".join(f'{{"index":{k}}}\n' for k in range(7)))
    monkeypatch.setattr("attnprobe.results.REPORT_SENTENCES", 3)
    r = Results.from_json(d, sample=True)
    assert [s["index"] for s in r.sentences] == [0, 3, 6]
    assert r.n_sentences == 7 and r.metrics["explorer"] == {"shown": 3, "of": 7}
    assert len(Results.from_json(d).sentences) == 7


def test_leftovers_of_a_killed_writer_are_removed(tmp_path):
    dead = tmp_path / ".out.999999999.abcd.tmp"  # no such process
    dead.mkdir()
    (dead / "metrics.json").write_text("{}")
    mine = tmp_path / f".out.{os.getpid()}.efgh.tmp"  # a live writer's: kept
    mine.mkdir()
    Results({}, []).save(tmp_path / "out", figures=False)
    assert not dead.exists() and mine.exists() and (tmp_path / "out" / "report.html").is_file()


# ------------------------------------------------------------------ engines


def _run(tmp_path, name, **kw):
    from attnprobe.pipeline.driver import analyze

    out = tmp_path / name
    analyze(
        MODEL,
        limit=kw.pop("limit", 90),
        batch_size=16,
        progress=False,
        out=out,
        figures=False,
        analyses=kw.pop("analyses", ["alignment", "quality", "patterns"]),
        **kw,
    )
    return out


def _same_output(a, b):
    ma = json.loads((a / "metrics.json").read_text())
    mb = json.loads((b / "metrics.json").read_text())
    _close_json(ma, mb)
    files = sorted(p.name for p in (a / "alignments").iterdir())
    assert files == sorted(p.name for p in (b / "alignments").iterdir()) and files
    for name in files:
        assert (a / "alignments" / name).read_bytes() == (b / "alignments" / name).read_bytes()
    sa = [json.loads(x) for x in (a / "sentences.jsonl").read_text().splitlines()]
    sb = [json.loads(x) for x in (b / "sentences.jsonl").read_text().splitlines()]
    _close_json(sa, sb)


def _close_json(a, b, path=""):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _close_json(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _close_json(x, y, f"{path}[{k}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (a != a and b != b), path
    else:
        assert a == b, path  # counts, links, tokens: exactly


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """One shard, in this process: today's run."""
    return _run(tmp_path_factory.mktemp("whole"), "whole", shard_size=10**6)


@pytest.mark.slow
def test_shard_size_does_not_change_the_results(whole, tmp_path):
    _same_output(whole, _run(tmp_path, "small", shard_size=20))


@pytest.mark.slow
def test_two_local_workers_give_the_same_results(whole, tmp_path):
    _same_output(whole, _run(tmp_path, "local", shard_size=32, workers=2))


@pytest.mark.slow
def test_ray_gives_the_same_results(whole, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'attnprobe[ray]')")
    _same_output(whole, _run(tmp_path, "ray", shard_size=32, engine="ray", workers=2))


def _packed_default():
    """The model's own test corpus and gold in their compact forms (word numbers, link arrays)."""
    from attnprobe.alignment.types import LinkTable
    from attnprobe.data.packed import PackedCorpus
    from attnprobe.data.toy import split_corpus

    corpus, gold = split_corpus("enfr", "test")
    return PackedCorpus.pack(corpus.src, corpus.tgt, corpus.name), LinkTable.from_alignments(gold)


@pytest.mark.slow
def test_packed_gold_gives_the_same_results(whole, tmp_path):
    from attnprobe.data.packed import PackedGold

    corpus, gold = _packed_default()
    _same_output(
        whole, _run(tmp_path, "packed-gold", shard_size=32, corpus=corpus, gold=PackedGold.of(gold))
    )


@pytest.mark.slow
def test_a_packed_corpus_and_a_link_table_give_the_same_results(whole, tmp_path):
    corpus, gold = _packed_default()
    _same_output(
        whole, _run(tmp_path, "packed", shard_size=32, workers=2, corpus=corpus, gold=gold)
    )


def test_a_link_table_hashes_and_splits_like_its_alignments(monkeypatch):
    from attnprobe.alignment.types import LinkTable
    from attnprobe.data import ParallelCorpus
    from attnprobe.data.packed import PackedGold, select
    from attnprobe.errors import InputError
    from attnprobe.pipeline import driver
    from attnprobe.pipeline.driver import _gold_hash, _gold_part

    gold = [
        Alignment.from_links([(2, 1), (0, 0)], [(1, 1), (0, 2)]),
        Alignment.from_links([]),
        Alignment.from_links([], [(3, 0)]),
        Alignment.from_links([(1, 0), (0, 1)]),
    ]
    table = LinkTable.from_alignments(gold)
    flipped = LinkTable.from_alignments(
        [
            Alignment.from_links([(j, i) for i, j in a.sure], [(j, i) for i, j in a.possible])
            for a in gold
        ]
    ).reversed()
    assert _gold_hash(gold) == _gold_hash(table) == _gold_hash(flipped)
    assert _gold_hash(select(gold, [3, 0])) == _gold_hash(select(table, [3, 0]))
    assert _gold_hash(gold[1:]) != _gold_hash(gold[:3])
    packed = PackedGold.of(table)
    assert _gold_hash(packed) == _gold_hash(gold)
    monkeypatch.setattr(driver, "_BLOCK", 3)  # in blocks of 3 sentences: the same
    assert _gold_hash(packed) == _gold_hash(table) == _gold_hash(gold)
    assert _gold_hash(select(packed, [3, 0])) == _gold_hash(select(gold, [3, 0]))

    def pairs(src_lengths, tgt_lengths):
        return ParallelCorpus([["a"] * n for n in src_lengths], [["x"] * n for n in tgt_lengths])

    assert driver._check_gold(pairs([3, 1, 4, 2], [3, 1, 1, 2]), packed) is packed
    with pytest.raises(InputError, match=r"gold link 3-0 points outside sentence pair 3 \(3x1"):
        driver._check_gold(pairs([3, 1, 3, 2], [3, 1, 1, 2]), packed)
    with pytest.raises(InputError, match=r"gold link 1-0 points outside sentence pair 4 \(1x2"):
        driver._check_gold(pairs([3, 1, 4, 1], [3, 1, 1, 2]), packed)  # in the second block
    assert [(a.sure, a.possible) for a in packed] == [(a.sure, a.possible) for a in gold]
    for whole in (table, packed):
        part = _gold_part(select(whole, [3, 0, 2]), [0, 2])  # a shard's gold: rows 3 and 2
        assert len(part) == 2 and part[0].sure == gold[3].sure == part[0].possible
        assert part[1].possible == {(3, 0)} and not part[1].sure


def test_the_driver_holds_the_sentences_of_one_shard_at_a_time(tmp_path, monkeypatch):
    """Shards get their sentences from the caller's corpus as they start: the driver makes
    no copy of the corpus (every sentence it decodes is gone once its shard is done)."""
    import weakref

    from attnprobe.data.packed import PackedSide
    from attnprobe.pipeline.scale import engines

    class Sentence(list):  # a list that can be watched (a weak reference, by identity)
        __hash__ = object.__hash__

    alive: weakref.WeakSet = weakref.WeakSet()

    def decode(self, k):
        out = Sentence(PackedSide.__getitem__(self, k))
        alive.add(out)
        return out

    class Watched(PackedSide):
        __getitem__ = decode

    corpus, gold = _packed_default()
    corpus.src = Watched(corpus.words, corpus.src.ids, corpus.src.offsets)
    corpus.tgt = Watched(corpus.words, corpus.tgt.ids, corpus.tgt.offsets)
    seen = []
    run_shard = engines.run_shard

    def counted(model, task, *args, **kw):
        seen.append((len(alive), len(task.src)))
        return run_shard(model, task, *args, **kw)

    monkeypatch.setattr(engines, "run_shard", counted)
    _run(tmp_path, "held", shard_size=16, corpus=corpus, gold=gold, analyses=["alignment"])
    assert len(seen) >= 5
    assert all(held == 2 * size for held, size in seen)  # this shard's sources and targets


def _shards(limit=90, batch_size=16, shard_size=32) -> int:
    from attnprobe.data.toy import split_corpus

    corpus, _ = split_corpus("enfr", "test")
    return len(plan_shards(corpus.lengths[:limit], batch_size, shard_size, "k"))


def test_a_shard_that_always_fails_is_reported_and_the_rerun_resumes(whole, tmp_path):
    out, n = tmp_path / "resumed", _shards()
    assert n >= 3
    with pytest.raises(ShardError, match=r"shard 1 \([0-9a-f]{12}\): ShardFault") as err:
        _run(tmp_path, "resumed", shard_size=32, faults={1: 99})
    assert f"{n - 1} of {n} shards are done" in str(err.value)
    assert "again to resume" in str(err.value)
    assert not out.exists()  # the output folder appears whole or not at all
    kept = sorted(p.name[:6] for p in (work_area_of(out) / "shards").iterdir())
    assert kept == [f"{k:06d}" for k in range(n) if k != 1]
    _run(tmp_path, "resumed", shard_size=32)
    _same_output(whole, out)
    assert not work_area_of(out).exists()


def test_workers_started_early_are_stopped_when_the_input_is_bad():
    import multiprocessing

    from attnprobe.alignment import Alignment
    from attnprobe.data import ParallelCorpus
    from attnprobe.errors import InputError
    from attnprobe.pipeline.driver import analyze

    corpus = ParallelCorpus([["a", "b"]], [["x"]])
    gold = [Alignment.from_links([(0, 3)])]  # outside the 2x1 pair: found after the start
    with pytest.raises(InputError, match="gold link 0-3 points outside sentence pair 1"):
        analyze(MODEL, corpus, gold, workers=2, progress=False)
    assert multiprocessing.active_children() == []


def test_a_shard_that_fails_once_is_retried(whole, tmp_path):
    _same_output(whole, _run(tmp_path, "retried", shard_size=32, faults={0: 1}))


@pytest.mark.slow
def test_sigterm_keeps_finished_shards_and_the_same_command_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    out = tmp_path / "big"
    cmd = [
        sys.executable, "-m", "attnprobe.cli.main", "analyze", str(ROOT / MODEL),
        "--analyses", "alignment", "--limit", "400", "--batch-size", "16",
        "--shard-size", "16", "-o", str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    shards = work_area_of(out) / "shards"
    deadline = time.monotonic() + 240
    while not (shards.is_dir() and any(p.suffix == ".jsonl" for p in shards.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    assert err.splitlines()[-1] == "attnprobe: interrupted"
    assert not out.exists() and not list(tmp_path.glob(".big.*.tmp"))
    kept = [p for p in shards.iterdir() if p.suffix == ".jsonl"]
    assert kept and all(not p.name.startswith(".") for p in kept)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    n = _shards(400, 16, 16)
    assert f" of {n} shards are already done" in done.stderr
    assert (out / "report.html").is_file() and not work_area_of(out).exists()
    assert len((out / "sentences.jsonl").read_text().splitlines()) == 400


def _shape(x):
    """The layout of JSON data: keys and list lengths kept, numbers and strings dropped."""
    if isinstance(x, dict):
        return {k: _shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_shape(v) for v in x]
    return type(x).__name__ if x is not None else "float"


def test_attribution_metrics_do_not_grow_with_the_corpus():
    from attnprobe.pipeline.driver import analyze

    def section(limit):
        res = analyze(MODEL, limit=limit, batch_size=8, progress=False, analyses=["attribution"])
        return res.metrics["sections"]["attribution"], res.sentences

    small, _ = section(6)
    large, sentences = section(30)
    assert _shape(small) == _shape(large)  # same keys, same list lengths: a fixed size
    tau = large["tau"]["saliency"]
    assert len(tau["counts"]) == 20 and len(tau["edges"]) == 21
    steps = large["agreement"][f"{large['site']}/saliency"]["steps"]
    assert sum(tau["counts"]) + tau["undefined"] == steps > 30  # every step, counted once
    assert all("attr_tau" in s for s in sentences)  # the per-sentence values: in the records


def test_attribution_agreement_does_not_depend_on_the_shards(tmp_path):
    """The per-sentence agreement sums of several shards give the means and bootstrap
    intervals of one shard (their corpus order: tests/test_pipeline_attribution.py)."""
    kw = {"limit": 40, "analyses": ["attribution"]}
    whole = _run(tmp_path, "whole", shard_size=10**6, **kw)
    sharded = _run(tmp_path, "sharded", shard_size=8, **kw)
    assert len(plan_shards(list(range(40)), 16, 8, "k")) > 1
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (whole, sharded))
    for m in (a, b):
        del m["sections"]["attribution"]["seconds"]  # the attribution's own timing
    assert a["sections"]["attribution"]["agreement_intervals"]  # compared below
    _close_json(a, b)
    for name in sorted(p.name for p in (whole / "alignments").iterdir()):
        assert (whole / "alignments" / name).read_bytes() == (
            sharded / "alignments" / name
        ).read_bytes()


def test_a_local_ray_instance_is_set_up_lean_and_a_cluster_keeps_its_own_settings():
    from attnprobe.pipeline.scale.ray_engine import init_kwargs

    local = init_kwargs(None, 2)
    assert local["num_cpus"] == 2 and local["_system_config"]["worker_niceness"] == 0
    assert local["_system_config"]["task_events_report_interval_ms"] == 0  # 0: none recorded
    for address in ("auto", "ray://head:10001"):
        joined = init_kwargs(address, 2)
        assert joined["address"] == address
        assert "_system_config" not in joined and "num_cpus" not in joined


@pytest.mark.slow
def test_the_actors_of_a_local_ray_instance_run_at_the_callers_priority():
    """Ray lowers its workers' priority (nice 15) by default; the engine's own instance does
    not, so that its actors get the share of the machine local workers get."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'attnprobe[ray]')")
    from attnprobe.pipeline.scale.ray_engine import init_kwargs

    assert not ray.is_initialized()
    ray.init(**init_kwargs(None, 1))
    try:
        niceness = ray.get(ray.remote(num_cpus=1)(lambda: os.nice(0)).remote())
    finally:
        ray.shutdown()
    assert niceness == os.nice(0)


def test_ray_actors_write_only_into_the_work_area_of_this_run(tmp_path):
    from attnprobe.pipeline.scale.ray_engine import _reachable
    from attnprobe.pipeline.scale.work_area import WorkArea

    area = WorkArea(tmp_path / ".out.work", "key1")
    area.open([])
    assert _reachable((str(area.root), "key1")).dir == area.dir  # the driver's: written there
    assert _reachable((str(area.root), "key2")) is None  # another run's: records go back
    assert _reachable((str(tmp_path / "elsewhere"), "key1")) is None  # not seen (another node)
    assert _reachable(None) is None


HEAP = """
import ctypes, sys
from attnprobe.pipeline.scale.engines import bound_heap
if sys.argv[1] == "bound":
    bound_heap()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.free(libc.malloc(4 << 20))  # a mapped block freed: by default glibc raises its threshold
before = libc.mallinfo2().hblkhd  # bytes in blocks of their own maps
p = libc.malloc(2 << 20)
print((libc.mallinfo2().hblkhd - before) >> 20)
libc.free(p)
"""


def _glibc_mallinfo2() -> bool:
    import ctypes

    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(not _glibc_mallinfo2(), reason="needs glibc 2.33 or later (mallinfo2)")
def test_a_worker_maps_large_blocks_of_its_own_so_that_freeing_them_hands_them_back():
    import subprocess
    import sys

    mapped = {  # MiB of a new 2 MiB block that got a map of its own
        how: int(
            subprocess.run(
                [sys.executable, "-c", HEAP, how], capture_output=True, text=True, check=True
            ).stdout
        )  # fmt: skip
        for how in ("default", "bound")
    }
    # by default the freed 4 MiB map raised glibc's threshold: the 2 MiB block came from
    # the heap, where freeing it would leave a hole; bound, it is mapped (and unmapped)
    assert mapped == {"default": 0, "bound": 2}

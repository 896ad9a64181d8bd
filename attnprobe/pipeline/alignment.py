"""Step ``alignment``: extract alignments per site x method x offset, score them.

Per batch the links are extracted and counted against the gold (``|A|``,
``|S|``, ``|P|``, ``|A∩S|``, ``|A∩P|`` per site x method x offset: statistics
that add up over shards); ``finish`` picks each pair's best offset from the
merged counts, and each sentence keeps the links and scores of every offset
until that choice is made (:func:`~attnprobe.pipeline.common.choose_later`).

The step runs on every batch and should cost little next to the forward pass
(benchmarks/bench_overhead.py): each sentence's word matrix is made once per
site x offset, the batch's matrices are stacked
(:class:`~attnprobe.analyses.extraction.WordBatch`), and each method extracts
the links of all of them at once, as arrays that become one hypothesis
:class:`~attnprobe.alignment.LinkTable` per site x method x offset and the
records' link lists; the batch's gold table is built once.
"""

from __future__ import annotations

import numpy as np

from attnprobe.alignment import LinkTable, score_alignments
from attnprobe.alignment.scoring import AlignmentScores
from attnprobe.analyses.extraction import WordBatch, diagonal_links, word_matrix
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    _score_dict,
    choose_later,
    word_masks,
)

#: the counts kept per site x method x offset, in this order
COUNTS = ("links", "sure", "possible", "hits_sure", "hits_possible", "sentences")
#: dev sentences (even corpus positions) a model with several sites is read on to pick
#: the report's primary site; the rest of the run does not depend on how many
PRIMARY_DEV = 500


def link_counts(sc: AlignmentScores) -> np.ndarray:
    """The additive counts of a score (:data:`COUNTS` order, int64)."""
    return np.array([getattr(sc, k) for k in COUNTS], np.int64)


def scores_of(counts) -> AlignmentScores:
    """:class:`AlignmentScores` from summed :func:`link_counts`."""
    return AlignmentScores(**{k: int(v) for k, v in zip(COUNTS, counts, strict=True)})


def _words(attention, offset: int, masks) -> WordBatch:
    """The sentences' word matrices at ``offset``, stacked (``masks``: one ``word_masks`` each)."""
    return WordBatch.stack(
        word_matrix(a, offset=offset, **m) for a, m in zip(attention, masks, strict=True)
    )


def _hypothesis(words: WordBatch, method: str) -> tuple[list[list], LinkTable]:
    """``method``'s links: each sentence's ``[(src, tgt), ...]`` list, and their table.

    Pairs are tuples while the records wait for the best offset (see
    :func:`~attnprobe.pipeline.common.choose_later`): ~30 a sentence for every
    site x method x offset, which as lists would keep the garbage collector busy.
    """
    offsets, src, tgt = words.links(method)
    table = LinkTable.from_offsets(offsets, src, tgt, src_len=words.n_src, tgt_len=words.n_tgt)
    pairs = list(zip(src.tolist(), tgt.tolist(), strict=True))
    bounds = offsets.tolist()
    return [pairs[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], table


def _diagonal(cb: CapturedBatch) -> LinkTable:
    """The batch's :func:`~attnprobe.analyses.extraction.diagonal_alignment` links, a table."""
    src_len = [r["src_len"] for r in cb.records]
    tgt_len = [r["tgt_len"] for r in cb.records]
    links = list(map(diagonal_links, src_len, tgt_len))
    offsets = np.zeros(len(links) + 1, np.int64)
    np.cumsum([len(src) for src, _ in links], out=offsets[1:])
    return LinkTable.from_offsets(
        offsets,
        np.concatenate([src for src, _ in links]),
        np.concatenate([tgt for _, tgt in links]),
        src_len=src_len,
        tgt_len=tgt_len,
    )


class AlignmentAnalysis:
    """Extract alignments per site x method x offset; score them against the gold."""

    title = "Alignment"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.counts: dict = {}  # site -> method -> str(offset) -> link_counts
        self.choices: dict[str, int] = {}
        self.diagonal = 0  # link counts of the diagonal alignment (with gold)

    def update(self, cb: CapturedBatch) -> None:
        ctx = self.ctx
        masks = [word_masks(r["src_len"], r["tgt_len"]) for r in cb.records]
        gold = None
        if ctx.gold is not None:
            gold = LinkTable.from_alignments([ctx.gold[p] for p in cb.positions])
        primary = (ctx.sites[0], ctx.methods[0]) if ctx.sites else None
        for site in ctx.sites:
            for offset in ctx.offsets:
                words = _words(cb.attention[site], offset, masks)
                for method in ctx.methods:
                    self._update(cb, site, method, offset, words, gold, primary)
        if gold is not None:  # the word-blind baseline, on the same gold
            self.diagonal = self.diagonal + link_counts(score_alignments(gold, _diagonal(cb)))

    def _update(self, cb, site, method, offset, words, gold, primary) -> None:
        """One site x method x offset of a batch: the records' links, the counts."""
        links, hyp = _hypothesis(words, method)
        name = f"{site}/{method}"
        fields = [{"links": {name: pairs}} for pairs in links]  # sorted by (src, tgt)
        if gold is not None:
            sc = score_alignments(gold, hyp)
            per_method = self.counts.setdefault(site, {}).setdefault(method, {})
            key = str(offset)
            per_method[key] = per_method.get(key, 0) + link_counts(sc)
            if (site, method) == primary:
                per = sc.per_sentence()
                for b, f in enumerate(fields):
                    f["aer"] = _clean(per.aer[b])
                    f["precision"] = _clean(per.precision[b])
                    f["recall"] = _clean(per.recall[b])
        for rec, f in zip(cb.records, fields, strict=True):
            choose_later(rec, f"alignment {name}", offset, f)

    def stats(self) -> dict:
        """This part's link counts (site -> method -> offset -> :data:`COUNTS`), and the
        diagonal baseline's (with gold)."""
        out = {"counts": self.counts}
        if self.ctx.gold is not None:
            out["diagonal"] = self.diagonal
        return out

    def finish(self, done: dict, stats: dict) -> dict:
        ctx = self.ctx
        counts = stats.get("counts", {})
        rows, best = [], {}
        for site in ctx.sites:
            for method in ctx.methods:
                scored = {}
                if ctx.gold is not None:
                    for o in ctx.offsets:
                        scored[o] = scores_of(counts[site][method][str(o)])
                    offset = min(ctx.offsets, key=lambda o: (scored[o].aer, abs(o)))
                else:
                    offset = ctx.offsets[0]
                best[f"{site}/{method}"] = offset
                self.choices[f"alignment {site}/{method}"] = offset
                for o, sc in scored.items():
                    rows.append(
                        {
                            "site": site,
                            "method": method,
                            "offset": o,
                            "best": o == offset,
                            **_score_dict(sc),
                        }
                    )
        out = {"scores": rows, "best_offset": best, "keys": list(best)}
        if "diagonal" in stats:  # the word-blind baseline attention's AER is read against
            out["diagonal"] = _score_dict(scores_of(stats["diagonal"]))
        return out


def primary_site(
    model, corpus, gold, sites, method: str, offsets, batch_size: int = 64, dev: int = PRIMARY_DEV
) -> tuple[list[str], dict]:
    """``sites`` with the one that aligns best on dev sentences first, and the evidence.

    A Transformer has a cross-attention site per layer, and the first layer is
    rarely the one that aligns best. The primary site (the report's headline row,
    the explorer's default view, the attention that patterns, attribution and
    faithfulness read) is chosen on the dev sentences only: the even corpus
    positions (the ``heads`` step's dev half), at most ``dev`` of them. Each
    site's attention, heads averaged, is extracted with ``method`` at every
    offset and scored against the gold; the site with the lowest AER at its best
    offset comes first (ties: the model's order). The heads section reports the
    chosen layer's AER on the odd positions (test), which took no part in it.

    Returns ``(sites reordered, {"site", "dev_sentences", "dev_aer": {site: AER}})``;
    one site, or no gold, leaves ``sites`` as given (the evidence is then ``{}``).

    Examples
    --------
    >>> import attnprobe
    >>> from attnprobe.data.toy import split_corpus
    >>> model = attnprobe.load("fixtures/models/enfr-bahdanau.pt")  # one site
    >>> corpus, gold = split_corpus("enfr", "test")
    >>> sites = [s.key for s in model.sites if s.role == "cross"]
    >>> primary_site(model, corpus, gold, sites, "argmax-target", (0, -1)) == (sites, {})
    True
    """
    from attnprobe.runs.forward import eval_mode, teacher_forced

    sites = list(sites)
    if len(sites) < 2 or gold is None:
        return sites, {}
    picked = list(range(0, len(corpus), 2))[:dev]
    counts = {(s, o): 0 for s in sites for o in offsets}
    with eval_mode(model):
        for lo in range(0, len(picked), batch_size):
            idx = picked[lo : lo + batch_size]
            batch = model.encode([corpus.src[k] for k in idx], [corpus.tgt[k] for k in idx], idx)
            att = teacher_forced(model, batch, sites).attention
            masks = [word_masks(len(corpus.src[k]), len(corpus.tgt[k])) for k in idx]
            gold_part = LinkTable.from_alignments([gold[k] for k in idx])
            for s in sites:
                for o in offsets:
                    _, hyp = _hypothesis(_words(att[s], o, masks), method)
                    counts[s, o] = counts[s, o] + link_counts(score_alignments(gold_part, hyp))
    aer = {s: min(scores_of(counts[s, o]).aer for o in offsets) for s in sites}
    best = min(sites, key=lambda s: (aer[s], sites.index(s)))
    evidence = {"site": best, "dev_sentences": len(picked), "dev_aer": aer}
    return [best, *(s for s in sites if s != best)], evidence

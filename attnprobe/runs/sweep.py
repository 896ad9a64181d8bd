"""The gradient engine: per-step gradients of a teacher-forced model, all steps in one sweep.

For a teacher-forced sentence pair every target step ``t`` has one scalar
``f_t`` (the log-probability, probability or logit of the gold token) and every
per-step analysis needs ``d f_t / d x`` for all ``t``: attribution (saliency,
input x gradient, Integrated Gradients, GradientShap), gradient flow
(:mod:`attnprobe.runs.gradients`) and the stop-gradient path decomposition.
They all come here. One forward serves all ``T`` steps; :func:`sweep` gets the
``T`` gradients of a reference model's batch by one reverse sweep over its
unrolled decoder, and one vectorised pass through the encoder, also when the
batch is padded (see :func:`sweep`). Models without a step decoder get one
backward per step from the shared forward (:func:`step_grads`).

:class:`Runner` runs a model from given embeddings: capture output edits
replace what the source (and the decoder-input) embedding returns, so that the
embeddings can require grad; stop-gradient edits (``stops``) travel with it.
Every run goes through :func:`attnprobe.capture`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial

import torch
from torch import Tensor, nn

from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "TARGETS",
    "SWEEP_ELEMENTS",
    "AttributionError",
    "Runner",
    "select",
    "vjp_rows",
    "step_grads",
    "sweep",
    "sweep_rows",
]

#: what is attributed at step t: the gold token's log-probability, probability or logit
TARGETS = ("log_prob", "prob", "logit")


class AttributionError(InputError):
    """A method that cannot give correct numbers for this model (e.g. DeepLift on an RNN)."""


def _check_embedding(module: nn.Module, side: str, pad_id: int) -> None:
    """The ``side`` embedding must be an ``nn.Embedding`` padding with the model's PAD id."""
    if not isinstance(module, nn.Embedding):
        raise AttributionError(
            f"the {side} embedding is a {type(module).__name__}, not an nn.Embedding; the "
            "baselines of attribution are rows of the embedding table (PAD, UNK)",
            fix="declare the nn.Embedding as source_embedding",
        )
    if module.padding_idx not in (None, pad_id):
        raise AttributionError(
            f"the {side} embedding has padding_idx={module.padding_idx}, but the model's "
            f"vocabulary pads with id {pad_id}",
            fix="give wrap() the model's own vocabulary and its pad token",
        )


def _target_embedding(model: nn.Module) -> nn.Module:
    emb = getattr(model, "target_embedding", None)
    if emb is None:
        emb = getattr(getattr(model, "decoder", None), "embedding", None)
    if emb is None:
        raise AttributionError(
            f"{type(model).__name__} exposes no target embedding; target_share needs one",
            fix="use target_share=False, or give the model a target_embedding property",
        )
    return emb


class Runner:
    """Runs the model from given embeddings [N, S, E] through its own forward.

    Capture output edits replace what the source (and, with ``target_share``,
    the decoder-input) embedding module returns by the given tensors; the ids
    only mark the real positions.
    """

    def __init__(
        self,
        model: nn.Module,
        target: str,
        target_share: bool,
        vectorize: bool = False,
        stops: dict | None = None,
    ):
        if target not in TARGETS:
            raise UnknownNameError("attribution target", target, TARGETS)
        self.model, self.target, self.vectorize = model, target, vectorize
        self.stops = dict(stops or {})  # stop-gradient edits applied in every run
        self.ids = dict(model.special_ids)  # the model's own pad / unk ids
        self.src_emb = model.source_embedding
        _check_embedding(self.src_emb, "source", self.ids["pad"])
        self.src_path = _module_path(model, self.src_emb)
        self.tgt_emb = self.tgt_path = None
        if target_share:
            self.tgt_emb = _target_embedding(model)
            _check_embedding(self.tgt_emb, "target", self.ids["pad"])
            self.tgt_path = _module_path(model, self.tgt_emb)
            if self.tgt_path == self.src_path:
                raise AttributionError(
                    "the model embeds source and target with one module; target_share "
                    "needs them apart",
                    fix="use target_share=False",
                )

    def embed(self, ids: Tensor, side: str = "src") -> Tensor:
        emb = self.src_emb if side == "src" else self.tgt_emb
        return emb(ids).detach()

    @property
    def sweeps(self) -> bool:
        """True when the model's decoder can be unrolled step by step (a capability)."""
        from attnprobe.models.interface import has_capability

        return has_capability(self.model, "step_decoder")

    def edits(self, x: Tensor | None, y: Tensor | None) -> dict:
        """Output edits that make the model run from embeddings ``x`` (and ``y``; None:
        that side's embedding runs as it is)."""
        from attnprobe.capturing.edits import constant

        edits = {} if x is None else {self.src_path: constant(x)}
        if y is not None:
            edits[self.tgt_path] = _decoder_inputs(y)
        return edits

    @property
    def splits(self) -> bool:
        """True when the model runs in two halves (``encode_source``, ``decode_states``)
        and no stop-gradient edit acts: :meth:`encode` then :meth:`forward` with states."""
        m = self.model
        return not self.stops and all(
            callable(getattr(m, name, None)) for name in ("encode_source", "decode_states")
        )

    def encode(self, x: Tensor, src_mask: Tensor, lens: Tensor) -> Tensor:
        """The encoder's output states [N, S, H] from source embeddings ``x`` [N, S, E]
        (models that :attr:`splits`)."""
        from attnprobe.capturing.hooks import capture

        with capture(self.model, sites=[], edits=self.edits(x, None)):
            return self.model.encode_source(self._src_ids(src_mask), lens)

    def _src_ids(self, src_mask: Tensor) -> Tensor:
        """Source ids that only mark the real positions (the padding mask): the embeddings
        themselves come from ``x`` through an edit of the source embedding."""
        return torch.where(src_mask, self.ids["unk"], self.ids["pad"])

    def forward(
        self,
        x: Tensor | None,
        src_mask: Tensor,
        lens: Tensor,
        tgt_in: Tensor,
        y: Tensor | None = None,
        states: Tensor | None = None,
    ) -> Tensor:
        """Logits [N, T, V] from source embeddings ``x`` [N, S, E] (decoder inputs ``y``),
        or from the encoder's output ``states`` (:meth:`encode`; ``x`` is then unused)."""
        from attnprobe.capturing.hooks import capture

        if states is None:
            with capture(self.model, sites=[], edits={**self.stops, **self.edits(x, y)}):
                out = self.model(self._src_ids(src_mask), lens, tgt_in)
        else:  # the encoder does not run: its states are given
            edits = self.edits(None, y)
            with capture(self.model, sites=[], edits=edits) if edits else contextlib.nullcontext():
                out = self.model.decode_states(states, lens, tgt_in)
        return out[0] if isinstance(out, tuple) else out.logits

    def scores(self, x, src_mask, lens, tgt_in, tgt_out, y=None) -> Tensor:
        """``f`` [N, T] from source embeddings ``x`` [N, S, E] (decoder inputs ``y`` [N, T, E])."""
        return select(self.forward(x, src_mask, lens, tgt_in, y), tgt_out, self.target)


def _module_path(model: nn.Module, module: nn.Module) -> str:
    """The path of ``module`` as ``capture`` names it (relative to the model's ``site_root``)."""
    root = getattr(model, "site_root", None) or model
    for name, m in root.named_modules():
        if m is module:
            return name
    raise AttributionError(f"the embedding {type(module).__name__} is not a module of the model")


def _decoder_inputs(y: Tensor):
    """Output edit: the decoder-input embeddings ``y`` [N, T, E], whole or one step per call."""

    def edit(out: Tensor, info) -> Tensor:
        value = y if out.dim() == y.dim() else y[:, info.step]
        if value.shape != out.shape:
            raise AttributionError(
                f"the target embedding returned {list(out.shape)} at call {info.step}; "
                f"expected {list(value.shape)} (all steps) or one step of it",
            )
        return value.to(out.dtype)

    return edit


def select(logits: Tensor, tgt_out: Tensor, target: str) -> Tensor:
    """The gold token's score per step: [N, T, V] -> [N, T]."""
    if target == "log_prob":
        logits = torch.log_softmax(logits, -1)
    elif target == "prob":
        logits = torch.softmax(logits, -1)
    return logits.gather(-1, tgt_out.clamp_min(0)[..., None]).squeeze(-1)


def vjp_rows(outs: list[Tensor], wrt: list[Tensor], cotangents: list[Tensor]) -> list[Tensor]:
    """One backward per row of ``cotangents`` (each ``[n, *out.shape]``), vectorised.

    Returns ``[n, *w.shape]`` per tensor of ``wrt`` (zeros where unreached). The
    rows run as one ``torch.func.vmap`` over ``torch.autograd.grad``, not with
    ``is_grads_batched=True``: that uses the legacy vmap, which has no batching
    rule for ``tanh_backward``, ``masked_fill`` and ``_softmax_backward_data``
    and loops over the rows for them (measured 20x slower on an attention-sized
    softmax backward).
    """

    def one(*cots):
        return torch.autograd.grad(outs, wrt, cots, retain_graph=True, materialize_grads=True)

    n = cotangents[0].shape[0]
    grads = torch.func.vmap(one)(*cotangents)
    return [
        g if g.dim() > w.dim() else g.expand(n, *w.shape) for g, w in zip(grads, wrt, strict=True)
    ]


def step_grads(f: list[Tensor], inputs: list[Tensor], vectorize: bool = False) -> list[Tensor]:
    """Per-step gradients of ``f`` (T tensors [N]): each input [N, ...] gives [T, N, ...].

    Row t of a result is the gradient of ``f[t].sum()`` (sentences are
    independent rows of the batch); inputs that step t does not reach get zeros.
    ``vectorize``: all steps in one vmapped backward (which also runs step t's
    backward through the steps after t, where its gradient is zero).
    """
    if vectorize:
        stacked = torch.stack(f)  # [T, N]
        return vjp_rows(
            [stacked],
            inputs,
            [
                torch.eye(len(f), dtype=stacked.dtype, device=stacked.device)[..., None].expand(
                    len(f), *stacked.shape
                )
            ],
        )
    grads = [[] for _ in inputs]
    for ft in f:  # step t's backward stops at decoder step t
        step = torch.autograd.grad(ft.sum(), inputs, retain_graph=True, materialize_grads=True)
        for acc, g in zip(grads, step, strict=True):
            acc.append(g)
    return [torch.stack(g) for g in grads]


def state_tensors(state) -> list[Tensor]:
    """A reference decoder's recurrent state as a flat list (hidden or (h, c), then feed)."""
    hidden = list(state.hidden) if isinstance(state.hidden, tuple) else [state.hidden]
    return hidden + ([state.feed] if state.feed is not None else [])


def state_leaves(state):
    """The same state with every tensor a new leaf that requires grad (a cut in the graph)."""
    leaves = [t.detach().requires_grad_() for t in state_tensors(state)]
    if isinstance(state.hidden, tuple):
        hidden, rest = tuple(leaves[:2]), leaves[2:]
    else:
        hidden, rest = leaves[0], leaves[1:]
    return type(state)(hidden, rest[0] if state.feed is not None else None), leaves


#: the most cotangent elements a tap holds before it sums them into the gradients (a block
#: of steps: larger blocks make longer matrix products and fewer passes over the memory)
TAP_ELEMENTS = 4_000_000


def _taps(run) -> list[_Tap]:
    """The memory leaves the sweep sets apart from the steps' backwards (:class:`_Tap`).

    The keys of a reference decoder's attention reach step k only through its
    context ``c_k = sum_s a_k[s] keys[s]``; the prepared keys of a Luong decoder's
    ``dot`` or ``general`` score only through the scores ``e_k[s] = h_k . p[s]``
    (h_k: the step's state, the query). None where a stop-gradient edit acts on
    the tensors these rely on, or for other decoders and scores.
    """
    from attnprobe.models.reference.attention import Attention, DotScore, GeneralScore
    from attnprobe.models.reference.rnn import LuongDecoder

    dec = run.model.decoder
    attention = getattr(dec, "attention", None)
    if not isinstance(attention, Attention):
        return []
    path = partial(_module_path, run.model)
    stopped = {getattr(key, "path", key) for key in run.stops}
    taps = []
    seen = {path(attention.hook_context), path(attention.hook_weights)}
    if not stopped & seen:
        taps.append(_Tap("keys", path(attention.hook_context), None, "kns,rknd->rnsd"))
    score = isinstance(dec, LuongDecoder) and type(attention.score) in (DotScore, GeneralScore)
    seen = {path(attention.hook_scores), path(dec.hook_state)}
    if score and not stopped & seen:
        taps.append(
            _Tap("prepared", path(attention.hook_scores), path(dec.hook_state), "knd,rkns->rnsd")
        )
    return taps


def _recorder(into: list):
    """Output edit that keeps each output in ``into`` and leaves it as it is."""

    def edit(out: Tensor, info) -> Tensor:
        into.append(out)
        return out

    return edit


class _Tap:
    """A memory leaf ``leaf`` that reaches each decoder step through one product only.

    The leaf's gradient for target r is then a sum over the steps k <= r of outer
    products: ``sum_k a_k (x) dc_{r,k}`` for the keys (the step's weights [N, S]
    and the cotangent of its context [N, D]), ``sum_k de_{r,k} (x) h_k`` for the
    prepared keys of a dot-product score (the cotangent of its scores [N, S] and
    its query [N, D]). The steps run on the leaf detached; their backwards give
    the cotangents of ``out`` (the context, or the scores), which are small, and
    a block of steps is summed by one batched matrix product (``spec``) that
    writes each target's [N, S, D] once per block, where the steps' own
    backwards wrote one outer product per (target, step).
    """

    def __init__(self, leaf: str, out_path: str, factor_path: str | None, spec: str):
        self.leaf, self.spec, self.factor_path = leaf, spec, factor_path
        self.outs: list[Tensor] = []
        self.factors: list[Tensor] = []
        self.edits = {out_path: _recorder(self.outs)}
        if factor_path is not None:
            self.edits[factor_path] = _recorder(self.factors)

    def step(self, t: int, weights: Tensor | None) -> tuple[Tensor, Tensor]:
        """After decoder step t: (the tensor whose cotangent is taken, the other factor)."""
        calls = {len(self.outs), len(self.factors) if self.factor_path else t + 1}
        if calls != {t + 1} or weights is None:
            raise AttributionError(  # the reference decoders attend once per step
                f"decoder step {t} did not attend once ({len(self.outs) - t} calls)"
            )
        factor = self.factors[t] if self.factor_path else weights
        return self.outs[t], factor.detach()

    def start(self, acc: Tensor) -> None:
        """Sum into ``acc`` [T, N, S, D], in blocks of :data:`TAP_ELEMENTS` cotangents."""
        self.outs.clear()
        self.factors.clear()
        self.acc, self.elements = acc, TAP_ELEMENTS
        self.block: list[tuple[int, Tensor, Tensor]] = []
        self.held = 0

    def add(self, k: int, factor: Tensor, rows: Tensor) -> None:
        """Step k's other factor and its cotangent rows [R, N, *] for targets k ... k + R - 1."""
        self.block.append((k, factor, rows))
        self.held += rows.numel()
        if self.held >= self.elements:
            self.flush()

    def flush(self) -> None:
        if not self.block:
            return
        first = min(k for k, _, _ in self.block)
        last = max(k + rows.shape[0] for k, _, rows in self.block)
        shape = self.block[0][2].shape[1:]
        rows = self.block[0][2].new_zeros((last - first, len(self.block), *shape))  # [R, K, ..]
        for j, (k, _, r) in enumerate(self.block):
            rows[k - first : k - first + r.shape[0], j] = r
        factors = torch.stack([f for _, f, _ in self.block])  # [K, N, *]
        self.acc[first:last] += torch.einsum(self.spec, factors, rows)
        self.block, self.held = [], 0


#: the most elements of a memory-sized tensor ([adjoints, rows, S, D]) in one vmapped
#: backward of the sweep: bounds its memory (8 MB in float32) on long sentences
SWEEP_ELEMENTS = 2_000_000


@contextlib.contextmanager
def _vmappable_rnns() -> Iterator[None]:
    """No oneDNN (mkldnn) RNN kernels inside: the backward of its LSTM layer has no vmap
    batching rule (vmap would warn and loop over the rows); the native kernels have
    one. The caller's flag is restored on exit."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


def _backward_rows(outs: list[Tensor], x: Tensor, cotangents: list[Tensor]) -> Tensor:
    """``[T, *x.shape]``: T backward passes from ``outs`` to ``x`` as one vmapped pass,
    one per row of the cotangents ``[T, *out.shape]`` (outputs without a graph skipped)."""
    pairs = [(o, g) for o, g in zip(outs, cotangents, strict=True) if o.requires_grad]
    if not pairs:
        return torch.zeros((len(cotangents[0]), *x.shape), dtype=x.dtype, device=x.device)
    return vjp_rows([o for o, _ in pairs], [x], [g for _, g in pairs])[0]


def _memory_cut(memory) -> tuple:
    """``(names, roots, leaves, memory)``: the fields of the memory with a graph back to
    the source and their tensors, fresh leaves in their place, and the memory made of
    those leaves."""
    names, roots, leaves, cut = [], [], [], {}
    if memory is None:
        return names, roots, leaves, memory
    for name in ("keys", "prepared"):
        t = getattr(memory, name)
        if t.requires_grad:
            names.append(name)
            roots.append(t)
            cut[name] = t.detach().requires_grad_()
            leaves.append(cut[name])
    return names, roots, leaves, memory._replace(**cut)


def _reaches(t: Tensor, x: Tensor) -> bool:
    """Whether ``t`` has a graph back to the leaf ``x`` (a walk of the autograd graph)."""
    stack, seen = [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if getattr(node, "variable", None) is x:
            return True
        stack.extend(n for n, _ in node.next_functions)
    return False


def _state_rows(t: Tensor, rows: Tensor) -> Tensor:
    """Rows of a state cotangent [T, L, B, H] (hidden) or [T, B, H] (feed)."""
    return t[:, :, rows] if t.dim() == 4 else t[:, rows]


def _encoder_pass(run, x, src, lens, names, outs, cots) -> Tensor:
    """``[T, N, S, E]``: the T cotangents of the encoder's outputs taken back to ``x``.

    An unpadded batch takes them through the encoder in one vmapped backward. A
    padded source goes through ``pack_padded_sequence``, whose backward has no
    vmap batching rule (vmap would warn and loop over the steps): the rows are
    grouped by source length instead, each group's encoder is run again on its
    rows cut to that length (no padding, no packing: the same states), and each
    group takes all T cotangents in one vmapped backward. Memory cotangents at
    padded positions are dropped: those positions do not depend on ``x``.
    The stop edits are not replayed in the group runs: an output that has no
    graph back to ``x`` in the full run is left out of the group's backward
    instead, which is exact for the stops of :mod:`attnprobe.runs.gradients`
    (each cuts whole encoder outputs, or acts inside the decoder steps).
    """
    from attnprobe.capturing.edits import constant
    from attnprobe.capturing.hooks import capture

    N, S = src.shape
    if bool((lens == S).all()):
        return _backward_rows(outs, x, cots)
    n_roots = len(names)  # outs: the memory's fields ``names``, then the state tensors
    keep = [_reaches(o, x) for o in outs]  # outputs with a graph back to x in the full run
    grads = x.new_zeros((cots[0].shape[0], *x.shape))  # [T, N, S, E]
    for L in sorted(set(lens.tolist())):
        rows = torch.nonzero(lens == L).flatten()
        xg = x[rows, :L].detach().requires_grad_()  # [n, L, E]
        edits = {run.src_path: constant(xg)}
        with _vmappable_rnns(), capture(run.model, sites=[], edits=edits):
            enc = run.model.encoder(src[rows, :L], lens[rows])
            memory = run.model.decoder.memory(enc, lens[rows])
            state = state_tensors(run.model.decoder.init_state(enc))
        roots = [getattr(memory, name) for name in names]
        sub = [c[:, rows, :L] for c in cots[:n_roots]] + [
            _state_rows(c, rows) for c in cots[n_roots:]
        ]
        pairs = [(o, c) for o, c, k in zip([*roots, *state], sub, keep, strict=True) if k]
        grads[:, rows, :L] = _backward_rows([o for o, _ in pairs], xg, [c for _, c in pairs])
    return grads


#: the most ``rows x target steps x source positions`` of one sweep: a larger batch is
#: swept in groups of rows (the accumulated memory cotangents [T, rows, S, D] and the
#: encoder pass grow with it; 200 analyzed sentences peaked above 1 GB without it)
SWEEP_CELLS = 40_000


def _groups(S: list[int], T: list[int]) -> list[list[int]]:
    """Rows in groups of similar lengths: sorted by (source, target) length, cut so that
    ``rows x max T x max S`` of a group stays within :data:`SWEEP_CELLS` (one row at least)."""
    order = sorted(range(len(S)), key=lambda n: (S[n], T[n], n))
    groups, cur, s_max, t_max = [], [], 0, 0
    for n in order:
        s_new, t_new = max(s_max, S[n]), max(t_max, T[n])
        if cur and (len(cur) + 1) * s_new * t_new > SWEEP_CELLS:
            groups.append(cur)
            cur, s_new, t_new = [], S[n], T[n]
        cur.append(n)
        s_max, t_max = s_new, t_new
    return [*groups, cur] if cur else groups


def sweep(run, points: list[Tensor], mask, lens, tgt_in, tgt_out, wrt: str = "embeddings"):
    """Per-step gradients of a reference Seq2Seq: :func:`sweep_rows` on groups of rows.

    Rows are independent sentences (or interpolation points). They are swept in
    groups of similar lengths (:func:`_groups`), each cut to its own longest
    source and target: a padded batch then pays for its rows' own lengths, not
    the batch's longest (a step's backward costs the same for every row, padded
    or not), and memory is bounded by :data:`SWEEP_CELLS`. The results are put
    back in the batch's shape. Target steps past a row's last step (``tgt_out``
    is PAD there) get zero gradients.

    Returns what :func:`sweep_rows` returns: ``[T, N, S, *]`` for the embeddings (or
    the encoder states), ``[T, N, T, E]`` for the decoder-input embeddings.
    """
    N, S = mask.shape
    T = tgt_in.shape[1]
    real = tgt_out != run.ids["pad"]  # [N, T] real target steps
    groups = _groups(lens.tolist(), real.sum(1).tolist())
    if len(groups) == 1 and int(lens.max()) == S and bool(real[:, -1].any()):
        return sweep_rows(run, points, mask, lens, tgt_in, tgt_out, wrt, real)
    out = None
    for rows in groups:
        idx = torch.tensor(rows)
        s, t = int(lens[idx].max()), int(real[idx].sum(1).max())
        part_points = [
            p[idx, : (s if i == 0 else t)].detach().requires_grad_(p.requires_grad)
            for i, p in enumerate(points)
        ]
        part = sweep_rows(
            run,
            part_points,
            mask[idx, :s],
            lens[idx],
            tgt_in[idx, :t],
            tgt_out[idx, :t],
            wrt,
            real[idx, :t],
        )
        if out is None:
            out = [
                g.new_zeros((T, N, S if i == 0 else T, *g.shape[3:])) for i, g in enumerate(part)
            ]
        for i, g in enumerate(part):
            out[i][:t, idx, : g.shape[2]] = g
    return out


def sweep_rows(
    run,
    points: list[Tensor],
    mask,
    lens,
    tgt_in,
    tgt_out,
    wrt: str = "embeddings",
    real: Tensor | None = None,
):
    """Per-step gradients of a reference Seq2Seq by one reverse sweep over the decoder.

    The decoder is unrolled with a cut (a fresh leaf) at every recurrent state
    and at the attention memory, so each step has a graph of its own. Going
    backwards, step k receives the adjoints of its output state for every later
    target step at once and passes them on in one vmapped backward
    (:func:`vjp_rows`) from the output state alone (it skips the output layer,
    where their cotangent is zero); its own ``f_k`` takes a backward of its own.
    A per-step loop runs ``T (T + 1) / 2`` step backwards one at a time; the
    sweep runs ``T`` backward calls on batches of adjoints: the same
    arithmetic, and Integrated Gradients (50 points) ran 1.6x faster than with
    the loop on the Bahdanau and Luong-general fixtures at T = 19, 1.2-1.6x at
    T = 56 (one thread; long sentences are bound by memory traffic); keeping
    the own ``f_k`` apart and the attention context's vmap-friendly backward
    (``attnprobe.models.reference.attention._Context``) made IG-50 another
    1.33x faster (Bahdanau fixture, 3 pairs, 5 alternating rounds).
    The attention keys (and a Luong dot or general score's prepared keys) are
    set apart from the steps' backwards (:class:`_Tap`): each step gives only
    the small cotangent of its context (scores), and the keys' gradients are
    summed over steps by batched matrix products, which made IG-50 1.10x
    (Bahdanau), 1.17x (location), 1.26x (general) and 1.31x (dot) faster in
    one process, alternating (CPU time, 2 pairs of 15 and 45 words, 4 rounds,
    median), with the same numbers to 5e-7.
    Finally one pass takes all T cotangents of the memory and the initial
    state through the encoder to the embeddings (:func:`_encoder_pass`), or,
    with ``wrt="states"``, through the memory to the encoder states.

    ``real`` [N, T]: the rows' real target steps; a row's ``f_t`` at a padded step
    is left out (its gradients are zero). None: every step is real.

    Returns
    -------
    ``[grads of points[0] (or of the encoder states), grads of points[1]]``,
    each ``[T, *shape]``: row t is the gradient of ``f_t`` summed over the batch
    (its rows are independent sentences).
    """
    from attnprobe.capturing.hooks import capture

    model, dec = run.model, run.model.decoder
    x, y = points[0], (points[1] if len(points) > 1 else None)
    src = torch.where(mask, run.ids["unk"], run.ids["pad"])
    T = tgt_in.shape[1]
    edits = {**run.stops, **run.edits(x, y)}
    taps = _taps(run)
    for tap in taps:
        edits.update(tap.edits)
    with _vmappable_rnns(), capture(model, sites=[], edits=edits):
        enc = model.encoder(src, lens)
        names, roots, mem, memory = _memory_cut(dec.memory(enc, lens))
        taps = [tap for tap in taps if tap.leaf in names]  # (a stop may have cut a leaf)
        # the tapped leaves enter the steps detached: their gradients come from the taps
        if taps:
            cut = {tap.leaf: mem[names.index(tap.leaf)].detach() for tap in taps}
            memory = memory._replace(**cut)
        state0 = dec.init_state(enc)
        state, ins = state_leaves(state0)
        steps = []
        for t in range(T):
            logits, new, w = dec.step(tgt_in[:, t], state, memory, t)
            f = select(logits, tgt_out[:, t], run.target)
            tapped = [tap.step(t, w) for tap in taps]
            steps.append((ins, f, state_tensors(new), tapped))
            state, ins = state_leaves(new)
    extra = [y] if y is not None else []
    acc = [torch.zeros((T, *m.shape), dtype=m.dtype, device=m.device) for m in [*mem, *extra]]
    apart = {names.index(tap.leaf) for tap in taps}
    for tap in taps:
        tap.start(acc[names.index(tap.leaf)])
    # what each step's backward gives gradients for: the memory leaves not set apart
    step_mem = [m for i, m in enumerate(mem) if i not in apart]
    step_acc = [a for i, a in enumerate(acc) if i not in apart]
    n_acc = len(step_acc)
    chunk = max(1, SWEEP_ELEMENTS // max([1, *(m.numel() for m in mem)]))
    adj = None  # adjoints of step k's output state, one row per target step k + 1 ... T - 1
    for k in reversed(range(T)):
        ins, f, outs, tapped = steps[k]
        steps[k] = None  # step k's graph is freed once its backward has run
        wrt_k = [*ins, *step_mem, *extra, *(out for out, _ in tapped)]
        n = 0 if adj is None else adj[0].shape[0]
        # step k's own f_k: one backward of its own. The later targets' adjoints of the
        # output state go back in vmapped calls from the state alone: they skip the
        # output layer and the softmax over the vocabulary, where their cotangent is zero.
        ones = torch.ones_like(f) if real is None else real[:, k].to(f.dtype)
        own = torch.autograd.grad(f, wrt_k, ones, retain_graph=n > 0, materialize_grads=True)
        for a, g in zip(step_acc, own[len(ins) : len(ins) + n_acc], strict=True):
            a[k] += g
        passed = [[g[None]] for g in own[: len(ins)]]
        cots = [[g[None]] for g in own[len(ins) + n_acc :]]  # per tap: target k's cotangent
        live = [i for i, o in enumerate(outs) if o.requires_grad]
        for lo in range(0, n if live else 0, chunk):  # chunks keep the vmapped tensors small
            hi = min(n, lo + chunk)
            rows = vjp_rows([outs[i] for i in live], wrt_k, [adj[i][lo:hi] for i in live])
            for a, g in zip(step_acc, rows[len(ins) : len(ins) + n_acc], strict=True):
                a[k + 1 + lo : k + 1 + hi] += g
            for p, g in zip(passed, rows[: len(ins)], strict=True):
                p.append(g)
            for c, g in zip(cots, rows[len(ins) + n_acc :], strict=True):
                c.append(g)
        if n and not live:  # no graph from the state back: the later targets stop here
            passed = [[p[0], p[0].new_zeros((n, *p[0].shape[1:]))] for p in passed]
        adj = [torch.cat(p) if len(p) > 1 else p[0] for p in passed]
        for tap, (_, factor), c in zip(taps, tapped, cots, strict=True):
            tap.add(k, factor, torch.cat(c) if len(c) > 1 else c[0])  # later targets: zero
    for tap in taps:
        tap.flush()
    # adj: the adjoints of the initial state for targets 0 ... T - 1
    mem_cots = acc[: len(mem)]
    if wrt == "states":  # the states reach the output only through the memory
        grads = _backward_rows(roots, enc.states, mem_cots)
    else:
        outs = [*roots, *state_tensors(state0)]
        grads = _encoder_pass(run, x, src, lens, names, outs, [*mem_cots, *adj])
    return [grads, *acc[len(mem) :]]

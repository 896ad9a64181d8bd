"""capture(): the only place in attnprobe that registers torch hooks.

Hooks are global state, so they live only inside one context manager::

    with attnprobe.capture(model, grads=True) as cap:
        out = model(batch.src, batch.src_lens, batch.tgt_in)
        loss.backward()
    trace = cap.trace            # frozen records, no reference to the model

Everything is planned before anything is registered (sites resolved, edits
matched, misuse refused), then the hooks are registered inside ``try`` and
removed in ``finally``-style cleanup, also when the body, a forward or a
backward raises. What capture changes is put back the same way: the model runs
in ``eval()`` mode (dropout would corrupt what is measured; every module's own
``training`` flag is restored), and PyTorch's fused ``nn.MultiheadAttention``
fast path is switched off while an ``nn.MultiheadAttention`` site is captured.

Without ``sites`` (and a model that declares none), capture reads what a built-in
spec knows (:func:`attnprobe.capturing.sites.candidates`) and nothing it would have
to guess: every other attention-like module, and every module that runs a fused
kernel, is listed in ``Capture.skipped`` with the reason, logged as a warning and
kept in the trace's ``meta["skipped"]``; finding no cross-attention is an error
that names them and the fix.

One mechanism per way of reading a site (:mod:`attnprobe.capturing.sites`); the
hooks are registered here, what they do with a call's output lives in
:mod:`attnprobe.capturing.readers`:

- ``"output"``, an index or a key: a forward hook reads the module's output;
  for ``"output"`` it may return edited weights, which the model then uses.
  Where nothing else hooks the module it runs from inside the module's forward
  (``_InForward``: torch then calls the module on its fast path), and is
  removed like the others.
- ``"softmax"``: a forward pre-hook enters a ``TorchFunctionMode`` and the
  forward hook (``always_call=True``, so it runs when the forward raises) leaves
  it; the mode sees every torch function called *at the top level* of that
  forward, reads the softmax output and may replace it. It cannot see inside
  composite functions such as ``F.multi_head_attention_forward`` (the mode is
  suspended while it handles a call), which is why ``nn.MultiheadAttention`` has
  a mechanism of its own; a forward that only runs a fused kernel
  (``F.scaled_dot_product_attention``) is refused with a clear error.
- ``"mha"``: a forward pre-hook with keyword arguments asks the module for
  per-head weights (``need_weights=True, average_attn_weights=False``) whatever
  the caller asked for (``nn.TransformerDecoderLayer`` asks for none); the
  forward hook reads them and gives the caller back the output it asked for.
  When the weights are edited, or their gradient is wanted, it recomputes the
  module's output from them: ``out_proj(weights @ V)``.

Gradients dL/d(weights) are recorded by tensor hooks on the weights each call
produced, when the user calls ``backward()`` inside the ``with`` block.

:func:`probe` is the other user of hooks: ``find_sites(model, example=...)`` runs
the model once under a pre-hook and hook on every module and a mode that sees
each softmax, and reads what looked like attention; all of it is removed in
``finally``.

Output edits (``edits={"decoder.hook_init": attnprobe.capturing.edits.detach()}``: a key
that names a module rather than an attention site) are forward hooks that
replace what that module returns, registered before every recorder so that a
site or states record on the same module sees the edited tensor.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import partial

import torch
from torch import Tensor, nn

from attnprobe.capturing.edits import Edit, EditInfo
from attnprobe.capturing.readers import (
    _describe,
    _mha_output,
    _OutputEdit,
    _Probe,
    _ProbeMode,
    _Recorder,
    _SoftmaxMode,
)
from attnprobe.capturing.sites import (
    BUILTIN_SITES,
    Observation,
    Site,
    Skipped,
    builtin_site,
    candidates,
    find_unreadable,
    resolve_module,
)
from attnprobe.capturing.trace import CheckedOnRead, LazyTokens, Trace
from attnprobe.errors import AttnprobeError, InputError, SiteError, UnknownNameError

__all__ = ["capture", "Capture", "probe"]

log = logging.getLogger("attnprobe")

_MHA_SIGNATURE = inspect.signature(nn.MultiheadAttention.forward)


class Capture:
    """A planned capture; enter it with ``with`` (see :func:`capture`)."""

    def __init__(self, model, sites, grads, edits, states, state_grads, src_lens, tgt_lens):
        if not isinstance(model, nn.Module):
            raise InputError(f"capture() needs a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.grads = bool(grads)
        self.state_grads = bool(state_grads)
        self._sites_arg, self._edits_arg, self._states_arg = sites, edits, states
        self._user_lens = (src_lens, tgt_lens)
        self._handles: list = []
        self._tensor_handles: list = []
        self._recorders: list[_Recorder] = []
        self._output_edits: list[_OutputEdit] = []
        self._inputs: list[tuple[Tensor, Tensor, Tensor]] = []
        self._state = "planned"
        self._trace: Trace | None = None
        self._final_lens: tuple[Tensor | None, Tensor | None] | None = None
        self._restore: list[Callable[[], None]] = []
        #: zero-config only: attention-like modules not captured, and why
        self.skipped: list[Skipped] = []

    # -- planning (no hooks) ---------------------------------------------------

    def _interface(self):
        """The model when it implements attnprobe's model interface (duck-typed: capture
        knows no model family), else None: a bare ``nn.Module``. Decided once per capture
        (``sites`` may be a property that builds its list)."""
        if not hasattr(self, "_iface"):
            model = self.model
            is_iface = callable(getattr(model, "encode", None)) and hasattr(model, "sites")
            self._iface = model if is_iface else None
        return self._iface

    def _root(self) -> nn.Module:
        """The module that site paths are relative to (``site_root`` of an adapter)."""
        iface = self._interface()
        return getattr(iface, "site_root", None) or self.model

    def _plan(self) -> None:
        root = self._root()
        sites, no_sites = self._resolve_sites(root)
        keys = [s.key for s in sites]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise InputError(f"two sites share the key(s) {dup}", fix="give them distinct names")
        edits = self._resolve_edits(root, sites)
        for site in sites:
            self._recorders.append(
                _Recorder(self, site, resolve_module(root, site.path), edits.get(site.key))
            )
        states = self._resolve_states(root)
        if states is not None:
            self._recorders.append(_Recorder(self, states, resolve_module(root, states.path), None))
        if no_sites is not None and states is None and not self._output_edits:
            raise no_sites  # nothing to capture and nothing to edit
        for rec in self._recorders:
            if rec.site.read == "mha" and not isinstance(rec.module, nn.MultiheadAttention):
                raise SiteError(f"{rec.where}: read='mha' needs an nn.MultiheadAttention")

    def _resolve_sites(self, root) -> tuple[list[Site], AttnprobeError | None]:
        """The attention sites, and the error to raise if there are none and nothing else
        (encoder states, output edits) is asked for: a model without attention is
        capturable for its states alone."""
        declared = getattr(self.model, "sites", None)
        declared = list(declared) if isinstance(declared, list | tuple) else None
        if self._sites_arg is None:
            if declared:
                return declared, None
            return self._discover(root)
        if isinstance(self._sites_arg, Site | str):
            raise InputError(
                "sites must be a list of Site objects or module paths",
                fix="wrap a single site in a list: sites=[site]",
            )
        by_key = {s.key: s for s in declared or []}
        out = []
        for entry in self._sites_arg:
            if isinstance(entry, Site):
                out.append(entry)
            elif isinstance(entry, str) and entry in by_key:
                out.append(by_key[entry])
            elif isinstance(entry, str):
                module = resolve_module(root, entry)  # did-you-mean on a typo
                site = builtin_site(root, entry)
                if site is None:
                    raise SiteError(
                        f"{type(module).__name__} at {entry!r} is not a known attention module; "
                        "declare how to read it: attnprobe.Site(path, read='softmax' | index | "
                        "'output', pattern=...)",
                    )
                out.append(site)
            else:
                raise InputError(f"a site is a Site or a module path, got {type(entry).__name__}")
        if not out:
            return [], InputError(
                "sites is empty and neither states nor an output edit is asked for",
                fix="leave sites=None for the model's own sites",
            )
        return out, None

    def _discover(self, root) -> tuple[list[Site], AttnprobeError | None]:
        """Zero-config sites: those a built-in spec knows. Every other attention-like module
        (found by its code or name, or running a fused kernel) is skipped, said so in
        ``self.skipped``, the log and the trace; no cross-attention at all is an error."""
        found, guesses = [], []
        for c in candidates(root):
            (found if c.spec in BUILTIN_SITES else guesses).append(c)
        declare = "not a built-in spec, so declare it to capture it: sites=[{}]"
        self.skipped = find_unreadable(root) + [
            Skipped(c.site.path, f"{c.reason}; {declare.format(c.site.to_code())}") for c in guesses
        ]
        sites = [c.site for c in found]
        if self.skipped:
            log.warning(
                "capture(%s): skipped %d attention-like module(s) without a built-in spec:\n  %s",
                type(root).__name__,
                len(self.skipped),
                "\n  ".join(map(str, self.skipped)),
            )
        if not sites and not self.skipped:
            return [], SiteError(
                f"no attention sites known for {type(root).__name__}: pass "
                "sites=[attnprobe.Site(path, read=...)]; attnprobe.find_sites(model) lists "
                "candidates (a model without attention: capture its states with states=True)",
            )
        if not any(s.role == "cross" for s in sites):
            raise SiteError(self._no_cross_message(root, sites))
        return sites, None

    def _no_cross_message(self, root, sites: list[Site]) -> str:
        """One line (the CLI shows errors as one line): what was found, skipped, the fix."""
        parts = [f"capture({type(root).__name__}) found no cross-attention to capture"]
        if sites:
            parts.append("found only " + ", ".join(f"{s.key} ({s.role})" for s in sites))
        if self.skipped:
            listed = " ".join(f"[{s}]" for s in self.skipped)
            parts.append(f"skipped {len(self.skipped)} module(s) no built-in spec reads: {listed}")
        fix = (
            "fix: declare the cross-attention, sites=[attnprobe.Site(path, read=...)] "
            "(attnprobe.find_sites(model, example=...) measures candidates), or compute it "
            "without a fused kernel (a softmax, or nn.MultiheadAttention) so that its weights "
            "exist; to capture only encoder states or output edits, pass sites=[]"
        )
        if sites:
            fix += f"; to capture only what was found, name it: sites={[s.key for s in sites]}"
        return "; ".join(parts) + ". " + fix[0].upper() + fix[1:]

    def _resolve_edits(self, root, sites: list[Site]) -> dict[str, Callable]:
        """Split ``edits`` into attention-weight edits (returned, by site key) and output
        edits (kept in ``self._output_edits``, in the order given)."""
        edits: dict[str, Callable] = {}
        modules = None
        for key, fn in (self._edits_arg or {}).items():
            name = key.key if isinstance(key, Site) else key
            if not callable(fn):
                raise InputError(
                    f"the edit for {name!r} is not callable: {fn!r}",
                    fix="pass fn(tensor, info) -> tensor, e.g. attnprobe.capturing.edits.uniform()",
                )
            if isinstance(key, Site) and key.role == "states":
                match = []  # a states site is edited as a module output
            elif isinstance(key, Site):
                match = [s for s in sites if s.key == key.key]
            else:
                match = [s for s in sites if name in (s.key, s.path)]
            if not match:
                if modules is None:
                    modules = dict(root.named_modules())
                path = key.path if isinstance(key, Site) else name
                if not isinstance(path, str) or path not in modules:
                    choices = [s.key for s in sites] + [p for p in modules if p]
                    raise UnknownNameError("site to edit (or module path)", str(name), choices)
                read = key.read if isinstance(key, Site) else "output"
                if read in ("softmax", "mha"):
                    raise SiteError(
                        f"an output edit of {path!r} replaces what the module returns; "
                        f"read={read!r} is for attention sites"
                    )
                self._output_edits.append(_OutputEdit(path, modules[path], fn, read))
                continue
            site = match[0]
            if site.read not in ("output", "softmax", "mha"):
                raise SiteError(
                    f"site {site.key!r} reads the weights from what {site.path!r} returns, after "
                    "the module used them; replacing them would not change the model's output. "
                    "Declare the site with read='softmax' to edit the softmax inside its forward",
                )
            edits[site.key] = fn
        return edits

    def _resolve_states(self, root) -> Site | None:
        arg = self._states_arg
        if self.state_grads and not arg:
            raise InputError("state_grads=True needs states=True (or a states site)")
        if arg is None or arg is False:
            return None
        if arg is True:
            site = getattr(self.model, "states_site", None)
            if site is None:
                raise SiteError(
                    f"{type(self.model).__name__} declares no encoder-states site; pass "
                    "states='path.to.module' or a Site(..., role='states')",
                )
        elif isinstance(arg, str):
            site = Site(arg, read="output", pattern="full", role="states")
        elif isinstance(arg, Site):
            site = arg if arg.role == "states" else None
            if site is None:
                raise InputError(f"states site {arg.key!r} must have role='states'")
        else:
            raise InputError(f"states must be True, a module path or a Site, got {arg!r}")
        resolve_module(root, site.path)
        return site

    # -- entering and leaving --------------------------------------------------

    def __enter__(self) -> Capture:
        if self._state != "planned":
            raise InputError("a Capture can be entered once; call attnprobe.capture() again")
        self._plan()  # everything that can be refused is refused before any hook exists
        self._state = "active"
        try:
            self._change_state()
            self._register()
        except BaseException:
            self._cleanup()
            self._state = "failed"
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._cleanup()
        self._state = "done" if exc_type is None else "failed"
        if exc_type is None:
            silent = [r for r in self._recorders if not r.calls]
            if silent:
                rec = silent[0]
                raise SiteError(
                    f"{rec.where} never fired during the capture"
                    + self._silence_hint(rec)
                    + "; fix: check that the code inside the with block calls this module "
                    "(and that the site path is the module that computes the attention)",
                )
            unused = [e for e in self._output_edits if not e.calls]
            if unused:
                raise SiteError(
                    f"{unused[0].where} never fired during the capture; fix: check that the "
                    "code inside the with block calls this module",
                )
            gradless = [r for r in self._recorders if r.want_grads and not r.grads]
            if self._output_edits and gradless:  # an edit may cut every path: zeros, not an error
                log.debug(
                    "capture: no gradient reached %s (an output edit cut it)", gradless[0].where
                )
                gradless = []
            if gradless:
                raise SiteError(
                    f"{gradless[0].where}: gradients were asked for, but none reached it; call "
                    "loss.backward() inside the with block (and check that the loss depends on "
                    "the weights as the site reads them)",
                )
        return False

    def _silence_hint(self, rec: _Recorder) -> str:
        if isinstance(rec.module, nn.MultiheadAttention):
            return " (did a fused kernel bypass it, e.g. a TransformerEncoderLayer fast path?)"
        return ""

    def _change_state(self) -> None:
        if any(m.training for m in self.model.modules()):  # (a model in eval() is left alone)
            flags = [(m, m.training) for m in self.model.modules()]
            self._restore.append(lambda: [m.train(t) for m, t in flags])
            log.debug("capture: %s runs in eval() mode (restored afterwards)", type(self.model))
            self.model.eval()
        if any(isinstance(r.module, nn.MultiheadAttention) for r in self._recorders):
            fast = torch.backends.mha.get_fastpath_enabled()
            self._restore.append(lambda: torch.backends.mha.set_fastpath_enabled(fast))
            torch.backends.mha.set_fastpath_enabled(False)

    def _register(self) -> None:
        add = self._handles.append
        iface = self._interface()
        if iface is not None:
            add(_read_inputs(iface, self._on_interface_call))
        for oe in self._output_edits:  # before the recorders: they see the edited tensor
            add(oe.module.register_forward_hook(partial(_edit_output, oe)))
        for rec in self._recorders:
            m, read = rec.module, rec.site.read
            if read == "softmax":
                add(m.register_forward_pre_hook(partial(_enter_mode, rec)))
                add(m.register_forward_hook(partial(_leave_mode, rec), always_call=True))
            elif read == "mha":
                add(m.register_forward_pre_hook(partial(_mha_pre, rec), with_kwargs=True))
                add(
                    m.register_forward_hook(
                        partial(_mha_post, rec), with_kwargs=True, always_call=True
                    )
                )
            else:
                add(_read_hook(m, partial(_read_output, rec)))

    def _watch_grad(self, tensor: Tensor, fn: Callable[[Tensor], None]) -> None:
        """Call ``fn(grad)`` when a gradient reaches ``tensor`` (removed with the other hooks)."""
        self._tensor_handles.append(tensor.register_hook(fn))

    def _cleanup(self) -> None:
        for handle in [*self._handles, *self._tensor_handles]:
            handle.remove()
        self._handles.clear()
        self._tensor_handles.clear()
        for rec in self._recorders:  # modes a forward left behind (its hook did not run)
            rec.live.clear()  # no reference to the model's graph outlives the block
            rec.cap = None  # no cycle: a finished capture is freed as soon as it is dropped
            while rec.modes:
                mode = rec.modes.pop()
                if torch.overrides._get_current_function_mode() is mode:
                    mode.__exit__(None, None, None)
        while self._restore:
            self._restore.pop()()

    # -- lengths and inputs --------------------------------------------------

    def _on_interface_call(self, module, args, kwargs):
        names = ("src", "src_lens", "tgt_in")
        values = list(args[:3]) + [kwargs.get(n) for n in names[len(args[:3]) :]]
        if all(isinstance(v, Tensor) for v in values):
            self._inputs.append(tuple(v.detach().clone() for v in values))

    def _lengths(self) -> tuple[Tensor | None, Tensor | None]:
        """(src_lens, tgt_lens) as given or read from the model's input (kept once the
        block has ended: the inputs no longer change)."""
        if self._state == "done" and self._final_lens is not None:
            return self._final_lens
        src_lens, tgt_lens = self._user_lens
        if self._inputs:
            src, lens, tgt_in = self._inputs[-1]
            src_lens = lens if src_lens is None else src_lens
            if tgt_lens is None:  # decoder inputs end at the model's target padding
                tgt_lens = (tgt_in != self._interface().pad_id("tgt")).sum(1)
        out = _as_lengths(src_lens), _as_lengths(tgt_lens)
        if self._state == "done":
            self._final_lens = out
        return out

    def _key_mask(self, site: Site, c: Tensor) -> Tensor:
        """[B, S] True at real key positions of a call's weights ``c`` [B, H, T, S]."""
        src_lens, tgt_lens = self._lengths()
        lens = tgt_lens if site.role == "decoder-self" else src_lens
        B, S = c.shape[0], c.shape[-1]
        if lens is None:
            return torch.ones(B, S, dtype=torch.bool, device=c.device)
        if len(lens) != B:
            raise SiteError(f"site {site.key!r}: {len(lens)} lengths for a batch of {B}")
        return torch.arange(S, device=c.device)[None, :] < lens.to(c.device)[:, None]

    # -- live tensors --------------------------------------------------------

    def live(self, key: str) -> Tensor:
        """The tensor a full-pattern or states site gave the model, *not* detached.

        Only inside the ``with`` block (the reference is dropped when it ends), so
        that the caller can differentiate with respect to it, e.g.
        ``torch.autograd.grad(f, cap.live("encoder.states"), grad_outputs=...,
        is_grads_batched=True)``. The tensor is in the module's own layout (the
        very tensor the model used downstream), not the Trace's canonical one.

        Raises
        ------
        SiteError : outside the block, a per-step site, or a site that has not fired yet.
        UnknownNameError : an unknown key.
        """
        if self._state != "active":
            raise SiteError("live tensors exist only inside the with block")
        recs = {r.site.key: r for r in self._recorders}
        if key not in recs:
            raise UnknownNameError("captured site", key, list(recs))
        rec = recs[key]
        if rec.site.role != "states" and rec.site.pattern != "full":
            raise SiteError(
                f"{rec.where} is per-step: it has one live tensor per step, not one tensor; "
                "live() is for full-pattern and states sites",
            )
        if not rec.live:
            raise SiteError(f"{rec.where} has not fired yet; run the model first")
        if len(rec.live) > 1:
            raise SiteError(f"{rec.where} fired {len(rec.live)} times; live() needs one call")
        return rec.live[0]

    # -- the trace -----------------------------------------------------------

    @property
    def trace(self) -> Trace:
        """The frozen :class:`~attnprobe.capturing.trace.Trace`, once the ``with`` block ended."""
        if self._state == "active":
            raise SiteError("the trace is complete when the with block ends; read it after")
        if self._state != "done":
            raise SiteError("this capture did not complete (never entered, or its block raised)")
        if self._trace is None:
            self._trace = self._build()
        return self._trace

    def _build(self) -> Trace:
        if len(self._inputs) > 1:
            raise SiteError(
                f"the model ran {len(self._inputs)} forward passes in one capture; a Trace holds "
                "one: use one `with capture(...)` per batch",
            )
        attention, grads, states, state_grads, sites = {}, {}, None, None, []
        for rec in self._recorders:
            w = rec.stack(rec.calls)
            g = None
            if rec.want_grads:
                zero = torch.zeros_like(rec.calls[0])
                g = rec.stack([rec.grads.get(k, zero) for k in range(len(rec.calls))])
            if rec.site.role == "states":
                states, state_grads = w, g
            else:
                attention[rec.site.key] = w
                if g is not None:
                    grads[rec.site.key] = g
            sites.append(rec.site)
        src_lens, tgt_lens = self._lengths()
        known = src_lens is not None
        src_lens, tgt_lens = self._default_lengths(sites, attention, src_lens, tgt_lens)
        src = tgt = src_tokens = tgt_tokens = None
        if self._inputs:
            src, _, tgt = (t.cpu() for t in self._inputs[-1])
            src_tokens, tgt_tokens = self._tokens(src, tgt, src_lens, tgt_lens)
        if known and any(s.role == "cross" for s in sites):  # checked when first read
            attention = CheckedOnRead(attention, partial(_check_padding, tuple(sites), src_lens))
        return Trace(
            sites=tuple(sites),
            attention=attention,
            src_lens=src_lens,
            tgt_lens=tgt_lens,
            grads=grads,
            states=states,
            state_grads=state_grads,
            src=src,
            tgt=tgt,
            src_tokens=src_tokens,
            tgt_tokens=tgt_tokens,
            meta=self._meta(),
        )

    def _default_lengths(self, sites, attention, src_lens, tgt_lens):
        """Lengths the model did not tell: the full padded sizes (no padding assumed)."""
        for site in sites:
            if site.role == "states":
                continue
            B, _, T, S = attention[site.key].shape
            if site.role == "cross":
                src_lens = torch.full((B,), S) if src_lens is None else src_lens
                tgt_lens = torch.full((B,), T) if tgt_lens is None else tgt_lens
            elif site.role == "decoder-self" and tgt_lens is None:
                tgt_lens = torch.full((B,), T)
            elif site.role == "encoder-self" and src_lens is None:
                src_lens = torch.full((B,), S)
        if attention:
            B = next(iter(attention.values())).shape[0]
        else:  # a model without attention: the batch (and source size) of its states
            rec = next((r for r in self._recorders if r.site.role == "states"), None)
            first = rec.canonical(rec.calls[0]) if rec is not None and rec.calls else None
            B = 0 if first is None else first.shape[0]
            if first is not None and src_lens is None:
                src_lens = torch.full((B,), first.shape[1])
        none = torch.zeros(B, dtype=torch.long)  # a side no site has (encoder-only models)
        return (none if src_lens is None else src_lens), (none if tgt_lens is None else tgt_lens)

    def _tokens(self, src, tgt, src_lens, tgt_lens):
        """Token rows of both sides, spelled only when the trace's tokens are first read.

        A model that has a ``token_table(side)`` (its vocabulary's tokens by id, an
        optional part of :mod:`attnprobe.models.interface`) gives the trace that list:
        nothing is spelled during the pass, and the trace keeps the ids and the
        list, never the model (:class:`~attnprobe.capturing.trace.LazyTokens`).
        Without one the trace has no token rows.
        """
        table_of = getattr(self._interface(), "token_table", None)
        if table_of is None:
            return None, None
        return _spelled_later(src, src_lens, table_of("src")), _spelled_later(
            tgt, tgt_lens, table_of("tgt")
        )

    def _meta(self) -> dict:
        from attnprobe import __version__

        edits = {
            r.site.key: getattr(r.edit, "name", repr(r.edit))
            for r in self._recorders
            if r.edit is not None
        }
        for e in self._output_edits:
            edits[e.path] = getattr(e.fn, "name", repr(e.fn))
        return {
            "attnprobe": __version__,
            "torch": torch.__version__,
            "model": type(self._root()).__name__,
            "grads": self.grads,
            "edits": edits,
            "skipped": [s._asdict() for s in self.skipped],
        }


def _as_lengths(x) -> Tensor | None:
    return None if x is None else torch.as_tensor(x).long().cpu()


def _check_padding(sites: tuple[Site, ...], src_lens: Tensor, attention) -> None:
    """Cross-attention must not reach padded source positions (lengths are wrong otherwise).

    Run when the trace's attention is first read (:class:`CheckedOnRead`)."""
    for site in sites:
        if site.role != "cross":
            continue
        w = attention[site.key]  # [B, H, T, S]
        S = w.shape[3]
        first = int(src_lens.min()) if w.numel() else S  # columns before: all real
        if first >= S:
            continue
        real = torch.arange(first, S)[None, :] < src_lens[:, None]  # [B, S - first]
        leak = float(w[..., first:].masked_fill(real[:, None, None, :], 0).abs().max())
        if leak > 1e-5:
            raise SiteError(
                f"site {site.key!r} puts weight {leak:.3g} outside the given lengths; the lengths "
                "do not match the model's padding, or the model attends to padding (give it a "
                "key padding mask)",
            )


_NOTHING = object()


def _spelled_later(ids: Tensor, lens: Tensor, table) -> LazyTokens | None:
    """Token rows of ``ids`` (real positions up to ``lens``) spelled from ``table`` (a
    vocabulary's tokens by id) when first read; None without a table."""
    if table is None:
        return None

    def make():
        rows = zip(ids.tolist(), lens.tolist(), strict=True)
        return [[table[i] for i in row[:n]] for row, n in rows]

    return LazyTokens(make)


class _InForward:
    """A forward hook run from inside the module's own forward: removable like a hook.

    While it is in place the module's ``forward`` is a function that calls the
    original and then ``hook(module, args, output)`` (its result, when not None,
    replaces the output), so that torch calls the module on its fast path: a
    per-step module called 20 times a pass cost 0.3-0.6 ms more per pass with a
    registered forward hook than with this. :func:`_read_hook` uses it only where
    nothing else hooks the module, which is where the two run alike.
    """

    def __init__(self, module: nn.Module, hook: Callable | None, pre: Callable | None = None):
        self.module = module
        self.saved = module.__dict__.get("forward", _NOTHING)
        inner = module.forward

        def forward(*args, **kwargs):
            if pre is not None:
                pre(module, args, kwargs)
            out = inner(*args, **kwargs)
            new = None if hook is None else hook(module, args, out)
            return out if new is None else new

        module.__dict__["forward"] = forward

    def remove(self) -> None:
        if self.module is None:
            return
        if self.saved is _NOTHING:
            self.module.__dict__.pop("forward", None)
        else:
            self.module.__dict__["forward"] = self.saved
        self.module = None


def _read_hook(module: nn.Module, hook: Callable):
    """``hook`` on ``module``'s output: in its forward where no other hook would run
    (:class:`_InForward`), else a registered forward hook (which then runs after those
    registered before it, as always)."""
    if _alone(module):
        return _InForward(module, hook)
    return module.register_forward_hook(hook)


def _read_inputs(module: nn.Module, pre: Callable):
    """``pre(module, args, kwargs)`` before ``module``'s forward runs, as :func:`_read_hook`
    places it (else a forward pre-hook with keyword arguments); ``pre`` only reads."""
    if _alone(module):
        return _InForward(module, None, pre)
    return module.register_forward_pre_hook(pre, with_kwargs=True)


def _alone(module: nn.Module) -> bool:
    """Whether nothing hooks ``module`` (nor every module) and its forward is its class's."""
    from torch.nn.modules import module as torch_module

    return not (
        module._forward_hooks
        or module._forward_pre_hooks
        or getattr(torch_module, "_global_forward_hooks", True)
        or getattr(torch_module, "_global_forward_pre_hooks", True)
        or "forward" in module.__dict__
        or isinstance(module, torch.jit.ScriptModule)
    )


# -- hook functions (registered only by Capture._register) ---------------------


def _read_output(rec: _Recorder, module, args, output):
    value = rec.pick(output)
    new = rec.process(value)
    return new if rec.site.read == "output" and new is not value else None


def _edit_output(oe: _OutputEdit, module, args, output):
    value = oe.pick(output)
    info = EditInfo(oe.path, oe.calls, None, None)
    oe.calls += 1
    new = oe.fn(value, info)
    if new is value:  # the identity: the model runs exactly as without the edit
        return None
    if not isinstance(new, Tensor) or new.shape != value.shape:
        raise SiteError(
            f"{oe.where}: the edit returned {_describe(new)}, expected a tensor "
            f"{list(value.shape)} like the module's output",
        )
    return oe.put(output, new)


def _enter_mode(rec: _Recorder, module, args):
    mode = _SoftmaxMode(rec)
    rec.modes.append(mode)
    mode.__enter__()


def _leave_mode(rec: _Recorder, module, args, output):
    mode = rec.modes.pop()
    mode.__exit__(None, None, None)
    if output is None:  # the forward raised; only leave the mode
        return None
    want = rec.site.call
    if mode.softmaxes == 0:
        hidden = f": it runs {mode.hidden[0]}" if mode.hidden else ""
        raise SiteError(
            f"{rec.where}: no softmax was computed at the top level of its forward{hidden}. "
            "Fix: point the site at the module that calls the softmax, or read the weights "
            "from its output (read=index)",
        )
    if want is None and mode.softmaxes > 1:
        raise SiteError(
            f"{rec.where}: its forward computed {mode.softmaxes} softmaxes; say which one holds "
            "the attention with Site(..., call=k) (0-based, in call order)",
        )
    if mode.deferred is not None:
        raise mode.deferred
    if want is not None and want >= mode.softmaxes:
        raise SiteError(
            f"{rec.where}: call={want}, but its forward computed only {mode.softmaxes} softmax(es)"
        )
    return None


def _mha_pre(rec: _Recorder, module, args, kwargs):
    bound = _MHA_SIGNATURE.bind(module, *args, **kwargs).arguments
    bound.pop("self")
    rec.flags.append((bound.get("need_weights", True), bound.get("average_attn_weights", True)))
    bound["need_weights"], bound["average_attn_weights"] = True, False
    query = bound["query"]
    if bound.get("is_causal") and bound.get("attn_mask") is None:
        T = query.shape[1 if module.batch_first and query.dim() == 3 else 0]
        bound["attn_mask"] = torch.ones(T, T, dtype=torch.bool, device=query.device).triu(1)
    if query.dim() != 3:
        raise SiteError(f"{rec.where}: capture needs batched input [B, T, E] (or [T, B, E])")
    return (bound.pop("query"), bound.pop("key"), bound.pop("value")), bound


def _mha_post(rec: _Recorder, module, args, kwargs, output):
    need, average = rec.flags.pop()
    if output is None:  # the forward raised
        return None
    out, weights = output
    if weights is None:
        raise SiteError(
            f"{rec.where}: nn.MultiheadAttention returned no weights even with "
            "need_weights=True (a fused path?)"
        )
    new = rec.process(weights)  # [B, H, T, S]
    if new is not weights or rec.want_grads:
        out = _mha_output(module, args[2], new, rec.where)
    return out, (None if not need else new.mean(1) if average else new)


def _probe_enter(p: _Probe, path: str, module, args):
    p.enter(path)


def _probe_leave(p: _Probe, path: str, module, args, output):
    p.leave(path, output)  # output is None when the forward raised


def probe(
    model: nn.Module, run: Callable[[], object], *, src_len: int | None = None
) -> tuple[list[Observation], dict[str, int]]:
    """Run ``run()`` once and report every distribution computed or returned by a module.

    The engine of ``find_sites(model, example=...)``: a forward pre-hook and hook on
    every module track which forward is running, and a ``TorchFunctionMode`` sees
    each softmax. The model runs in ``eval()`` mode without gradients; the hooks,
    the mode and every module's ``training`` flag are put back also when ``run``
    raises.

    Parameters
    ----------
    model : the ``nn.Module`` whose modules are watched.
    run : a function of no arguments that runs it.
    src_len : only distributions over an axis of this size count (None: size >= 2).

    Returns
    -------
    (observations, calls) : the :class:`~attnprobe.capturing.sites.Observation` list,
        and how often each module ran (``{path: n}``, modules that ran).

    Examples
    --------
    >>> import torch
    >>> model = nn.ModuleDict({"norm": nn.Softmax(-1)})
    >>> seen, calls = probe(model, lambda: model["norm"](torch.zeros(2, 4)))
    >>> [(o.path, o.read, o.shape) for o in seen], calls
    ([('norm', 'softmax', (2, 4))], {'norm': 1})
    """
    p = _Probe(src_len)
    flags = [(m, m.training) for m in model.modules()]
    handles = []
    try:
        model.eval()
        for path, module in model.named_modules():
            handles.append(module.register_forward_pre_hook(partial(_probe_enter, p, path)))
            handles.append(
                module.register_forward_hook(partial(_probe_leave, p, path), always_call=True)
            )
        with torch.no_grad(), _ProbeMode(p):
            run()
    finally:
        for handle in handles:
            handle.remove()
        for m, training in flags:
            m.train(training)
    return p.observations(), dict(p.calls)


# -- public ----------------------------------------------------------------------


def capture(
    model: nn.Module,
    sites: Iterable[Site | str] | None = None,
    grads: bool = False,
    edits: Mapping[Site | str, Callable | Edit] | None = None,
    *,
    states: bool | str | Site = False,
    state_grads: bool = False,
    src_lens=None,
    tgt_lens=None,
) -> Capture:
    """Capture attention (and gradients) of ``model`` inside a ``with`` block.

    Parameters
    ----------
    model : a reference :class:`~attnprobe.models.reference.rnn.Seq2Seq`, a model made by
        :func:`attnprobe.wrap`, or any ``nn.Module`` (then declare ``sites``).
    sites : :class:`~attnprobe.capturing.sites.Site` objects or module paths (a path must
        match a built-in spec). ``None``: the model's own ``sites``, else every
        module a built-in spec recognises.
    grads : also record dL/d(weights) when ``backward()`` runs inside the block.
    edits : ``{site or key: fn(weights [B, H, Tq, S], info) -> weights}``; the
        model uses what ``fn`` returns (see :mod:`attnprobe.capturing.edits`). Only sites
        that read ``"output"``, ``"softmax"`` or ``"mha"`` can be edited. A key
        that is a module path but no attention site of this capture (or a
        ``Site`` of such a module, ``read=i`` for one element of a tuple) is an
        *output edit*: ``fn(output, info)``
        gets the tensor the module returns (in its own layout; ``info.step`` is
        the call's index, ``info.rows`` and ``info.mask`` are None) and the
        model uses what it returns, e.g. ``{"decoder.hook_init":
        attnprobe.capturing.edits.detach()}`` to stop the gradient on one path.
    states : also record encoder states [B, S, D]: ``True`` (the model's own
        ``states_site``), a module path, or a ``Site(..., role="states")``.
    state_grads : with ``states``, also record dL/d(states).
    src_lens, tgt_lens : [B] lengths, for models that do not take them as input
        (a decoder run step by step); default: from the model's input, else
        the full padded sizes.

    Returns
    -------
    Capture : a context manager; ``cap.trace`` is the frozen Trace after the block,
        ``cap.live(key)`` the non-detached tensor of a full or states site inside it,
        ``cap.skipped`` (with ``sites=None``) the attention-like modules it did not
        capture, each with the reason (also logged, and in ``trace.meta["skipped"]``).

    Raises
    ------
    SiteError : a site that cannot be read, never fired, or an edit that cannot work;
        with ``sites=None``, a model in which no cross-attention was found (the
        message names what was found and skipped).
    UnknownNameError : an unknown module path or site key ("did you mean").

    Notes
    -----
    The model runs in ``eval()`` mode inside the block; every module's
    ``training`` flag is restored afterwards, and all hooks are removed, also
    when the block raises.

    Examples
    --------
    >>> import torch, attnprobe
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> model = build_model(ModelConfig(src_vocab=8, tgt_vocab=8, emb_dim=4, enc_dim=4,
    ...                                 hidden_dim=8), seed=0)
    >>> src, lens, tgt_in = torch.tensor([[4, 5, 3]]), torch.tensor([3]), torch.tensor([[2, 6]])
    >>> with attnprobe.capture(model) as cap:
    ...     out = model(src, lens, tgt_in)
    >>> w = cap.trace.example(0).matrix()        # [T, S]
    >>> tuple(w.shape), torch.allclose(w, out.attention[0])
    ((2, 3), True)

    An output edit: the initial decoder state keeps its value, not its gradient.

    >>> from attnprobe.capturing import edits
    >>> with attnprobe.capture(model, edits={"decoder.hook_init": edits.detach()},
    ...                        states=True, state_grads=True) as cap:
    ...     model(src, lens, tgt_in).logits[0, -1, 6].backward()
    >>> cap.trace.meta["edits"]
    {'decoder.hook_init': 'detach'}
    """
    return Capture(model, sites, grads, edits, states, state_grads, src_lens, tgt_lens)

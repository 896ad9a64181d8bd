"""Readers: how the weights of one module call are found, checked, recorded and edited.

What :func:`attnprobe.capture` does with a module call once its hook fired lives
here; the hooks themselves (registering, removing, the ``with`` block) live in
:mod:`attnprobe.capturing.hooks`, the only module that registers any. A reader
never registers a hook: it asks its :class:`~attnprobe.capturing.hooks.Capture`
to watch a tensor's gradient (``Capture._watch_grad``).

- :class:`_Recorder`: per-site records; picks the weights out of an output
  (``Site.read``), brings them to ``[B, H, T, S]``, checks them, applies an edit.
- :class:`_OutputEdit`: an edit of what any module returns.
- :class:`_SoftmaxMode`: the ``TorchFunctionMode`` that reads the softmax
  computed inside one forward (``read="softmax"``).
- :func:`_mha_output`: an ``nn.MultiheadAttention``'s output recomputed from
  (edited) weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from attnprobe.capturing.edits import EditInfo
from attnprobe.capturing.sites import Observation, Site
from attnprobe.errors import SiteError, UnknownNameError

if TYPE_CHECKING:
    from attnprobe.capturing.hooks import Capture

ATTENTION_AXES = "BHTS"  # canonical attention layout
STATES_AXES = "BSD"  # canonical encoder-state layout

# the functions through which a softmax is computed at the top level of a forward
_SOFTMAX = frozenset({torch.softmax, F.softmax, torch._C.TensorBase.softmax, torch.special.softmax})
# functions whose softmax happens out of the mode's sight
_HIDDEN_SOFTMAX = {
    F.scaled_dot_product_attention: "torch.nn.functional.scaled_dot_product_attention, a fused "
    "kernel that never materialises the attention weights",
    F.multi_head_attention_forward: "torch.nn.functional.multi_head_attention_forward, whose "
    "softmax a TorchFunctionMode cannot see (declare the nn.MultiheadAttention as a site "
    "with read='mha')",
}


def _describe(x) -> str:
    if isinstance(x, Tensor):
        return f"Tensor {list(x.shape)}"
    if isinstance(x, tuple | list):
        return f"{type(x).__name__} of {len(x)} ({', '.join(_describe(v) for v in x)})"
    return type(x).__name__


def _to_canonical(x: Tensor, layout: str, axes: str) -> Tensor:
    """Permute ``x`` (axes named by ``layout``) to ``axes``, adding missing axes of size 1."""
    letters = list(layout)
    for a in axes:
        if a not in letters:
            x = x.unsqueeze(-1)
            letters.append(a)
    return x.permute([letters.index(a) for a in axes])


def _canonicalizer(layout: str, axes: str) -> Callable[[Tensor], Tensor]:
    """A fast :func:`_to_canonical` for one layout: when the axes present come in
    canonical order it is one indexing op that inserts the missing axes (a view)."""
    present = [a for a in axes if a in layout]
    if present != list(layout):
        return partial(_to_canonical, layout=layout, axes=axes)
    index = tuple(slice(None) if a in layout else None for a in axes)
    return lambda x: x[index]


def _from_canonical(c: Tensor, layout: str, axes: str, shape) -> Tensor:
    """Inverse of :func:`_to_canonical`: back to ``layout`` and the original ``shape``."""
    letters = list(layout) + [a for a in axes if a not in layout]
    return c.permute([axes.index(a) for a in letters]).reshape(shape)


class _Recorder:
    """Per-site state of one capture: the records and what to do on each call."""

    def __init__(self, cap: Capture, site: Site, module: nn.Module, edit):
        self.cap, self.site, self.module, self.edit = cap, site, module, edit
        self.axes = STATES_AXES if site.role == "states" else ATTENTION_AXES
        self.want_grads = cap.grads if site.role != "states" else cap.state_grads
        # what each call gave, detached copies in the module's own layout (made canonical
        # once, when the trace is built: :meth:`stack`), and call index -> its gradient
        self.calls: list[Tensor] = []
        self.grads: dict[int, Tensor] = {}
        self.checked = False
        self.modes: list[_SoftmaxMode] = []  # softmax modes entered and not yet left
        self.flags: list[tuple[bool, bool]] = []  # mha: what each open call asked for
        self.live: list[Tensor] = []  # what the model used, not detached (cleared on exit)
        # by ndim: (layout, canonicalizer, index of a per-step call's one-row T axis or None)
        self._canonical: dict[int, tuple[str, Callable[[Tensor], Tensor], int | None]] = {}
        self.layout: str | None = None  # the layout of the calls (the first call's)
        self._mixed = False  # calls of different layouts (then each is made canonical alone)
        self._per_step = site.pattern == "per_step" and self.axes == ATTENTION_AXES

    @property
    def where(self) -> str:
        return f"site {self.site.key!r} ({type(self.module).__name__} at {self.site.path!r})"

    # -- reading -----------------------------------------------------------

    def pick(self, output):
        """The weights tensor in a module's output, as ``Site.read`` says."""
        read = self.site.read
        if read == "output":
            value = output
        elif isinstance(read, int):
            if not isinstance(output, tuple | list):
                raise SiteError(
                    f"{self.where}: read={read} indexes the module's output, but it returned "
                    f"a {_describe(output)}",
                )
            if read >= len(output):
                raise SiteError(
                    f"{self.where}: read={read}, but the output has {len(output)} elements: "
                    f"{_describe(output)}"
                )
            value = output[read]
        elif isinstance(output, Mapping):
            if read not in output:
                raise UnknownNameError(f"output key of {self.where}", read, list(output))
            value = output[read]
        elif hasattr(output, read):
            value = getattr(output, read)
        else:
            raise SiteError(f"{self.where}: its output ({_describe(output)}) has no {read!r}")
        if not isinstance(value, Tensor) or not value.is_floating_point():
            hint = " (was the module asked not to return weights?)" if value is None else ""
            what = "encoder states" if self.site.role == "states" else "attention weights"
            raise SiteError(
                f"{self.where}: expected {what} (a float tensor) at read={read!r}, "
                f"found {_describe(value)}{hint}; fix: pick the tensor with Site(..., read=index)",
            )
        return value

    def _layout(self, raw: Tensor) -> str:
        layout = self.site.layout_for(raw.dim())
        if layout is None:
            declared = f" and layout {self.site.layout!r}" if self.site.layout else ""
            raise SiteError(
                f"{self.where}: got a tensor {list(raw.shape)}, which does not fit pattern "
                f"{self.site.pattern!r}{declared}",
            )
        return layout

    def _check_values(self, c: Tensor) -> None:
        """On the first call: are these probabilities (rows summing to at most 1)?"""
        if self.site.role == "states":
            return
        tol = 1e-4 if c.dtype in (torch.float32, torch.float64) else 1e-2
        c = c.detach()
        lo, hi = float(c.min()), float(c.sum(-1).max())
        if lo < -tol or hi > 1 + tol or hi != hi:
            raise SiteError(
                f"{self.where}: the values read are not attention weights (min {lo:.3g}, "
                f"largest row sum {hi:.3g}; expected probabilities with rows summing to at "
                "most 1)",
            )

    # -- one call ------------------------------------------------------------

    def _known(self, raw: Tensor) -> tuple[str, Callable[[Tensor], Tensor], int | None]:
        """How a call of ``raw.dim()`` dimensions is read (worked out once per ndim)."""
        layout = self._layout(raw)
        t_axis = layout.index("T") if self._per_step and "T" in layout else None
        known = layout, _canonicalizer(layout, self.axes), t_axis
        self._canonical[raw.dim()] = known
        return known

    def process(self, raw: Tensor) -> Tensor:
        """Record (and maybe edit) the weights of one call; returns what the model should use.

        Only what must happen during the forward happens here: the call is checked
        (its shape; its values on the first call), edited, watched for its
        gradient, and a detached copy is kept in the module's own layout. Making
        the copies canonical and stacking them is left to :meth:`stack`.
        """
        known = self._canonical.get(raw.dim()) or self._known(raw)
        layout, canonical, t_axis = known
        if t_axis is not None and raw.shape[t_axis] != 1:
            raise SiteError(
                f"{self.where}: a per-step call gives one row per sentence, got "
                f"{raw.shape[t_axis]} rows ({list(raw.shape)})",
            )
        if self.layout is not layout:
            if self.layout is not None:
                self._mixed = True
            self.layout = layout
        if not self.checked:
            self._check_values(canonical(raw))
            self.checked = True
        step = len(self.calls)
        if self.edit is not None:
            raw = self._edit(raw, layout, canonical, step)
        if self.want_grads:
            raw = self._track(raw)
            self.cap._watch_grad(raw, partial(self._on_grad, step))
        self.calls.append(raw.detach().clone() if raw.requires_grad else raw.clone())
        self.live.append(raw)
        return raw

    def _edit(self, raw: Tensor, layout: str, canonical, step: int) -> Tensor:
        """The call's weights as the edit makes them, back in the module's layout."""
        c = canonical(raw)
        per_step = self.site.pattern == "per_step"
        rows = slice(step, step + 1) if per_step else slice(0, c.shape[2])
        info = EditInfo(self.site.key, step, rows, self.cap._key_mask(self.site, c))
        new = self.edit(c, info)
        if new is c:
            return raw
        if not isinstance(new, Tensor) or new.shape != c.shape:
            raise SiteError(
                f"{self.where}: the edit returned {_describe(new)}, expected a tensor "
                f"{list(c.shape)} [B, H, T, S] like its input",
            )
        return _from_canonical(new, layout, self.axes, raw.shape)

    def canonical(self, t: Tensor) -> Tensor:
        """One recorded call (or its gradient) in the canonical layout (a view)."""
        known = self._canonical.get(t.dim()) or self._known(t)
        return known[1](t)

    def stack(self, calls: list[Tensor]) -> Tensor:
        """The recorded ``calls`` (or their gradients) as one canonical CPU tensor:
        [B, H, T, S] (per-step calls joined along T), or the one call of a full site.

        Examples
        --------
        >>> import torch
        >>> from types import SimpleNamespace
        >>> cap = SimpleNamespace(grads=False, state_grads=False)
        >>> rec = _Recorder(cap, Site("a", pattern="per_step"), nn.Identity(), None)
        >>> for t in range(3):
        ...     _ = rec.process(torch.full((2, 4), 0.25))   # [B, S] per step
        >>> tuple(rec.stack(rec.calls).shape)                # [B, H, T, S]
        (2, 1, 3, 4)
        """
        if self.site.role == "states" or self.site.pattern == "full":
            if len(calls) > 1:
                raise SiteError(
                    f"{self.where} fired {len(calls)} times; pattern 'full' expects one call per "
                    "pass (declare pattern='per_step' if it runs once per decoder step)",
                )
            return self.canonical(calls[0]).cpu()
        layout = self.layout
        in_order = [a for a in self.axes if a in layout] == list(layout)
        try:
            if self._mixed or not in_order:  # each call made canonical, then joined
                return torch.cat([self.canonical(c) for c in calls], dim=2).cpu()
            if "T" in layout:  # one row per call: joined along the module's own T axis
                joined, layout = torch.cat(calls, dim=layout.index("T")), layout
            else:  # a new T axis where the canonical order puts it
                at = sum(self.axes.index(a) < self.axes.index("T") for a in layout)
                joined = torch.stack(calls, dim=at)
                layout = layout[:at] + "T" + layout[at:]
            return _canonicalizer(layout, self.axes)(joined).cpu()
        except RuntimeError:  # calls of different sizes in an axis other than T
            shapes = {tuple(c.shape[:2]) + tuple(c.shape[3:]) for c in map(self.canonical, calls)}
            raise SiteError(
                f"{self.where}: per-step calls of different shapes {sorted(shapes)}; capture "
                "needs a fixed batch across steps (beam search reorders and resizes it)",
            ) from None

    def _track(self, raw: Tensor) -> Tensor:
        """``raw``, made to require grad where it is safe, or a clear error."""
        if raw.requires_grad:
            return raw
        if not torch.is_grad_enabled():
            raise SiteError(
                f"{self.where}: grads=True, but the forward runs under torch.no_grad()",
            )
        if self.site.read not in ("output", "softmax", "mha"):
            raise SiteError(
                f"{self.where}: grads=True, but the weights were computed without gradient "
                "tracking and are only returned, not used downstream; declare the site "
                "with read='softmax'",
            )
        return raw.detach().requires_grad_()

    def _on_grad(self, step: int, grad: Tensor) -> None:
        g = (grad.detach() if grad.requires_grad else grad).clone()  # the module's layout
        self.grads[step] = self.grads[step] + g if step in self.grads else g


class _OutputEdit:
    """An edit of what one module returns (any module, not only an attention site)."""

    def __init__(self, path: str, module: nn.Module, fn: Callable, read="output"):
        self.path, self.module, self.fn, self.read = path, module, fn, read
        self.calls = 0

    @property
    def where(self) -> str:
        return f"output edit of {type(self.module).__name__} at {self.path!r}"

    def pick(self, output):
        read = self.read
        indexed = isinstance(read, int) and isinstance(output, tuple | list) and read < len(output)
        keyed = isinstance(read, str) and isinstance(output, Mapping) and read in output
        value = output if read == "output" else output[read] if indexed or keyed else None
        if not isinstance(value, Tensor):
            raise SiteError(
                f"{self.where}: read={read!r} found {_describe(output)}, not a tensor; fix: "
                "key the edit with Site(path, read=index) to edit one element of a tuple",
            )
        return value

    def put(self, output, new: Tensor):
        if self.read == "output":
            return new
        if isinstance(output, Mapping):
            return {**output, self.read: new}
        items = list(output)
        items[self.read] = new
        if hasattr(output, "_replace"):  # a NamedTuple
            return type(output)(*items)
        return type(output)(items)


class _SoftmaxMode(TorchFunctionMode):
    """Active only inside one site module's forward: reads / replaces its softmax."""

    def __init__(self, rec: _Recorder):
        super().__init__()
        self.rec = rec
        self.softmaxes = 0
        self.hidden: list[str] = []
        self.deferred: SiteError | None = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in _SOFTMAX:
            k, self.softmaxes = self.softmaxes, self.softmaxes + 1
            want = self.rec.site.call
            if want is not None and k == want:
                out = self.rec.process(out)
            elif want is None and k == 0:
                # the only softmax, unless a second one follows: then neither is read,
                # and the forward hook reports the count (not this softmax's shape)
                try:
                    out = self.rec.process(out)
                except SiteError as exc:
                    self.deferred = exc
        elif func in _HIDDEN_SOFTMAX:
            self.hidden.append(_HIDDEN_SOFTMAX[func])
        return out


def _mha_output(mha: nn.MultiheadAttention, value: Tensor, weights: Tensor, where: str) -> Tensor:
    """``out_proj(weights @ V)``: the module's output recomputed from weights [B, H, T, S]."""
    if mha.bias_v is not None or mha.add_zero_attn:
        raise SiteError(
            f"{where}: edits and gradients need an nn.MultiheadAttention without "
            "bias_kv or add_zero_attn"
        )
    E, H = mha.embed_dim, mha.num_heads
    v = value if mha.batch_first else value.transpose(0, 1)  # [B, S, Ev]
    w_v = mha.in_proj_weight[2 * E :] if mha._qkv_same_embed_dim else mha.v_proj_weight
    b_v = None if mha.in_proj_bias is None else mha.in_proj_bias[2 * E :]
    B, S, _ = v.shape
    v = F.linear(v, w_v, b_v).view(B, S, H, E // H).transpose(1, 2)  # [B, H, S, E/H]
    T = weights.shape[2]
    context = torch.matmul(weights, v).transpose(1, 2).reshape(B, T, E)  # [B, T, E]
    out = F.linear(context, mha.out_proj.weight, mha.out_proj.bias)  # [B, T, E]
    return out if mha.batch_first else out.transpose(0, 1)


# -- probing: what find_sites(model, example=...) sees (hooks.probe registers the hooks)


def _distribution_axis(x, src_len: int | None) -> int | None:
    """The axis over which the float tensor ``x`` (2 dims or more) is a probability
    distribution: non-negative, summing to 1 (the last axis first); None if none.
    Only axes of size ``src_len``, or of size 2 or more when it is None, count."""
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() < 2 or not x.numel():
        return None
    x = x.detach().double()
    if not bool(torch.isfinite(x).all()) or float(x.min()) < -1e-6:
        return None
    for axis in (x.dim() - 1, *range(x.dim() - 1)):
        n = x.shape[axis]
        if (n != src_len) if src_len is not None else n < 2:
            continue
        if float((x.sum(axis) - 1).abs().max()) <= 1e-4:
            return axis
    return None


class _Frame:
    """One module call in progress during a probe."""

    def __init__(self, path: str):
        self.path = path
        self.softmaxes = 0  # softmaxes computed while it runs (also inside its submodules)
        self.found: list[Observation] = []  # softmaxes computed by it (innermost), first call


class _Probe:
    """What one example run shows: distributions computed or returned by each module.

    Only a module's first call is examined (its later calls are counted); a tensor is
    reported once, by the innermost module that produced it, so that a decoder that
    returns its attention module's weights is not reported for them again.
    """

    def __init__(self, src_len: int | None):
        self.src_len = src_len
        self.frames: list[_Frame] = []
        self.calls: dict[str, int] = {}
        self.seen: list[Observation] = []
        self.tensors: list[Tensor] = []  # those reported (kept alive so that ids stay unique)

    def _reported(self, x: Tensor) -> bool:
        return any(x is t for t in self.tensors)

    def enter(self, path: str) -> None:
        self.frames.append(_Frame(path))

    def softmax(self, out) -> None:
        if not self.frames:  # computed outside every module (in the example's own code)
            return
        top = self.frames[-1]
        k = top.softmaxes
        for frame in self.frames:  # a site's softmax mode counts those of submodules too
            frame.softmaxes += 1
        if self.calls.get(top.path, 0) > 0 or not isinstance(out, Tensor):
            return
        axis = _distribution_axis(out, self.src_len)
        if axis is not None:
            top.found.append(Observation(top.path, "softmax", tuple(out.shape), axis, call=k))
            self.tensors.append(out)

    def leave(self, path: str, output) -> None:
        frame = self.frames.pop()
        first = path not in self.calls
        self.calls[path] = self.calls.get(path, 0) + 1
        if output is None or not first:  # raised, or seen before
            return
        self.seen += [o._replace(softmaxes=frame.softmaxes) for o in frame.found]
        if isinstance(output, Mapping):
            items = list(output.items())
        elif isinstance(output, tuple | list):
            items = list(enumerate(output))
        else:
            items = [("output", output)]
        for read, value in items:
            if not isinstance(read, int | str) or not isinstance(value, Tensor):
                continue
            if self._reported(value):
                continue
            axis = _distribution_axis(value, self.src_len)
            if axis is not None:
                self.seen.append(Observation(path, read, tuple(value.shape), axis))
                self.tensors.append(value)

    def observations(self) -> list[Observation]:
        return [o._replace(calls=self.calls[o.path]) for o in self.seen]


class _ProbeMode(TorchFunctionMode):
    """Active for a whole probe run: passes each softmax's output to the probe."""

    def __init__(self, probe: _Probe):
        super().__init__()
        self.probe = probe

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in _SOFTMAX:
            self.probe.softmax(out)
        return out

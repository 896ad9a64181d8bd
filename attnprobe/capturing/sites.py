"""Where attention lives in a model: :class:`Site`, the built-in specs, :func:`candidates`.

A site is *data*, not a hook: a frozen description of one module call that
produces attention weights and of how to read them. ``attnprobe.capture`` turns
a list of sites into hooks (and only it does; see :mod:`attnprobe.capturing.hooks`).

How the weights are read from a module call (``Site.read``):

==============  ==============================================================
``"output"``    the module's output *is* the weights (an identity hook point,
                an ``nn.Softmax``); replacing it changes what flows downstream
``0``, ``1``..  that element of the output tuple, e.g. ``(context, weights)``
``"name"``      that key of an output dict, or field of an output NamedTuple
``"softmax"``   the softmax computed inside the module's forward, found by a
                ``TorchFunctionMode`` active only inside that forward
``"mha"``       an ``nn.MultiheadAttention``: per-head weights, obtained even
                when the caller passes ``need_weights=False``
==============  ==============================================================

How often the module is called per forward pass (``Site.pattern``): ``per_step``
(an RNN decoder calls it once per target step; each call gives one row per
sentence, ``[B, S]``) or ``full`` (one call gives all rows, ``[B, T, S]`` or
``[B, H, T, S]``). ``Site.layout`` names the axes of the tensor read, when they
are not in that order (fairseq's LSTM attention returns ``[S, B]``: ``"SB"``).
Inside a :class:`attnprobe.capturing.trace.Trace` every site is ``[B, H, T, S]``.

Finding sites (``find_sites``) never trusts a name alone. Built-in specs
recognise known modules by type or class name and read them by position, never
by the names of a forward's parameters (users rename them). Any other module is
judged by what it does: its code (a forward that returns a softmax result, or
computes one), or, given an example input, what it computed while that example
ran (a softmax over the source axis, an output that sums to 1). Modules whose
attention runs in a fused kernel have no weights to read: :func:`find_unreadable`
lists them, and ``capture(model)`` without sites says it skipped them.

Examples
--------
>>> Site("decoder.attention.hook_weights", name="decoder.attention").key
'decoder.attention'
>>> Site("dec.attn", read=1, layout="SB").layout_for(2)
'SB'
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "Site",
    "Candidate",
    "Skipped",
    "Observation",
    "PATTERNS",
    "ROLES",
    "READ_MODES",
    "BUILTIN_SITES",
    "candidates",
    "find_unreadable",
    "FUSED",
    "builtin_site",
    "resolve_module",
]

PATTERNS = ("per_step", "full")
#: cross-attention, self-attention on either side, or encoder states (not attention)
ROLES = ("cross", "decoder-self", "encoder-self", "states")
#: the string values of ``Site.read`` that are not output keys
READ_MODES = ("output", "softmax", "mha")

# default axes of the tensor read, by pattern and number of dimensions
_DEFAULT_LAYOUTS = {
    "per_step": {2: "BS", 3: "BHS", 4: "BHTS"},
    "full": {3: "BTS", 4: "BHTS"},
    "states": {3: "BSD"},
}


@dataclass(frozen=True)
class Site:
    """Where one attention distribution is computed and how to read it.

    Parameters
    ----------
    path : the module's name as in ``model.named_modules()`` (``""``: the model itself).
    read : ``"output"``, an output index, an output key, ``"softmax"`` or ``"mha"``
        (see the module docstring).
    pattern : ``"per_step"`` (one call per target step) or ``"full"`` (one call per pass).
    role : ``"cross"``, ``"decoder-self"``, ``"encoder-self"``, or ``"states"``
        (encoder states ``[B, S, D]``, read with the same machinery; not attention).
    layout : axes of the tensor read, letters from ``B H T S`` (``D`` for states);
        ``None``: ``BS``/``BHS``/``BHTS`` per step, ``BTS``/``BHTS`` full, by dimension.
    name : the key of this site in a Trace (default: ``path``).
    call : with ``read="softmax"``, which softmax of one forward call (0-based);
        ``None`` requires exactly one.

    Examples
    --------
    >>> Site("attn", read="softmax", pattern="full").key
    'attn'
    >>> Site("attn", pattern="sometimes")
    Traceback (most recent call last):
    ...
    attnprobe.errors.UnknownNameError: unknown site pattern 'sometimes' ...
    """

    path: str
    read: int | str = "output"
    pattern: str = "per_step"
    role: str = "cross"
    layout: str | None = None
    name: str | None = None
    call: int | None = None

    def __post_init__(self):
        if not isinstance(self.path, str):
            raise InputError(
                f"a site path is a module name (str), got {type(self.path).__name__}",
                fix="use the names of model.named_modules()",
            )
        if self.pattern not in PATTERNS:
            raise UnknownNameError("site pattern", str(self.pattern), PATTERNS)
        if self.role not in ROLES:
            raise UnknownNameError("site role", str(self.role), ROLES)
        if isinstance(self.read, bool) or not isinstance(self.read, int | str):
            raise InputError(
                f"Site.read must be 'output', 'softmax', 'mha', an index or a key: {self.read!r}"
            )
        if isinstance(self.read, int) and self.read < 0:
            raise InputError(f"Site.read index must be >= 0, got {self.read}")
        if self.call is not None and self.read != "softmax":
            raise InputError("Site.call picks a softmax call; it needs read='softmax'")
        if self.role == "states" and self.read in ("softmax", "mha"):
            raise InputError("encoder states are read from a module output, not a softmax")
        if self.layout is not None:
            self._check_layout(self.layout)

    def _check_layout(self, layout: str) -> None:
        allowed = "BSD" if self.role == "states" else "BHTS"
        if (
            not isinstance(layout, str)
            or len(set(layout)) != len(layout)
            or not set(layout) <= set(allowed)
            or not {"B", "S"} <= set(layout)
            or (self.role == "states" and len(layout) != 3)
            or (self.role != "states" and self.pattern == "full" and "T" not in layout)
        ):
            need = "B, S and D" if self.role == "states" else "B and S (and T for 'full')"
            raise InputError(
                f"bad layout {layout!r} for site {self.path!r}: use each of the letters "
                f"{' '.join(allowed)} at most once, with {need}",
                fix="e.g. 'BS', 'SB', 'BTS', 'TBS', 'BHTS'",
            )

    @property
    def key(self) -> str:
        """The name of this site in a Trace: ``name``, else ``path``, else ``"root"``."""
        return self.name or self.path or "root"

    def layout_for(self, ndim: int) -> str | None:
        """The layout of a tensor of ``ndim`` dimensions read at this site (None: unknown).

        Examples
        --------
        >>> Site("a").layout_for(2), Site("a", pattern="full").layout_for(3)
        ('BS', 'BTS')
        """
        if self.layout is not None:
            return self.layout if len(self.layout) == ndim else None
        table = _DEFAULT_LAYOUTS["states" if self.role == "states" else self.pattern]
        return table.get(ndim)

    def to_code(self) -> str:
        """This site as Python code, with the fields that differ from the defaults.

        Examples
        --------
        >>> Site("dec.attn", read=1, layout="SB").to_code()
        "Site('dec.attn', read=1, layout='SB')"
        """
        default = Site(self.path)
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)[1:]
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return f"Site({', '.join([repr(self.path), *changed])})"

    def to_dict(self) -> dict:
        """Plain-JSON form (stored with a Trace).

        Examples
        --------
        >>> Site.from_dict(Site("a", read=1).to_dict()) == Site("a", read=1)
        True
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Site:
        return cls(**d)


class Candidate(NamedTuple):
    """A site ``find_sites`` proposes, the reason in one line, and the spec that found it.

    ``spec`` is a key of :data:`BUILTIN_SITES`, or ``"name"`` for a module that
    is only named like attention (a guess to check).
    """

    site: Site
    reason: str
    spec: str = "name"

    def __str__(self) -> str:
        return f"{self.site.path or '<root>'}: {self.reason}"


# ---------------------------------------------------------------------------
# built-in specs: plain functions (path, module, parent) -> Candidate | None

#: the identity hook points of attnprobe's reference attention module
_REFERENCE_HOOKS = ("hook_scores", "hook_weights", "hook_context")


def _reference_attention(path: str, module, parent) -> Candidate | None:
    # attnprobe's reference attention, known by its hook points (capture imports no model)
    if not all(callable(getattr(module, h, None)) for h in _REFERENCE_HOOKS):
        return None
    prefix = f"{path}." if path else ""
    site = Site(f"{prefix}hook_weights", read="output", name=path or "attention")
    return Candidate(site, "attnprobe reference attention: its hook_weights point, per step [B, S]")


def _torch_mha(path: str, module, parent) -> Candidate | None:
    from torch import nn

    if not isinstance(module, nn.MultiheadAttention):
        return None
    leaf = path.rsplit(".", 1)[-1]
    if isinstance(parent, nn.TransformerDecoderLayer):
        role = "cross" if leaf == "multihead_attn" else "decoder-self"
    elif isinstance(parent, nn.TransformerEncoderLayer):
        role = "encoder-self"
    else:
        role = "cross"
    where = f" in a {type(parent).__name__}" if parent is not None else ""
    site = Site(path, read="mha", pattern="full", role=role)
    return Candidate(site, f"nn.MultiheadAttention{where}: {role} attention, per head [B, H, T, S]")


# class name -> (output index, layout, what it is); matched by name so that
# attnprobe imports neither OpenNMT nor fairseq
_RETURNS_WEIGHTS = {
    "GlobalAttention": (1, "BS", "OpenNMT GlobalAttention, one step: returns (context, weights)"),
    "AttentionLayer": (1, "SB", "fairseq LSTM AttentionLayer: returns (context, weights [S, B])"),
    "BahdanauAttention": (
        1,
        None,
        "PyTorch-tutorial BahdanauAttention: returns (context, weights)",
    ),  # noqa: E501
}


def _returns_weights(path: str, module, parent) -> Candidate | None:
    spec = _RETURNS_WEIGHTS.get(type(module).__name__)
    if spec is None:
        return None
    index, layout, what = spec
    site = Site(path, read=index, layout=layout)
    return Candidate(site, f"{what}, per step (edits need read='softmax')")


def _positional_arity(fn) -> tuple[int, int] | None:
    """(required, optional) positional parameters of a bound method; None with ``*args``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    required = sum(p.kind in positional and p.default is p.empty for p in params)
    optional = sum(p.kind in positional and p.default is not p.empty for p in params)
    return required, optional


def _tutorial_decoder(path: str, module, parent) -> Candidate | None:
    # the two PyTorch tutorials differ in the shape of the forward's signature, not in the
    # names (which users rename): the step is (input, hidden, encoder_outputs), all
    # required; the loop is (encoder_outputs, encoder_hidden, target_tensor=None). A wrong
    # guess fails loudly: the weights' number of dimensions must fit the layout.
    if type(module).__name__ != "AttnDecoderRNN":
        return None
    arity = _positional_arity(module.forward)
    if arity == (3, 0):
        site = Site(path, read=2, layout="BS")
        return Candidate(site, "PyTorch-tutorial decoder step: returns (output, hidden, weights)")
    if arity is not None and arity[0] == 2 and arity[1] >= 1:
        site = Site(path, read=2, pattern="full", layout="BTS")
        return Candidate(site, "PyTorch-tutorial decoder loop: returns (outputs, hidden, weights)")
    return None


#: name -> matcher ``(path, module, parent) -> Candidate | None`` (plain dict registry)
BUILTIN_SITES: dict[str, Callable] = {
    "attnprobe": _reference_attention,
    "torch-mha": _torch_mha,
    "returns-context-weights": _returns_weights,
    "pytorch-tutorial-decoder": _tutorial_decoder,
}

_ATTENTION_WORDS = ("attn", "attention", "align")


# ---------------------------------------------------------------------------
# reading a module's code (nothing is run): does its forward compute a softmax,
# return one, or run a fused kernel that never materialises the weights?

#: functions that compute attention without handing its weights to Python code
FUSED = {
    "scaled_dot_product_attention": "torch.nn.functional.scaled_dot_product_attention, a fused "
    "kernel that never materialises the attention weights",
    "multi_head_attention_forward": "torch.nn.functional.multi_head_attention_forward, whose "
    "softmax capture cannot see",
}


class _Code(NamedTuple):
    """What the source of a module's forward (and the methods it calls on ``self``) shows."""

    softmaxes: int  # softmax calls written there
    returned: int | str | None  # where forward returns a softmax result: index, key, "output"
    fused: str | None  # a key of FUSED it calls


def _called(node) -> str | None:
    """The called function's last name (``F.softmax(...)``, ``x.softmax(...)``: 'softmax')."""
    if not isinstance(node, ast.Call):
        return None
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _method_called(node, cls):
    """The function behind ``self.name(...)`` when ``name`` is a method of ``cls`` (a
    submodule called as ``self.attn(...)`` is not: its own code is read on its own)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    target = node.func.value
    if not (isinstance(target, ast.Name) and target.id == "self"):
        return None
    fn = inspect.getattr_static(cls, node.func.attr, None)
    return fn if inspect.isfunction(fn) else None


def _parse(fn) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):  # no source: a builtin, a REPL, a C extension
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None


def _scan(fn, cls, depth: int = 0) -> tuple[_Code, bool]:
    """Read ``fn``: its :class:`_Code`, and whether its whole return value is a softmax."""
    node = _parse(fn)
    if node is None:
        return _Code(0, None, None), False
    softmaxes, fused, helpers = 0, None, {}
    for sub in ast.walk(node):
        name = _called(sub)
        softmaxes += name == "softmax"
        fused = fused or (name if name in FUSED else None)
        method = _method_called(sub, cls)
        if method is not None and method is not fn and depth < 3 and method not in helpers:
            helpers[method] = _scan(method, cls, depth + 1)
    for code, _ in helpers.values():
        softmaxes += code.softmaxes
        fused = fused or code.fused

    weights: set[str] = set()  # local names that hold a softmax result

    def is_weights(expr) -> bool:
        if _called(expr) == "softmax" or (isinstance(expr, ast.Name) and expr.id in weights):
            return True
        method = _method_called(expr, cls)
        return method in helpers and helpers[method][1]

    returned, whole = None, False
    statements = [
        n for n in ast.walk(node) if isinstance(n, ast.Assign | ast.AnnAssign | ast.Return)
    ]
    for st in sorted(statements, key=lambda n: (n.lineno, n.col_offset)):  # source order
        value = st.value
        if value is None:
            continue
        if isinstance(st, ast.Return):
            if is_weights(value):
                returned, whole = "output", True
            elif isinstance(value, ast.Tuple):
                hits = [i for i, e in enumerate(value.elts) if is_weights(e)]
                returned = hits[0] if hits else returned
            elif isinstance(value, ast.Dict):
                hits = [
                    k.value
                    for k, v in zip(value.keys, value.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str) and is_weights(v)
                ]
                returned = hits[0] if hits else returned
            continue
        targets = st.targets if isinstance(st, ast.Assign) else [st.target]
        for t in targets:
            if not isinstance(t, ast.Name):
                continue
            mentions = any(isinstance(n, ast.Name) and n.id in weights for n in ast.walk(value))
            # a softmax result stays one through dropout, masking, reshaping (x = f(x))
            if is_weights(value) or (t.id in weights and mentions):
                weights.add(t.id)
            else:
                weights.discard(t.id)
    return _Code(softmaxes, returned, fused), whole


@functools.lru_cache(maxsize=256)
def _read_code(cls) -> _Code | None:
    """What the code of ``cls.forward`` shows; None for torch's own modules (their code is
    known: the built-in specs cover nn.MultiheadAttention) and for code without source."""
    if cls.__module__.split(".")[0] == "torch" or not inspect.isfunction(
        getattr(cls, "forward", None)
    ):
        return None
    return _scan(cls.forward, cls)[0]


def _from_code(path: str, module) -> Candidate | None:
    code = _read_code(type(module))
    if code is None or code.softmaxes == 0:
        return None
    kind = type(module).__name__
    also = ""
    if code.fused:
        also = f"; it also calls F.{code.fused}: when it takes that path, there are no weights"
    if code.returned is not None:
        r = code.returned
        where = (
            "as its output"
            if r == "output"
            else f"at index {r}"
            if isinstance(r, int)
            else f"under the key {r!r}"
        )
        site = Site(path, read=code.returned)
        reason = (
            f"{kind}: its forward returns a softmax {where}; per step [B, S] assumed (check "
            "pattern, layout and role, or let find_sites(model, example=...) measure them)"
        )
    else:
        site = Site(path, read="softmax")
        several = "" if code.softmaxes == 1 else " (pick one with Site(..., call=k))"
        reason = (
            f"{kind}: its forward computes {code.softmaxes} softmax(es){several} and does not "
            "return it; read it inside the forward (check pattern, layout and role)"
        )
    return Candidate(site, reason + also, "code")


def _walk(model):
    """``(path, module, built-in candidate or None)`` for every module, in order; the
    modules inside a module a built-in spec matched are skipped (the spec covers them)."""
    parents = _parents(model)
    covered: list[str] = []
    for path, module in model.named_modules():
        if any(c == "" or path.startswith(f"{c}.") for c in covered):  # "": the root
            continue
        match = None
        for spec, matcher in BUILTIN_SITES.items():
            match = matcher(path, module, parents[path])
            if match is not None:
                match = match._replace(spec=spec)
                covered.append(path)
                break
        yield path, module, match


def _parents(model) -> dict[str, object]:
    """path -> parent module, for every module of ``model``."""
    modules = dict(model.named_modules())
    return {p: modules.get(p.rpartition(".")[0]) if p else None for p in modules}


def builtin_site(model, path: str) -> Site | None:
    """The built-in site spec for the module at ``path``, or None if no spec matches.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)
    >>> builtin_site(layer, "multihead_attn").role
    'cross'
    """
    module = resolve_module(model, path)
    parent = _parents(model)[path]
    for matcher in BUILTIN_SITES.values():
        found = matcher(path, module, parent)
        if found is not None:
            return found.site
    return None


def resolve_module(model, path: str):
    """The submodule of ``model`` named ``path``; unknown names get "did you mean".

    Examples
    --------
    >>> from torch import nn
    >>> model = nn.ModuleDict({"attention": nn.Softmax(-1)})
    >>> type(resolve_module(model, "attention")).__name__
    'Softmax'
    >>> resolve_module(model, "atention")
    Traceback (most recent call last):
    ...
    attnprobe.errors.UnknownNameError: unknown module path 'atention'; did you mean 'attention'? ...
    """
    try:  # a walk down the path; the whole tree only to say what exists
        return model.get_submodule(path)
    except AttributeError:
        pass
    modules = dict(model.named_modules())
    if path not in modules:
        raise UnknownNameError("module path", path, [p for p in modules if p])
    return modules[path]


# ---------------------------------------------------------------------------
# what an example run showed (find_sites(model, example=...); the run is in hooks.probe)


class Observation(NamedTuple):
    """A probability distribution seen while an example ran (see ``find_sites``).

    Made by :func:`attnprobe.capturing.hooks.probe`: a softmax computed inside a
    module's forward (``read="softmax"``), or an element of what a module returned
    (``read`` = its index or key; ``"output"``: the whole output), on the module's
    first call. ``axis`` is the axis whose sums are 1.
    """

    path: str
    read: int | str
    shape: tuple[int, ...]
    axis: int
    call: int = 0  # read="softmax": which softmax of that forward call (0-based)
    softmaxes: int = 0  # read="softmax": how many that forward call computed in all
    calls: int = 1  # how many times the module ran in the example


def _layout_guess(ndim: int, axis: int, pattern: str) -> str | None | bool:
    """The layout of a tensor whose ``axis`` is the source: None (the default for its
    dimension), a layout string, or False (no layout fits)."""
    if axis == ndim - 1:
        return None if ndim in (2, 3, 4) else False
    others = {2: "B", 3: "BT" if pattern == "full" else "BH", 4: "BHT"}.get(ndim)
    if others is None:
        return False
    return others[:axis] + "S" + others[axis:]


def _from_observations(path: str, module, seen: list[Observation]) -> list[Candidate]:
    from torch import nn

    kind = type(module).__name__
    groups: dict[tuple, list[Observation]] = {}
    for o in seen:
        groups.setdefault((o.read, o.shape, o.axis), []).append(o)
    found = []
    for (read, shape, axis), same in groups.items():
        o = same[0]
        pattern = "per_step" if o.calls > 1 or len(shape) < 3 else "full"
        layout = _layout_guess(len(shape), axis, pattern)
        if layout is False:
            continue
        if read != "softmax":
            site = Site(path, read=read, pattern=pattern, layout=layout)
            what = "its output" if read == "output" else f"its output {read!r}"
        elif isinstance(module, nn.Softmax):
            site = Site(path, read="output", pattern=pattern, layout=layout)
            what = "its output (an nn.Softmax)"
        else:
            call = o.call if o.softmaxes > 1 else None
            site = Site(path, read="softmax", pattern=pattern, layout=layout, call=call)
            what = "a softmax in its forward" + ("" if call is None else f" (call {call})")
        runs = f"{o.calls} call{'s' if o.calls > 1 else ''}"
        reason = (
            f"{kind}: {what} is a tensor {list(shape)} that sums to 1 over axis {axis}; "
            f"{runs} in the example: {pattern} (role assumed cross: check it)"
        )
        if read == "softmax" and len(same) > 1:
            reason += (
                f"; its forward computed {len(same)} such softmaxes in one call (a loop over "
                "steps?): read='softmax' reads one per call; read them where they are returned"
            )
        found.append(Candidate(site, reason, "example"))
    return found


def _runner(model, example) -> Callable[[], object]:
    if isinstance(example, tuple):
        if (
            len(example) == 2
            and isinstance(example[0], tuple | list)
            and isinstance(example[1], dict)
        ):
            args, kwargs = example
            return lambda: model(*args, **kwargs)
    elif callable(example) and not hasattr(example, "parameters"):  # a function, not a module
        return example
    raise InputError(
        f"find_sites: example must be (args, kwargs) or a function of no arguments that runs "
        f"the model, got {type(example).__name__}",
        fix="e.g. example=((src, src_lens, tgt_in), {}) or example=lambda: my_decode(model)",
    )


# ---------------------------------------------------------------------------
# finding sites


class Skipped(NamedTuple):
    """An attention-like module that capture does not read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '<root>'}: {self.reason}"


def find_unreadable(model) -> list[Skipped]:
    """Modules whose attention cannot be read: their forward runs a fused kernel only.

    Read from each module's code, nothing is run: a forward that calls
    ``F.scaled_dot_product_attention`` (or ``F.multi_head_attention_forward``)
    and no softmax never hands the attention weights to Python.
    ``nn.MultiheadAttention`` is not listed: capture reads it (``read="mha"``).

    Examples
    --------
    >>> import torch.nn.functional as F
    >>> from torch import nn
    >>> class Fused(nn.Module):
    ...     def forward(self, q, k, v):
    ...         return F.scaled_dot_product_attention(q, k, v)
    >>> [s.path for s in find_unreadable(nn.ModuleDict({"cross": Fused()}))]
    ['cross']
    """
    found = []
    for path, module, match in _walk(model):
        code = None if match is not None else _read_code(type(module))
        if code is not None and code.fused and code.softmaxes == 0:
            what = f"{type(module).__name__} runs {FUSED[code.fused]}"
            found.append(Skipped(path, what))
    return found


def candidates(
    model, observed: tuple[list[Observation], dict[str, int]] | None = None
) -> list[Candidate]:
    """Candidate sites of ``model``: :func:`attnprobe.capturing.discovery.find_sites` without
    running anything, or with the ``observed`` result of one probed run
    (:func:`attnprobe.capturing.hooks.probe`). ``capture(model)`` uses it without sites.

    Examples
    --------
    >>> from torch import nn
    >>> [c.site.path for c in candidates(nn.ModuleDict({"attn": nn.Softmax(-1)}))]
    ['attn']
    """
    ran: dict[str, int] | None = None
    by_path: dict[str, list[Observation]] = {}
    if observed is not None:
        seen, ran = observed
        for o in seen:
            by_path.setdefault(o.path, []).append(o)
    found: list[Candidate] = []
    for path, module, match in _walk(model):
        if match is not None:
            found.append(match)
            continue
        if ran is None:
            here = [c for c in [_from_code(path, module)] if c is not None]
        else:
            here = _from_observations(path, module, by_path.get(path, []))
        leaf = path.rsplit(".", 1)[-1].lower()
        named = path and any(w in leaf for w in _ATTENTION_WORDS)
        if not here and named and (ran is None or path not in ran):
            site = Site(path, read="softmax")
            reason = (
                f"{type(module).__name__} named like attention; no built-in spec: assumed to "
                "compute one softmax in its forward (check read, pattern and role)"
            )
            if ran is not None:
                reason += "; it did not run in the example"
            here = [Candidate(site, reason)]
        found.extend(here)
    return found

"""Where attention lives in a model: :class:`Site`, the built-in specs, :func:`find_sites`.

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

Examples
--------
>>> Site("decoder.attention.hook_weights", name="decoder.attention").key
'decoder.attention'
>>> Site("dec.attn", read=1, layout="SB").layout_for(2)
'SB'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "Site",
    "Candidate",
    "PATTERNS",
    "ROLES",
    "READ_MODES",
    "BUILTIN_SITES",
    "find_sites",
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
    """A site :func:`find_sites` proposes, the reason in one line, and the spec that found it.

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


def _reference_attention(path: str, module, parent) -> Candidate | None:
    from attnprobe.models.reference.attention import Attention

    if not isinstance(module, Attention):
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
    modules = dict(model.named_modules())
    if path not in modules:
        raise UnknownNameError("module path", path, [p for p in modules if p])
    return modules[path]


def find_sites(model) -> list[Candidate]:
    """List candidate attention sites of ``model``, each with a one-line reason.

    Built-in specs (:data:`BUILTIN_SITES`) are tried on every module; modules
    whose name suggests attention but that no spec knows are listed with
    ``read="softmax"`` and a reason that says to check them. Nothing is run.

    Parameters
    ----------
    model : a ``torch.nn.Module``.

    Returns
    -------
    list of :class:`Candidate` ``(site, reason)``, in module order.

    Examples
    --------
    >>> from torch import nn
    >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                        num_decoder_layers=1, dim_feedforward=16, batch_first=True)
    >>> for c in find_sites(model):
    ...     print(c.site.role, c.site.path)
    encoder-self encoder.layers.0.self_attn
    decoder-self decoder.layers.0.self_attn
    cross decoder.layers.0.multihead_attn
    """
    parents = _parents(model)
    found: list[Candidate] = []
    covered: list[str] = []  # paths of matched modules: their children are not listed again
    for path, module in model.named_modules():
        if any(c == "" or path.startswith(f"{c}.") for c in covered):  # "": the root
            continue
        match = None
        for spec, matcher in BUILTIN_SITES.items():
            match = matcher(path, module, parents[path])
            if match is not None:
                match = match._replace(spec=spec)
                break
        if match is not None:
            found.append(match)
            covered.append(path)
            continue
        leaf = path.rsplit(".", 1)[-1].lower()
        if path and any(w in leaf for w in _ATTENTION_WORDS):
            site = Site(path, read="softmax")
            reason = (
                f"{type(module).__name__} named like attention; no built-in spec: assumed to "
                "compute one softmax in its forward (check read, pattern and role)"
            )
            found.append(Candidate(site, reason))
    return found

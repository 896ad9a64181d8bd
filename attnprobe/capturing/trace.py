"""Trace: the frozen record of one captured forward (and backward) pass.

A Trace is what every analysis reads. It holds detached CPU tensors and plain
Python values only, never a module, so keeping traces never keeps a model
alive, and a trace can be saved, loaded and compared without torch hooks or
pickle. Everything needed to read the tensors travels with them: the source
and target lengths (so padding never reaches an analysis), the token strings
when the model has vocabularies, and the site specs.

Conventions (``B`` sentences, ``H`` heads, ``T`` target steps, ``S`` source
positions):

- ``attention[key]`` [B, H, T, S] for a cross-attention site (RNN: ``H = 1``);
  decoder self-attention is [B, H, T, T], encoder self-attention [B, H, S, S];
- ``grads[key]`` dL/d(weights), same shape, when captured with ``grads=True``;
- ``states`` [B, S, D] encoder states and ``state_grads`` when asked for;
- ``src_tokens[i]`` the ``S_i`` source tokens (EOS included), ``tgt_tokens[i]``
  the ``T_i`` decoder input tokens (``<s>`` first): row ``t`` of the attention
  is the step that reads ``tgt_tokens[i][t]`` and predicts the next token.

On disk a trace is two files: ``NAME.safetensors`` (tensors) and ``NAME.json``
(tokens, sites, metadata, and the tensor file's SHA-256 so the pair cannot be
mixed up).

Examples
--------
>>> import torch
>>> w = torch.tensor([[[[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]]]])   # [B=1, H=1, T=2, S=3]
>>> from attnprobe.capturing.sites import Site
>>> t = Trace(sites=(Site("attn"),), attention={"attn": w},
...           src_lens=torch.tensor([2]), tgt_lens=torch.tensor([2]))
>>> t.example(0).matrix().tolist()
[[0.5, 0.5], [0.25, 0.75]]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch
from torch import Tensor

from attnprobe.capturing.sites import Site
from attnprobe.errors import InputError, SiteError, UnknownNameError
from attnprobe.fileio import write_bytes_atomic, write_text_atomic

__all__ = ["Trace", "Example", "LazyTokens", "CheckedOnRead", "load_trace", "FORMAT"]

FORMAT = "attnprobe-trace/1"


def _frozen_tensor(t: Tensor | None) -> Tensor | None:
    if t is None or (not t.requires_grad and t.device.type == "cpu"):
        return t  # already what a trace holds
    return t.detach().to("cpu")


def _freeze_map(m: Mapping[str, Tensor] | None) -> Mapping[str, Tensor]:
    return MappingProxyType({k: _frozen_tensor(v) for k, v in (m or {}).items()})


def _tokens(rows) -> tuple[tuple[str, ...], ...] | None:
    return None if rows is None else tuple(tuple(str(t) for t in row) for row in rows)


class LazyTokens:
    """Token rows computed on first use: ``make()`` returns the rows (or None).

    :func:`attnprobe.capture` gives a trace its tokens this way, so that a pass
    whose tokens nobody reads does not turn every id into a string. ``make``
    must hold no module: it reads the ids and a table of their strings.
    """

    def __init__(self, make: Callable[[], Any]):
        self.make = make


class CheckedOnRead(Mapping):
    """A trace's tensors by site key, checked when first read: ``check(data)`` raises
    (then every read raises again) or passes (then it is not run again).

    :func:`attnprobe.capture` gives a trace its attention this way, so that a
    check that concerns the values (no weight on padded source positions) costs
    nothing during the pass, and a trace whose weights break it can never be read.
    ``check`` must hold no module.

    Examples
    --------
    >>> def positive(data):
    ...     if any(float(v.min()) < 0 for v in data.values()):
    ...         raise ValueError("negative")
    >>> m = CheckedOnRead({"a": torch.tensor([-1.0])}, positive)
    >>> len(m)
    1
    >>> m["a"]
    Traceback (most recent call last):
    ...
    ValueError: negative
    """

    def __init__(self, data: Mapping[str, Tensor], check: Callable[[Mapping], None]):
        self.data, self.check = data, check

    def _read(self) -> Mapping[str, Tensor]:
        if self.check is not None:
            self.check(self.data)
            self.check = None
        return self.data

    def __getitem__(self, key: str) -> Tensor:
        return self._read()[key]

    def __iter__(self):
        return iter(self._read())

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return repr(dict(self._read()))


class _TokenField:
    """A Trace field of token rows: a value, or :class:`LazyTokens` resolved on first read
    (then kept: the record stays frozen in what it shows)."""

    def __set_name__(self, owner, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj, owner=None):
        if obj is None:  # the dataclass asks for the field's default
            return None
        value = obj.__dict__.get(self.slot)
        if isinstance(value, LazyTokens):
            value = _tokens(value.make())
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.slot] = value if isinstance(value, LazyTokens) else _tokens(value)


@dataclass(frozen=True, eq=False)
class Example:
    """One sentence of a Trace, trimmed to its lengths (no padding).

    ``attention[key]`` is [H, T_i, S_i] for a cross site ([H, T_i, T_i] /
    [H, S_i, S_i] for self-attention); ``states`` is [S_i, D].
    """

    index: int
    src_len: int
    tgt_len: int
    src_tokens: tuple[str, ...] | None
    tgt_tokens: tuple[str, ...] | None
    attention: Mapping[str, Tensor]
    grads: Mapping[str, Tensor]
    states: Tensor | None
    state_grads: Tensor | None
    default_site: str | None = None

    def matrix(self, site: str | None = None, head: int | None = None) -> Tensor:
        """The [T_i, S_i] attention matrix of ``site`` (default: the trace's one cross site).

        ``head`` picks a head; it may be omitted when the site has one head (RNNs).

        Raises
        ------
        SiteError : several heads and no ``head``; UnknownNameError : unknown site.
        """
        return _pick_head(self.attention, site or self.default_site, head)

    def grad_matrix(self, site: str | None = None, head: int | None = None) -> Tensor:
        """dL/d(weights) as a [T_i, S_i] matrix (see :meth:`matrix`)."""
        if not self.grads:
            raise SiteError("this trace has no gradients; capture with grads=True")
        return _pick_head(self.grads, site or self.default_site, head)


def _pick_head(maps: Mapping[str, Tensor], site: str | None, head: int | None) -> Tensor:
    if site not in maps:
        raise UnknownNameError("site", str(site), list(maps))
    w = maps[site]  # [H, T, S]
    if head is None:
        if w.shape[0] != 1:
            raise SiteError(
                f"site {site!r} has {w.shape[0]} heads; pass head=k (0..{w.shape[0] - 1}) "
                "or average the heads explicitly"
            )
        head = 0
    return w[head]


@dataclass(frozen=True, eq=False)
class Trace:
    """Frozen records of one captured pass (see the module docstring for shapes).

    Build traces with :func:`attnprobe.capture`; the constructor is for tests
    and for :meth:`load`. Tensors are detached and moved to the CPU here.
    """

    sites: tuple[Site, ...]
    attention: Mapping[str, Tensor]
    src_lens: Tensor
    tgt_lens: Tensor
    grads: Mapping[str, Tensor] = field(default_factory=dict)
    states: Tensor | None = None
    state_grads: Tensor | None = None
    src: Tensor | None = None
    tgt: Tensor | None = None
    src_tokens: tuple[tuple[str, ...], ...] | None = _TokenField()  # or LazyTokens
    tgt_tokens: tuple[tuple[str, ...], ...] | None = _TokenField()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        put = object.__setattr__
        put(self, "sites", tuple(self.sites))
        attention, check = self.attention, None
        if isinstance(attention, CheckedOnRead):  # validated here, its values checked on read
            attention, check = attention.data, attention.check
        attention = _freeze_map(attention)
        put(self, "attention", attention if check is None else CheckedOnRead(attention, check))
        put(self, "grads", _freeze_map(self.grads))
        for name in ("src_lens", "tgt_lens", "states", "state_grads", "src", "tgt"):
            put(self, name, _frozen_tensor(getattr(self, name)))
        put(self, "meta", MappingProxyType(dict(self.meta)))
        keys = [s.key for s in self.sites if s.role != "states"]
        if sorted(keys) != sorted(attention):
            raise InputError(f"trace sites {keys} do not match the attention {list(attention)}")
        B = len(self.src_lens)
        for key, w in [*attention.items(), *self.grads.items()]:
            if w.dim() != 4 or w.shape[0] != B:
                raise InputError(f"site {key!r}: expected [B={B}, H, T, S], got {list(w.shape)}")
        if len(self.tgt_lens) != B:
            raise InputError(f"{B} source lengths but {len(self.tgt_lens)} target lengths")

    def __len__(self) -> int:
        return len(self.src_lens)

    @property
    def keys(self) -> list[str]:
        """Site keys, in capture order."""
        return list(self.attention)

    def site(self, key: str | None = None) -> Site:
        """The :class:`Site` named ``key``; ``None``: the only cross-attention site."""
        if key is None:
            cross = [s for s in self.sites if s.role == "cross"]
            if len(cross) != 1:
                raise SiteError(
                    f"this trace has {len(cross)} cross-attention sites "
                    f"({[s.key for s in cross]}); name one",
                )
            return cross[0]
        for s in self.sites:
            if s.key == key and s.role != "states":
                return s
        raise UnknownNameError("site", key, self.keys)

    def weights(self, key: str | None = None) -> Tensor:
        """Attention of site ``key`` (default: the one cross site), [B, H, T, S] padded."""
        return self.attention[self.site(key).key]

    def lengths(self, key: str | None = None) -> tuple[Tensor, Tensor]:
        """(query lengths, key lengths) [B] of a site's rows and columns, by its role."""
        role = self.site(key).role
        if role == "cross":
            return self.tgt_lens, self.src_lens
        if role == "decoder-self":
            return self.tgt_lens, self.tgt_lens
        return self.src_lens, self.src_lens

    def mask(self, key: str | None = None) -> Tensor:
        """[B, 1, T, S] bool: True at the real (query, key) cells of a site.

        Examples
        --------
        >>> import torch
        >>> t = Trace((Site("a"),), {"a": torch.zeros(2, 1, 2, 3)}, torch.tensor([3, 1]),
        ...           torch.tensor([2, 1]))
        >>> t.mask()[1, 0].tolist()
        [[True, False, False], [False, False, False]]
        """
        w = self.weights(key)
        q_lens, k_lens = self.lengths(key)
        rows = torch.arange(w.shape[2])[None, :] < q_lens[:, None]  # [B, T]
        cols = torch.arange(w.shape[3])[None, :] < k_lens[:, None]  # [B, S]
        return (rows[:, :, None] & cols[:, None, :])[:, None]

    def example(self, i: int) -> Example:
        """Sentence ``i``, every tensor trimmed to its lengths (views, no copies)."""
        if not -len(self) <= i < len(self):
            raise InputError(f"example {i} out of range for a trace of {len(self)} sentences")
        i = i % len(self)
        S, T = int(self.src_lens[i]), int(self.tgt_lens[i])
        size = {"cross": (T, S), "decoder-self": (T, T), "encoder-self": (S, S)}

        def trim(maps):
            out = {}
            for s in self.sites:
                if s.key in maps:
                    q, k = size[s.role]
                    out[s.key] = maps[s.key][i, :, :q, :k]
            return MappingProxyType(out)

        cross = [s.key for s in self.sites if s.role == "cross"]
        return Example(
            index=i,
            src_len=S,
            tgt_len=T,
            src_tokens=None if self.src_tokens is None else self.src_tokens[i],
            tgt_tokens=None if self.tgt_tokens is None else self.tgt_tokens[i],
            attention=trim(self.attention),
            grads=trim(self.grads),
            states=None if self.states is None else self.states[i, :S],
            state_grads=None if self.state_grads is None else self.state_grads[i, :S],
            default_site=cross[0] if len(cross) == 1 else None,
        )

    # ------------------------------------------------------------------ disk

    def _tensors(self) -> dict[str, Tensor]:
        out = {f"attention/{k}": v for k, v in self.attention.items()}
        out |= {f"grads/{k}": v for k, v in self.grads.items()}
        for name in ("src_lens", "tgt_lens", "states", "state_grads", "src", "tgt"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return {k: v.contiguous() for k, v in out.items()}

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``path`` (safetensors) and its JSON sidecar ``path`` with suffix ``.json``.

        No pickle: tensors go to safetensors, tokens, sites and metadata to JSON.
        Returns the two paths.

        Examples
        --------
        >>> import tempfile, pathlib, torch
        >>> t = Trace((Site("a"),), {"a": torch.ones(1, 1, 1, 1)}, torch.tensor([1]),
        ...           torch.tensor([1]), src_tokens=[["</s>"]])
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.safetensors"
        >>> [q.name for q in t.save(p)]
        ['t.safetensors', 't.json']
        >>> Trace.load(p).src_tokens
        (('</s>',),)
        """
        from safetensors.torch import save

        path = Path(path)
        sidecar = path.with_suffix(".json")
        if sidecar == path:
            raise InputError(
                "a trace's tensor file cannot end in .json",
                path=path,
                fix="name it NAME.safetensors",
            )
        data = save(self._tensors())
        info = {
            "format": FORMAT,
            "sites": [s.to_dict() for s in self.sites],
            "src_tokens": self.src_tokens,
            "tgt_tokens": self.tgt_tokens,
            "meta": dict(self.meta),
            "tensors_sha256": hashlib.sha256(data).hexdigest(),
        }
        write_bytes_atomic(path, data)
        write_text_atomic(sidecar, json.dumps(info, indent=1, ensure_ascii=False) + "\n")
        return path, sidecar

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trace:
        """Read a trace written by :meth:`save` (see there for an example)."""
        from safetensors.torch import load

        path = Path(path)
        sidecar = path.with_suffix(".json")
        for p in (path, sidecar):
            if not p.is_file():
                raise InputError(
                    "trace file not found",
                    path=p,
                    fix="give the .safetensors file written by Trace.save",
                )
        data = path.read_bytes()
        try:
            info = json.loads(sidecar.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"not a trace sidecar ({exc})", path=sidecar) from None
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            raise InputError(f"not an {FORMAT} file", path=sidecar)
        if info.get("tensors_sha256") != hashlib.sha256(data).hexdigest():
            raise InputError(
                f"{path.name} is not the tensor file this sidecar was written with",
                path=sidecar,
                fix="keep the .safetensors and .json files of one trace together",
            )
        tensors = load(data)
        sites = tuple(Site.from_dict(d) for d in info["sites"])

        def group(prefix):
            return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

        return cls(
            sites=sites,
            attention=group("attention/"),
            grads=group("grads/"),
            src_lens=tensors["src_lens"],
            tgt_lens=tensors["tgt_lens"],
            states=tensors.get("states"),
            state_grads=tensors.get("state_grads"),
            src=tensors.get("src"),
            tgt=tensors.get("tgt"),
            src_tokens=info.get("src_tokens"),
            tgt_tokens=info.get("tgt_tokens"),
            meta=info.get("meta") or {},
        )


def load_trace(path: str | os.PathLike) -> Trace:
    """Read a trace written by :meth:`Trace.save` (same as :meth:`Trace.load`)."""
    return Trace.load(path)

"""wrap(): bring your own model to every attnprobe analysis.

The analyses talk to a model through one interface,
:class:`~attnprobe.models.interface.Seq2SeqModel`. :func:`wrap` adapts any
``nn.Module`` to it without touching the module: the user says how to run it
(a teacher-forced ``forward(module, src [B, S], src_lens [B], tgt_in [B, T])``
returning logits [B, T, V], or ``(logits, attention)``), gives the model's own
vocabularies (token lists in the model's id order, specials named: attnprobe
never renumbers them; words + EOS on the source side, BOS + words as decoder
input), and says where its attention lives. A wrapped model has none of the
optional capabilities (no step-by-step decoder, no recurrent graph): the
analyses that need them say so and the rest run.

Site paths stay relative to the user's module, so they read exactly as in
``module.named_modules()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor, nn

from attnprobe.capturing.sites import Site, builtin_site, resolve_module
from attnprobe.data import Vocab
from attnprobe.errors import InputError, SiteError
from attnprobe.models.reference.rnn import Hypothesis, Seq2SeqOutput, decode_limit
from attnprobe.models.words import WordVocabularies

__all__ = ["wrap", "Wrapped"]


def _vocab(v, side: str, specials: dict | None) -> Vocab:
    if isinstance(v, Vocab):
        if specials:
            raise InputError("specials= applies to token lists; a Vocab names its own specials")
        return v
    if isinstance(v, Sequence) and not isinstance(v, str):
        return Vocab(v, **(specials or {}))
    raise InputError(
        f"{side}_vocab must be an attnprobe Vocab or the model's token list, got "
        f"{type(v).__name__}",
        fix="pass the model's tokens in id order, e.g. src_vocab=itos, specials={'pad': ...}",
    )


def _check_table(module: nn.Module, vocab: Vocab, side: str, embedding_path: str | None) -> None:
    """A vocabulary larger than the embedding table would index past it: refuse it now."""
    if embedding_path is None:
        return
    emb = resolve_module(module, embedding_path)
    rows = getattr(emb, "num_embeddings", None)
    if rows is not None and len(vocab) > rows:
        raise InputError(
            f"{side}_vocab has {len(vocab)} tokens but the embedding {embedding_path!r} has "
            f"{rows} rows: ids past {rows - 1} would index outside it",
            fix="pass the model's own vocabulary (the token list it was trained with)",
        )


class Wrapped(WordVocabularies, nn.Module):
    """A user model behind the attnprobe model interface (made by :func:`wrap`)."""

    capabilities = ()

    def __init__(self, module, run, src_vocab, tgt_vocab, sites, embedding_path, states, name):
        super().__init__()
        self.module = module
        self.run = run
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.sites = sites
        self.states_site = states
        self.embedding_path = embedding_path
        self.name = name
        self.meta: dict = {}

    @property
    def site_root(self) -> nn.Module:
        """The user's module: site paths are relative to it, as in its ``named_modules()``."""
        return self.module

    def card(self) -> dict:
        """The report's model card: family, class, sizes, vocabularies, sites."""
        return {
            "name": self.name,
            "family": "wrapped nn.Module",
            "arch": type(self.module).__name__,
            "parameters": sum(p.numel() for p in self.module.parameters()),
            "src_vocab": len(self.src_vocab),
            "tgt_vocab": len(self.tgt_vocab),
            "sites": [s.key for s in self.sites],
            "sha256": self.meta.get("sha256"),
        }

    @property
    def source_embedding(self) -> nn.Module:
        """The module whose output is the source embeddings [B, S, E]."""
        if self.embedding_path is None:
            raise InputError(
                f"wrapped model {self.name!r} has no source embedding",
                fix="pass wrap(..., source_embedding='path.to.embedding')",
            )
        return resolve_module(self.module, self.embedding_path)

    def forward(self, src: Tensor, src_lens: Tensor, tgt_in: Tensor) -> Seq2SeqOutput:
        """Teacher-forced forward. ``src`` [B, S], ``src_lens`` [B], ``tgt_in`` [B, T]."""
        out = self.run(self.module, src, src_lens, tgt_in)
        attention = None
        if isinstance(out, tuple | list):
            out, attention = (out[0], out[1] if len(out) > 1 else None)
        elif hasattr(out, "logits"):
            out, attention = out.logits, getattr(out, "attention", None)
        B, T = tgt_in.shape
        if not isinstance(out, Tensor) or tuple(out.shape) != (B, T, len(self.tgt_vocab)):
            got = list(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise InputError(
                f"wrapped model {self.name!r}: forward must return logits [B={B}, T={T}, "
                f"V={len(self.tgt_vocab)}], got {got}",
                fix="return one row of target-vocabulary scores per decoder input token",
            )
        return Seq2SeqOutput(out, attention)

    @torch.no_grad()
    def greedy(self, src: Tensor, src_lens: Tensor, max_len: int | None = None) -> list[Hypothesis]:
        """Greedy decoding by repeated teacher-forced forwards (``O(T^2)``; no attention rows).

        ``max_len`` defaults to twice the longest source plus 10 steps.
        """
        B = src.shape[0]
        bos, eos = self.tgt_vocab.bos_id, self.tgt_vocab.eos_id
        max_len = max_len or decode_limit(src_lens)
        tgt = torch.full((B, 1), bos, dtype=torch.long, device=src.device)
        score = torch.zeros(B)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logp = torch.log_softmax(self(src, src_lens, tgt).logits[:, -1], -1)  # [B, V]
            y = logp.argmax(-1)
            score += torch.where(done, 0.0, logp.gather(1, y[:, None]).squeeze(1)).cpu()
            tgt = torch.cat([tgt, y[:, None]], 1)
            done |= y == eos
            if bool(done.all()):
                break
        hyps = []
        for row, s in zip(tgt[:, 1:].tolist(), score.tolist(), strict=True):
            n = row.index(eos) if eos in row else len(row)
            hyps.append(Hypothesis(row[:n], None, s))
        return hyps


def _site(module: nn.Module, entry) -> Site:
    if isinstance(entry, Site):
        resolve_module(module, entry.path)  # did-you-mean on a typo, now rather than later
        return entry
    if isinstance(entry, str):
        resolve_module(module, entry)
        site = builtin_site(module, entry)
        if site is None:
            raise SiteError(
                f"{type(resolve_module(module, entry)).__name__} at {entry!r} is not a known "
                "attention module; declare it as attnprobe.Site(path, read=..., pattern=...)",
            )
        return site
    raise InputError(f"a site is a Site or a module path, got {type(entry).__name__}")


def wrap(
    module: nn.Module,
    *,
    forward: Callable[[nn.Module, Tensor, Tensor, Tensor], object],
    src_vocab: Vocab | Sequence[str],
    tgt_vocab: Vocab | Sequence[str],
    sites: Iterable[Site | str],
    specials: dict[str, str] | None = None,
    source_embedding: str | nn.Module | None = None,
    states: str | Site | None = None,
    name: str | None = None,
) -> Wrapped:
    """Give a user model the interface of the reference models.

    Parameters
    ----------
    module : the user's model (left untouched; the wrapper holds it as ``.module``).
    forward : ``forward(module, src [B, S], src_lens [B], tgt_in [B, T])`` returning
        logits [B, T, V], or ``(logits, attention)``: one teacher-forced pass.
    src_vocab, tgt_vocab : the model's own vocabularies: token lists in the model's id
        order (attnprobe keeps those ids), or :class:`~attnprobe.data.Vocab` objects.
    sites : where the attention lives: :class:`~attnprobe.capturing.sites.Site` objects or
        paths of modules a built-in spec knows, relative to ``module``.
    specials : the model's spellings of its special tokens, for token lists:
        ``{"pad": ..., "unk": ..., "bos": ..., "eos": ...}`` (defaults ``<pad>``,
        ``<unk>``, ``<s>``, ``</s>``); one dict for both sides.
    source_embedding : the source embedding module, or its path in ``module``.
    states : the encoder-states site (a path whose output is [B, S, D], or a Site).
    name : shown in messages and trace metadata (default: the class name).

    Returns
    -------
    Wrapped : an ``nn.Module`` with ``forward``, ``greedy``, ``src_vocab``,
    ``tgt_vocab``, ``source_embedding``, ``sites``; ``attnprobe.capture`` reads its
    lengths and tokens like those of a reference model.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from attnprobe.data import Vocab
    >>> class Tiny(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.emb, self.out = nn.Embedding(6, 4), nn.Linear(4, 6)
    ...         self.attn = nn.Softmax(-1)
    ...     def forward(self, src, tgt_in):
    ...         h = self.emb(src)                                   # [B, S, E]
    ...         q = self.emb(tgt_in)                                # [B, T, E]
    ...         a = self.attn(q @ h.transpose(1, 2))                # [B, T, S]
    ...         return self.out(a @ h)                              # [B, T, V]
    >>> v = Vocab.build([["a", "b"]])
    >>> model = wrap(Tiny(), forward=lambda m, src, lens, tgt: m(src, tgt), src_vocab=v,
    ...              tgt_vocab=v, sites=[Site("attn", read="output", pattern="full")],
    ...              source_embedding="emb")
    >>> out = model(torch.tensor([[4, 5, 3]]), torch.tensor([3]), torch.tensor([[2, 4]]))
    >>> tuple(out.logits.shape), model.source_embedding is model.module.emb
    ((1, 2, 6), True)
    """
    if not isinstance(module, nn.Module):
        raise InputError(f"wrap() needs a torch.nn.Module, got {type(module).__name__}")
    if not callable(forward):
        raise InputError(
            "forward must be a function (module, src, src_lens, tgt_in) -> logits",
            fix="e.g. forward=lambda m, src, lens, tgt_in: m(src, lens, tgt_in)",
        )
    site_list = [_site(module, s) for s in sites]
    if not site_list:
        raise InputError("wrap() needs at least one attention site", fix="see attnprobe.find_sites")
    embedding_path = None
    if isinstance(source_embedding, nn.Module):
        paths = [p for p, m in module.named_modules() if m is source_embedding]
        if not paths:
            raise InputError("source_embedding is not a submodule of the wrapped module")
        embedding_path = paths[0]
    elif isinstance(source_embedding, str):
        resolve_module(module, source_embedding)
        embedding_path = source_embedding
    elif source_embedding is not None:
        raise InputError(f"source_embedding must be a module or a path, got {source_embedding!r}")
    if isinstance(states, str):
        resolve_module(module, states)
        states = Site(states, read="output", pattern="full", role="states")
    elif states is not None and not (isinstance(states, Site) and states.role == "states"):
        raise InputError("states must be a module path or a Site(..., role='states')")
    src_v, tgt_v = _vocab(src_vocab, "src", specials), _vocab(tgt_vocab, "tgt", specials)
    _check_table(module, src_v, "src", embedding_path)
    return Wrapped(
        module,
        forward,
        src_v,
        tgt_v,
        site_list,
        embedding_path,
        states,
        name or type(module).__name__,
    )

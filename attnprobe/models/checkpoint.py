"""The attnprobe checkpoint format: one ``.pt`` file of plain types and tensors.

A checkpoint is a dict that ``torch.load(weights_only=True)`` can read, so
loading it never runs code::

    format      "attnprobe/1"
    arch        the ModelConfig as a dict
    state_dict  parameter name -> tensor
    vocab       {"src": [tokens], "tgt": [tokens]}
    data        what it was trained on (e.g. {"toy": "enfr"}), or None
    train       training metadata (steps, seed, time, dev loss / accuracy, ...)

A file holding a pickled ``nn.Module`` needs the unpickler to run code from
the file: :func:`load` refuses it unless the caller passes ``trust=True``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import torch

from attnprobe.data import Vocab
from attnprobe.errors import CheckpointError, InputError
from attnprobe.fileio import atomic_path
from attnprobe.models.reference.rnn import ModelConfig, Seq2Seq, build_model, config_dict

__all__ = ["FORMAT", "save", "load", "file_hash"]

FORMAT = "attnprobe/1"
_KEYS = ("format", "arch", "state_dict", "vocab")


def save(
    model: Seq2Seq,
    path: str | os.PathLike,
    data: dict | None = None,
    train: dict | None = None,
) -> Path:
    """Write ``model`` (with its vocabularies) as an attnprobe checkpoint, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from attnprobe.data import Vocab
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> v = Vocab.build([["a", "b"]])
    >>> m = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> m.src_vocab = m.tgt_vocab = v
    >>> p = save(m, pathlib.Path(tempfile.mkdtemp()) / "m.pt", train={"steps": 0})
    >>> load(p).meta["train"]
    {'steps': 0}
    """
    if model.src_vocab is None or model.tgt_vocab is None:
        raise InputError("the model has no vocabularies; set model.src_vocab and model.tgt_vocab")
    blob = {
        "format": FORMAT,
        "arch": config_dict(model.cfg),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "vocab": {"src": list(model.src_vocab.tokens), "tgt": list(model.tgt_vocab.tokens)},
        "data": data,
        "train": train,
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)
    return path


def load(path: str | os.PathLike, trust: bool = False) -> Seq2Seq:
    """Load a checkpoint into a ready model in eval mode, with vocabularies and metadata.

    Parameters
    ----------
    path : an attnprobe checkpoint (see :func:`save`).
    trust : allow a pickled ``Seq2Seq`` module. Unpickling runs code stored in
        the file: only for files from a source you trust.

    Raises
    ------
    CheckpointError : missing, truncated, not an attnprobe checkpoint, or pickled
        without ``trust``.

    Examples
    --------
    >>> load("no/such/model.pt")
    Traceback (most recent call last):
    ...
    attnprobe.errors.CheckpointError: no/such/model.pt: file not found (fix: check the path)
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("file not found", path=path, fix="check the path")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not trust:
            raise CheckpointError(
                "holds pickled Python objects, which run code when loaded "
                f"({str(exc).splitlines()[0][:80]})",
                path=path,
                fix="pass trust=True (CLI: --trust-pickle) only if you trust its source, "
                "or re-save it as an attnprobe checkpoint",
            ) from None
        blob = _load_trusted(path)
    except Exception as exc:  # noqa: BLE001 - any failure to parse the file is the same error
        raise CheckpointError(
            f"cannot be read as a torch file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:80]})",
            path=path,
            fix="the file may be truncated or not a checkpoint; re-download or re-train it",
        ) from None
    if isinstance(blob, Seq2Seq):
        return blob.eval()
    return _from_blob(blob, path)


def _load_trusted(path: Path) -> Seq2Seq:
    blob = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(blob, dict):
        return blob
    if not isinstance(blob, Seq2Seq):
        raise CheckpointError(
            f"holds a pickled {type(blob).__name__}, not an attnprobe model",
            path=path,
            fix="wrap your own module with attnprobe.wrap(...) in Python instead",
        )
    return blob


def _from_blob(blob, path: Path) -> Seq2Seq:
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise CheckpointError(
            f"not an attnprobe checkpoint (format {found!r}, expected {FORMAT!r})",
            path=path,
            fix="train one with `attnprobe train`, or wrap your own model with attnprobe.wrap",
        )
    missing = [k for k in _KEYS if k not in blob]
    if missing:
        raise CheckpointError(f"checkpoint lacks {missing}", path=path)
    try:
        cfg = ModelConfig.from_dict(blob["arch"])
        model = build_model(cfg)
        model.load_state_dict(blob["state_dict"])
    except (InputError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"architecture and weights do not fit: {exc}", path=path) from None
    model.src_vocab = Vocab(blob["vocab"]["src"])
    model.tgt_vocab = Vocab(blob["vocab"]["tgt"])
    model.meta = {
        "path": str(path),
        "sha256": file_hash(path),
        "data": blob.get("data"),
        "train": blob.get("train"),
    }
    return model.eval()


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (the checkpoint hash in result signatures).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
    >>> file_hash(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

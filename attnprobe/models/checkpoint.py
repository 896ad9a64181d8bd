"""The attnprobe checkpoint format: one ``.pt`` file of plain types and tensors.

A checkpoint is a dict that ``torch.load(weights_only=True)`` can read, so
loading it never runs code::

    format      "attnprobe/1"
    arch        the ModelConfig as a dict
    state_dict  parameter name -> tensor
    vocab       {"src": [tokens], "tgt": [tokens]}
    data        what it was trained on (e.g. {"toy": "enfr"}), or None
    train       training metadata (steps, seed, time, dev loss / accuracy, ...)
    subwords    (subword models only) {"src": bytes, "tgt": bytes}: the serialised
                SentencePiece model of each side (None: that side reads words)
    resume      (periodic training checkpoints only) what the trainer needs to
                continue: optimiser state, step, RNG states, early stopping

A file holding a pickled ``nn.Module`` needs the unpickler to run code from
the file: :func:`load` refuses it unless the caller passes ``trust=True``.
Before anything is unpickled, the first bytes say what the file is (empty, a
zip archive, a pickle, or neither), and the pickle opcodes say which class a
pickled file holds, so that the error advises ``trust`` only where it helps: a
pickled attnprobe model, or a checkpoint dict with extra Python objects.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import pickletools
import zipfile
from pathlib import Path

import torch

from attnprobe.data import Vocab
from attnprobe.errors import CheckpointError, InputError
from attnprobe.fileio import atomic_path
from attnprobe.models.reference.rnn import ModelConfig, Seq2Seq, build_model, config_dict

__all__ = ["FORMAT", "save", "load", "read_resume", "file_hash"]

FORMAT = "attnprobe/1"
_KEYS = ("format", "arch", "state_dict", "vocab")


def save(
    model: Seq2Seq,
    path: str | os.PathLike,
    data: dict | None = None,
    train: dict | None = None,
    resume: dict | None = None,
) -> Path:
    """Write ``model`` (with its vocabularies) as an attnprobe checkpoint, atomically.

    ``resume`` (plain types and tensors) is the trainer's state in a periodic
    checkpoint (see :func:`read_resume`); the file loads as a model all the same.

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
    subwords = {side: getattr(model, f"{side}_subwords", None) for side in ("src", "tgt")}
    if any(subwords.values()):
        blob["subwords"] = {k: None if v is None else v.proto for k, v in subwords.items()}
    if resume is not None:
        blob["resume"] = resume
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
    CheckpointError : missing, empty, truncated, not a torch file, not an attnprobe
        checkpoint, or a pickled module without ``trust`` (one line that says which).

    Examples
    --------
    >>> load("no/such/model.pt")
    Traceback (most recent call last):
    ...
    attnprobe.errors.CheckpointError: no/such/model.pt: file not found (fix: check the path)
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(
            "is a folder, not a checkpoint file", path=path, fix="give the .pt file"
        )
    if not path.is_file():
        raise CheckpointError("file not found", path=path, fix="check the path")
    kind = _sniff(path)
    if kind == "empty":
        raise CheckpointError(
            "empty file (0 bytes)", path=path, fix="the download or save did not finish; redo it"
        )
    if kind == "unknown":
        raise CheckpointError(
            "not a torch checkpoint (neither a zip archive nor a pickle)",
            path=path,
            fix="give a .pt file written by `attnprobe train` or attnprobe.save",
        )
    if kind == "plain pickle":
        raise CheckpointError(
            "a plain Python pickle, not a torch checkpoint",
            path=path,
            fix="load it in Python yourself and pass the model to attnprobe.wrap(...)",
        )
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        blob = _load_pickled(path, kind, trust)
    except Exception as exc:  # noqa: BLE001 - any failure to parse the file is the same error
        raise CheckpointError(
            f"cannot be read as a torch file ({_describe(exc)})",
            path=path,
            fix="the file may be truncated or not a checkpoint; re-download or re-train it",
        ) from None
    if isinstance(blob, Seq2Seq):
        return blob.eval()
    return _from_blob(blob, path)


def read_resume(path: str | os.PathLike) -> dict:
    """The trainer's ``resume`` state stored in a periodic checkpoint.

    Raises
    ------
    CheckpointError : the file is not a checkpoint, or one without a training state.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from attnprobe.data import Vocab
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> v = Vocab.build([["a"]])
    >>> m = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> m.src_vocab = m.tgt_vocab = v
    >>> p = save(m, pathlib.Path(tempfile.mkdtemp()) / "step-1.pt", resume={"step": 1})
    >>> read_resume(p)
    {'step': 1}
    """
    path = Path(path)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to parse the file is the same error
        raise CheckpointError(
            f"cannot be read as a torch file ({_describe(exc)})",
            path=path,
            fix="delete this checkpoint to resume from the one before it",
        ) from None
    if not isinstance(blob, dict) or not isinstance(blob.get("resume"), dict):
        raise CheckpointError(
            "holds no training state to resume from",
            path=path,
            fix="resume from a checkpoint written by `attnprobe train --checkpoint-every N`",
        )
    return blob["resume"]


#: the first pickle of torch's pre-1.6 (non-zip) format is this number
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _sniff(path: Path) -> str:
    """What a file is, from its first bytes, without unpickling anything.

    One of ``"empty"``, ``"zip"`` (torch's format since 1.6), ``"legacy"``
    (torch's older format: a series of pickles), ``"plain pickle"`` (pickled with
    :mod:`pickle`, never loadable by ``torch.load``) or ``"unknown"``.
    """
    with open(path, "rb") as f:
        head = f.read(4)
        if not head:
            return "empty"
        if head.startswith(b"PK\x03\x04"):
            return "zip"
        if len(head) < 2 or head[0] != 0x80 or not 2 <= head[1] <= 5:  # pickle PROTO 2-5
            return "unknown"
        f.seek(0)
        try:
            first = [arg for op, arg, _ in pickletools.genops(f) if op.name.startswith("LONG")]
        except Exception:  # noqa: BLE001 - not a well-formed pickle
            return "unknown"
    return "legacy" if first[:1] == [_LEGACY_MAGIC] else "plain pickle"


def _pickled_class(path: Path, kind: str) -> str | None:
    """``module.Name`` of the object a torch file pickles, or None for a dict, list, ...

    Read from the pickle opcodes; nothing is unpickled, no code runs.
    """
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as z:
                name = next(n for n in z.namelist() if n.rsplit("/", 1)[-1] == "data.pkl")
                stream = io.BytesIO(z.read(name))
        else:  # legacy: magic number, protocol version and system info come first
            stream = open(path, "rb")  # noqa: SIM115 - closed below
        with stream:
            for _ in range(3 if kind == "legacy" else 0):
                for _op in pickletools.genops(stream):
                    pass
            strings = []
            for op, arg, _ in pickletools.genops(stream):
                # MARK: the legacy format names a module's class in a ("module", cls, ...) tuple
                if op.name in ("PROTO", "FRAME", "MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT", "MARK"):
                    continue
                if "UNICODE" in op.name or "STRING" in op.name:
                    strings.append(arg)
                elif op.name == "GLOBAL":
                    return arg.replace(" ", ".")
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    return f"{strings[-2]}.{strings[-1]}"
                else:
                    return None
    except Exception:  # noqa: BLE001 - an unreadable pickle names no class
        return None
    return None


def _load_pickled(path: Path, kind: str, trust: bool) -> Seq2Seq | dict:
    """A torch file with more than plain types and tensors: refuse it, or (trusted) load it."""
    cls = _pickled_class(path, kind)
    ours = cls is not None and cls.startswith("attnprobe.") and cls.endswith(".Seq2Seq")
    if cls is not None and not ours:
        raise CheckpointError(
            f"holds a pickled {cls}, not an attnprobe checkpoint",
            path=path,
            fix="load it in Python yourself and pass the module to attnprobe.wrap(...)",
        )
    if not trust:
        what = "an attnprobe Seq2Seq module" if ours else "Python objects besides tensors"
        raise CheckpointError(
            f"holds {what}; unpickling it runs code stored in the file",
            path=path,
            fix="pass trust=True (CLI: --trust-pickle) only if you trust its source, "
            "or re-save it with attnprobe.save",
        )
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - the unpickler runs the file's code: anything goes
        raise CheckpointError(
            f"cannot be unpickled ({_describe(exc)})",
            path=path,
            fix="it needs code that is not installed here; re-save it as an attnprobe checkpoint",
        ) from None
    if isinstance(blob, dict | Seq2Seq):
        return blob
    raise CheckpointError(
        f"holds a pickled {type(blob).__name__}, not an attnprobe model",
        path=path,
        fix="wrap your own module with attnprobe.wrap(...) in Python instead",
    )


def _describe(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 80 characters of it)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:80]}" if lines else type(exc).__name__


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
    if blob.get("subwords"):
        _attach_subwords(model, blob["subwords"], path)
    model.meta = {
        "path": str(path),
        "sha256": file_hash(path),
        "data": blob.get("data"),
        "train": blob.get("train"),
    }
    return model.eval()


def _attach_subwords(model: Seq2Seq, protos: dict, path: Path) -> None:
    """Give a loaded model its SentencePiece models (a one-line error without the package)."""
    from attnprobe.models.reference.subwords import Subwords, attach

    try:
        sides = [None if protos.get(k) is None else Subwords(protos[k]) for k in ("src", "tgt")]
        attach(model, *sides)
    except InputError as exc:
        raise CheckpointError(f"a subword model: {exc.message}", path=path, fix=exc.fix) from None


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

"""Shared test fixtures: paths to the shipped fixtures and to ../shared/data."""

from __future__ import annotations

import functools
import sys
import weakref
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real gold data not found at {SHARED_DATA} (it sits beside the checkout in CI)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A folder with an untrained tiny Bahdanau checkpoint ``m.pt`` and three sentence
    pairs for it: ``t.src``, ``t.tgt`` and their gold alignments ``t.gold`` (Pharaoh)."""
    from attnprobe.data import ParallelCorpus, Vocab
    from attnprobe.models.checkpoint import save
    from attnprobe.models.reference.rnn import ModelConfig, build_model

    d = tmp_path_factory.mktemp("tiny-checkpoint")
    src, tgt = [["a", "b"], ["b", "c", "a"], ["c"]], [["x", "y"], ["y", "z", "x"], ["z"]]
    (d / "t.src").write_text("\n".join(" ".join(s) for s in src) + "\n")
    (d / "t.tgt").write_text("\n".join(" ".join(t) for t in tgt) + "\n")
    (d / "t.gold").write_text("0-0 1-1\n0-0 1-1 2-2\n0-0\n")
    sv, tv = Vocab.build(src), Vocab.build(tgt)
    model = build_model(ModelConfig(len(sv), len(tv), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    model.src_vocab, model.tgt_vocab = sv, tv
    save(model, d / "m.pt", train={"steps": 0})
    assert ParallelCorpus.read(d / "t.src", d / "t.tgt")
    return d


# --- hooks are global state: no test may leave one behind (see attnprobe.capturing.hooks) ---

_MODULE_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
)
_GLOBAL_HOOK_DICTS = (
    "_global_forward_hooks",
    "_global_forward_pre_hooks",
    "_global_backward_hooks",
    "_global_backward_pre_hooks",
)


_REGISTRATIONS = (
    "register_forward_hook",
    "register_forward_pre_hook",
    "register_full_backward_hook",
    "register_full_backward_pre_hook",
    "register_backward_hook",
)
_hooked: weakref.WeakSet | None = None  # every module a hook was ever registered on


def _track_registrations() -> None:
    """Note each module that gets a hook (so that a test's check need not scan the heap)."""
    global _hooked
    from torch import nn

    _hooked = weakref.WeakSet()

    def tracking(register):
        @functools.wraps(register)
        def wrapper(self, *args, **kwargs):
            _hooked.add(self)
            return register(self, *args, **kwargs)

        return wrapper

    for name in _REGISTRATIONS:
        setattr(nn.Module, name, tracking(getattr(nn.Module, name)))


def _live_modules() -> list:
    """Modules that may hold hooks: all live ones once (heap scan), then the tracked ones."""
    if _hooked is not None:
        return list(_hooked)
    import gc
    import warnings

    import torch

    with warnings.catch_warnings():  # isinstance() on some lazy torch objects warns
        warnings.simplefilter("ignore")
        modules = [o for o in gc.get_objects() if isinstance(o, torch.nn.Module)]
    _track_registrations()
    return modules


def _leftover_hooks() -> list[str]:
    """Hooks on any live module, in torch's global hook dicts, or a torch function mode left on."""
    import torch
    from torch.nn.modules import module as torch_module

    found = [f"torch global {name}" for name in _GLOBAL_HOOK_DICTS if getattr(torch_module, name)]
    for obj in _live_modules():
        for name in _MODULE_HOOK_DICTS:
            if getattr(obj, name, None):
                found.append(f"{type(obj).__name__}.{name}")
    if torch._C._len_torch_function_stack():
        found.append("a TorchFunctionMode still on the stack")
    if not torch.backends.mha.get_fastpath_enabled():
        found.append("torch.backends.mha fast path left disabled")
    return found


def _clear_hooks() -> None:
    """Remove what a failing test left, so that one leak does not fail every later test."""
    import torch
    from torch.nn.modules import module as torch_module

    for name in _GLOBAL_HOOK_DICTS:
        getattr(torch_module, name).clear()
    for obj in _live_modules():
        for name in _MODULE_HOOK_DICTS:
            getattr(obj, name, {}).clear()
    while torch._C._len_torch_function_stack():
        torch._C._pop_torch_function_stack()
    torch.backends.mha.set_fastpath_enabled(True)


@pytest.fixture(autouse=True)
def no_leftover_hooks():
    """Fail any test that leaves a forward/backward (pre-)hook registered (torch tests only)."""
    yield
    if "torch" not in sys.modules:
        return
    leftover = _leftover_hooks()
    if leftover:
        _clear_hooks()
        pytest.fail(f"test left hooks behind: {sorted(set(leftover))}")


def tiny_toy_model(n_pairs: int, max_len: int):
    """A tiny Bahdanau model trained for 5 steps on the first short toy En-Fr dev pairs.

    Returns ``(model, corpus, gold alignments)``; ``model.meta`` mimics a checkpoint's.
    """
    from attnprobe.data import ParallelCorpus, Vocab
    from attnprobe.data.toy import generate_split
    from attnprobe.models.reference.rnn import ModelConfig
    from attnprobe.models.reference.train import TrainConfig, train

    ex = [e for e in generate_split("enfr", "dev") if len(e.src) <= max_len][:n_pairs]
    corpus = ParallelCorpus([list(e.src) for e in ex], [list(e.tgt) for e in ex], name="tiny")
    sv, tv = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    cfg = ModelConfig(len(sv), len(tv), emb_dim=8, enc_dim=8, hidden_dim=16)
    model = train(cfg, corpus, corpus, TrainConfig(max_steps=5), sv, tv, progress=False).model
    model.meta = {"path": "tiny.pt", "sha256": "0" * 64, "data": None, "train": {"steps": 5}}
    return model, corpus, [e.alignment for e in ex]


def pytest_configure(config):
    """One torch thread per process: on 2 cores torch's default threading makes the suite
    several times slower (and subprocesses started by tests inherit the setting)."""
    import os

    threads = os.environ.get("ATTNPROBE_TEST_THREADS", "1")  # for measuring the choice
    os.environ.setdefault("OMP_NUM_THREADS", threads)
    import torch

    torch.set_num_threads(int(threads))

"""Train a reference model on a parallel corpus.

Adam on length-bucketed batches, gradient-norm clipping, evaluation on the dev
set at a fixed step interval, early stopping on dev loss (the best weights are
restored at the end), a hard wall-clock limit checked after every update,
progress (a bar on a terminal, one line every N steps or S seconds otherwise),
and periodic checkpoints in a work area from which an interrupted run resumes.

Training is deterministic for a seed on the CPU: all randomness comes from one
``random.Random`` (batch order) and torch's generator seeded in a forked RNG
state, and the number of torch threads is fixed while training (and restored
afterwards). A checkpoint holds everything the rest of the run depends on
(weights, optimiser, step, the batch-order RNG at the start of the epoch and
the position in it, torch's RNG, the early-stopping state), so training k
steps, stopping and resuming to 2k gives the weights of 2k steps straight.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.nn import functional as F

from attnprobe.data import PAD_ID, ParallelCorpus, Vocab, bucket_batches, make_batch
from attnprobe.errors import InputError
from attnprobe.models.reference.rnn import ModelConfig, Seq2Seq, build_model, config_dict

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train",
    "evaluate_loss",
    "work_area",
    "checkpoints",
    "latest_checkpoint",
]

log = logging.getLogger("attnprobe")

#: settings that shape the weights: a resumed run must use the ones it started with
_FIXED_ON_RESUME = ("batch_size", "lr", "clip", "eval_every", "min_delta", "seed", "threads")


@dataclasses.dataclass
class TrainConfig:
    """Optimisation settings (stored in the checkpoint's ``train`` metadata).

    Examples
    --------
    >>> TrainConfig(lr=1e-3).batch_size
    64
    """

    batch_size: int = 64  # sentence pairs per batch
    lr: float = 3e-3  # Adam learning rate
    epochs: int = 20  # upper bound on passes over the training data
    max_steps: int = 0  # upper bound on updates (0: no bound)
    time_limit: float = 0.0  # wall-clock seconds for this run, final dev check included (0: none)
    clip: float = 1.0  # gradient-norm clipping threshold
    eval_every: int = 200  # updates between dev evaluations
    patience: int = 5  # evaluations without dev-loss improvement before stopping
    min_delta: float = 1e-4  # smallest dev-loss decrease that counts as improvement
    seed: int = 0  # seeds initialisation, dropout and batch order
    threads: int = 1  # torch CPU threads while training (results depend on it)
    checkpoint_every: int = 0  # updates between checkpoints in the work area, and step 0 (0: none)
    keep_checkpoints: int = 2  # newest checkpoints kept in the work area (0: all)
    log_every: int = 100  # updates between progress lines (when no bar is shown)
    log_seconds: float = 30.0  # ... or seconds, whichever comes first

    def __post_init__(self):
        for name in ("batch_size", "epochs", "eval_every", "patience", "threads", "log_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("max_steps", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.time_limit < 0:
            raise InputError(f"time limit must not be negative, got {self.time_limit}")
        if not self.lr > 0:
            raise InputError(f"learning rate must be positive, got {self.lr}")


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns: the trained model (best dev weights) and its record."""

    model: Seq2Seq
    steps: int
    seconds: float  # training time over all runs of a resumed training
    dev_loss: float
    dev_accuracy: float
    stopped: str  # why training ended: "converged" | "epochs" | "max_steps" | "time_limit"
    best_step: int = 0  # the update whose weights were kept (best dev loss)
    checkpoint: Path | None = None  # the last checkpoint written to the work area

    def metadata(self, cfg: TrainConfig) -> dict:
        """The ``train`` entry of the checkpoint (plain types only)."""
        return {
            "steps": self.steps,
            "best_step": self.best_step,
            "seconds": round(self.seconds, 1),
            "dev_loss": round(self.dev_loss, 5),
            "dev_accuracy": round(self.dev_accuracy, 5),
            "stopped": self.stopped,
            "config": dataclasses.asdict(cfg),
            "torch": str(torch.__version__),
        }


def _token_stats(model: Seq2Seq, batch) -> tuple[torch.Tensor, int, int]:
    """Summed NLL, correct tokens and token count of a teacher-forced batch."""
    logits = model(batch.src, batch.src_lens, batch.tgt_in).logits  # [B, T, V]
    gold = batch.tgt_out
    real = gold != PAD_ID
    nll = F.cross_entropy(logits.transpose(1, 2), gold, ignore_index=PAD_ID, reduction="sum")
    correct = int(((logits.argmax(-1) == gold) & real).sum())
    return nll, correct, int(real.sum())


def _batches(corpus: ParallelCorpus, model: Seq2Seq, batch_size: int, order=None):
    """Batches of a corpus already in the model's tokens (words, or pieces of a subword model)."""
    for idx in order if order is not None else bucket_batches(corpus.lengths, batch_size):
        src, tgt = [corpus.src[i] for i in idx], [corpus.tgt[i] for i in idx]
        yield make_batch(src, tgt, model.src_vocab, model.tgt_vocab, idx)


@torch.no_grad()
def _evaluate(model: Seq2Seq, tokens: ParallelCorpus, batch_size: int) -> tuple[float, float]:
    was_training = model.training
    model.eval()
    try:
        nll, correct, total = 0.0, 0, 0
        for batch in _batches(tokens, model, batch_size):
            n, c, t = _token_stats(model, batch)
            nll, correct, total = nll + float(n), correct + c, total + t
    finally:
        model.train(was_training)
    return nll / max(total, 1), correct / max(total, 1)


def evaluate_loss(
    model: Seq2Seq, corpus: ParallelCorpus, batch_size: int = 64
) -> tuple[float, float]:
    """Per-token NLL and teacher-forced token accuracy (EOS included, padding excluded).

    For a subword model the tokens are its pieces.

    Examples
    --------
    >>> from attnprobe.data import Vocab, ParallelCorpus
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> c = ParallelCorpus([["a"]], [["b"]]); v = Vocab.build(c.src + c.tgt)
    >>> m = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> m.src_vocab = m.tgt_vocab = v
    >>> loss, acc = evaluate_loss(m, c)
    >>> 0 <= acc <= 1 and loss > 0
    True
    """
    return _evaluate(model, _as_tokens(model, corpus), batch_size)


def _as_tokens(model: Seq2Seq, corpus: ParallelCorpus) -> ParallelCorpus:
    """The corpus in the model's tokens: unchanged for a word-level model, pieces otherwise."""
    pieces = getattr(model, "to_pieces", None)
    return corpus if pieces is None else pieces(corpus)


def work_area(out: str | Path) -> Path:
    """The folder beside checkpoint ``out`` where periodic checkpoints go.

    Examples
    --------
    >>> work_area("models/de-en.pt").as_posix()
    'models/de-en.work'
    """
    out = Path(out)
    return out.with_name(out.name.removesuffix(".pt") + ".work")


_STEP_FILE = re.compile(r"^step-(\d+)\.pt$")


def checkpoints(work: str | Path) -> list[tuple[int, Path]]:
    """The ``step-N.pt`` checkpoints of a work area as ``(N, path)``, in step order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in (20, 3): _ = (d / f"step-{n:08d}.pt").write_bytes(b"")
    >>> [n for n, _ in checkpoints(d)]
    [3, 20]
    """
    work = Path(work)
    found = [(m, p) for p in work.glob("step-*.pt") if (m := _STEP_FILE.match(p.name))]
    return sorted((int(m.group(1)), p) for m, p in found)


def latest_checkpoint(work: str | Path) -> Path | None:
    """The newest ``step-N.pt`` in a work area (largest N), or None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in (20, 100, 3): _ = (d / f"step-{n:08d}.pt").write_bytes(b"")
    >>> latest_checkpoint(d).name
    'step-00000100.pt'
    """
    found = checkpoints(Path(work)) if Path(work).is_dir() else []
    return found[-1][1] if found else None


@dataclasses.dataclass
class _State:
    """Everything the rest of a run depends on besides weights and optimiser (checkpointed)."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of ``epoch`` already trained on
    epoch_rng: tuple | None = None  # batch-order RNG state at the start of ``epoch``
    best_loss: float = math.inf
    best_acc: float = 0.0
    best_step: int = 0
    bad_evals: int = 0
    last_eval_step: int = -1
    dev_loss: float | None = None  # latest dev loss
    seconds: float = 0.0  # training time of the earlier runs (resume)
    loss_avg: float | None = None  # moving averages for progress
    acc_avg: float | None = None


def train(
    model_cfg: ModelConfig | Seq2Seq,
    train_data: ParallelCorpus,
    dev_data: ParallelCorpus,
    cfg: TrainConfig | None = None,
    src_vocab: Vocab | None = None,
    tgt_vocab: Vocab | None = None,
    progress: bool | None = None,
    *,
    work_dir: str | Path | None = None,
    resume: bool = False,
    subwords: tuple | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train a reference model; returns it with its best dev-loss weights.

    Parameters
    ----------
    model_cfg : the architecture (a fresh model is built, seeded with ``cfg.seed``;
        its vocabulary sizes are replaced by those of the vocabularies) or an
        existing model to continue training.
    train_data, dev_data : parallel corpora of words.
    cfg : optimisation settings.
    src_vocab, tgt_vocab : vocabularies; built from ``train_data`` when omitted
        (for a subword model: the pieces of ``subwords``).
    progress : show a progress bar (None: only when stderr is a terminal). Without
        a bar, a progress line goes to ``on_progress`` every ``cfg.log_every``
        updates or ``cfg.log_seconds`` seconds.
    work_dir : where checkpoints go every ``cfg.checkpoint_every`` updates and at
        the end (see :func:`work_area`); needed for ``checkpoint_every`` and ``resume``.
    resume : continue from the newest checkpoint in ``work_dir`` (architecture,
        vocabularies and subword models come from it).
    subwords : ``(source, target)`` :class:`~attnprobe.models.reference.subwords.Subwords`
        tokenisers: the model reads and writes their pieces.
    on_progress : receives each progress line (default: the ``attnprobe`` logger, INFO).

    Raises
    ------
    InputError : empty corpora, a run that diverged, ``resume`` without a checkpoint
        or with other settings or architecture than the saved run.

    Examples
    --------
    >>> from attnprobe.data import ParallelCorpus
    >>> from attnprobe.models.reference.rnn import ModelConfig
    >>> data = ParallelCorpus([["a", "b"], ["b"]] * 8, [["x", "y"], ["y"]] * 8)
    >>> cfg = ModelConfig(src_vocab=5, tgt_vocab=5, emb_dim=8, enc_dim=8, hidden_dim=16)
    >>> result = train(cfg, data, data, TrainConfig(max_steps=60, eval_every=20, lr=0.02),
    ...                progress=False)
    >>> result.dev_accuracy
    1.0
    """
    cfg = cfg or TrainConfig()
    if len(train_data) == 0 or len(dev_data) == 0:
        raise InputError("training and dev corpora must not be empty")
    if (cfg.checkpoint_every or resume) and work_dir is None:
        raise InputError("checkpoints and resume need a work folder (work_dir)")
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            run = _Run(cfg, work_dir, progress, on_progress)
            model = run.setup(model_cfg, train_data, src_vocab, tgt_vocab, subwords, resume)
            return run.loop(model, train_data, dev_data)
    finally:
        torch.set_num_threads(threads)


class _Run:
    """One invocation of :func:`train`: model setup, the update loop, checkpoints, progress."""

    def __init__(self, cfg: TrainConfig, work_dir, progress, on_progress):
        self.cfg = cfg
        self.work = None if work_dir is None else Path(work_dir)
        self.bar_wanted = sys.stderr.isatty() if progress is None else bool(progress)
        self.say = on_progress or (lambda line: log.info("%s", line))
        self.state = _State()
        self.rng = random.Random(cfg.seed)
        self.opt = None
        self.start = time.perf_counter()
        self.last_checkpoint: Path | None = None
        self.eval_seconds: float | None = None  # duration of the latest dev evaluation
        self.best_weights: dict | None = None  # state dict of the best dev loss so far

    # -- setup -------------------------------------------------------------------

    def setup(self, model_cfg, train_data, src_vocab, tgt_vocab, subwords, resume) -> Seq2Seq:
        if resume:
            return self._resume(model_cfg)
        if isinstance(model_cfg, Seq2Seq):
            model = model_cfg
        else:
            if subwords is not None:
                from attnprobe.models.reference.subwords import attach

                src_vocab, tgt_vocab = (s.vocab() for s in subwords)
            src_vocab = src_vocab or Vocab.build(train_data.src)
            tgt_vocab = tgt_vocab or Vocab.build(train_data.tgt)
            sizes = {"src_vocab": len(src_vocab), "tgt_vocab": len(tgt_vocab)}
            model = build_model(dataclasses.replace(model_cfg, **sizes))
            model.src_vocab, model.tgt_vocab = src_vocab, tgt_vocab
            if subwords is not None:
                attach(model, *subwords)
        self.opt = torch.optim.Adam(model.parameters(), lr=self.cfg.lr)
        if self.work is not None and self.cfg.checkpoint_every:
            self.work.mkdir(parents=True, exist_ok=True)
        return model

    def _resume(self, model_cfg) -> Seq2Seq:
        from attnprobe.models.checkpoint import load, read_resume

        path = latest_checkpoint(self.work)
        if path is None:
            raise InputError(
                "no checkpoint to resume from (no step-N.pt)",
                path=self.work,
                fix="train without --resume (and with --checkpoint-every N to make some)",
            )
        saved = read_resume(path)
        old = saved["config"]
        changed = [k for k in _FIXED_ON_RESUME if old.get(k) != getattr(self.cfg, k)]
        if changed:
            raise InputError(
                "the run resumed with other settings: "
                + ", ".join(f"{k} {old.get(k)} -> {getattr(self.cfg, k)}" for k in changed),
                path=path,
                fix="give the settings of the run being resumed, or train afresh without --resume",
            )
        model = load(path)
        model.meta = {}
        if isinstance(model_cfg, ModelConfig):
            _check_same_arch(model_cfg, model.cfg, path)
        self.opt = torch.optim.Adam(model.parameters(), lr=self.cfg.lr)
        self.opt.load_state_dict(saved["optimizer"])
        st = saved["state"]
        best = st.pop("best_state")
        self.state = _State(**st)
        self.state.epoch_rng = _as_rng_state(self.state.epoch_rng)
        self.best_weights = best
        self.rng.setstate(_as_rng_state(saved["rng"]))
        torch.set_rng_state(saved["torch_rng"])
        self.last_checkpoint = path
        log.info("resuming from %s (step %d)", path, self.state.step)
        return model

    # -- the loop ----------------------------------------------------------------

    def loop(self, model: Seq2Seq, train_data: ParallelCorpus, dev_data: ParallelCorpus):
        cfg, st = self.cfg, self.state
        train_tok, dev_tok = _as_tokens(model, train_data), _as_tokens(model, dev_data)
        self.dev_batches = math.ceil(len(dev_tok) / cfg.batch_size)
        per_epoch = math.ceil(len(train_tok) / cfg.batch_size)
        self.total = cfg.epochs * per_epoch
        if cfg.max_steps:
            self.total = min(self.total, cfg.max_steps)
        if self.work is not None and cfg.checkpoint_every and st.step == 0:
            self._save_checkpoint(model)  # the weights at initialisation (step 0)
        progress = _Progress(self, model.cfg.name)
        stopped = ""
        model.train()
        try:
            while not stopped and st.epoch < cfg.epochs:
                if st.epoch_rng is None:
                    st.epoch_rng = self.rng.getstate()
                self.rng.setstate(st.epoch_rng)
                order = list(bucket_batches(train_tok.lengths, cfg.batch_size, self.rng))
                for idx in order[st.batch_in_epoch :]:
                    stopped = self._update(model, train_tok, dev_tok, idx)
                    progress.update()
                    if stopped:
                        break
                else:
                    st.epoch, st.batch_in_epoch, st.epoch_rng = st.epoch + 1, 0, None
            stopped = stopped or "epochs"
            if st.last_eval_step != st.step:  # the weights of the last update get their check
                self._dev_check(model, dev_tok)
            if self.work is not None and cfg.checkpoint_every:
                self._save_checkpoint(model)
        finally:
            progress.close(stopped)
            model.eval()
        if self.best_weights is None:
            raise InputError(
                f"training diverged: dev loss is {st.dev_loss} after {st.step} steps",
                fix="lower the learning rate (--lr) or the gradient clipping threshold (--clip)",
            )
        model.load_state_dict(self.best_weights)
        return TrainResult(
            model,
            st.step,
            self.elapsed() + st.seconds,
            st.best_loss,
            st.best_acc,
            stopped,
            st.best_step,
            self.last_checkpoint,
        )

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _update(self, model, train_tok, dev_tok, idx) -> str:
        """One update, then the dev check and checkpoint when due; returns why to stop ("")."""
        cfg, st = self.cfg, self.state
        batch = next(_batches(train_tok, model, cfg.batch_size, [idx]))
        nll, correct, tokens = _token_stats(model, batch)
        self.opt.zero_grad()
        (nll / tokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        self.opt.step()
        st.step += 1
        st.batch_in_epoch += 1
        loss, acc = float(nll.detach()) / tokens, correct / tokens
        st.loss_avg = loss if st.loss_avg is None else 0.95 * st.loss_avg + 0.05 * loss
        st.acc_avg = acc if st.acc_avg is None else 0.95 * st.acc_avg + 0.05 * acc
        if st.step % cfg.eval_every == 0 or st.step == self.total:
            self._dev_check(model, dev_tok)
        if cfg.checkpoint_every and st.step % cfg.checkpoint_every == 0:
            self._save_checkpoint(model)
        if st.bad_evals >= cfg.patience:
            return "converged"
        if cfg.max_steps and st.step >= cfg.max_steps:
            return "max_steps"
        if cfg.time_limit and self.elapsed() + self._reserve() >= cfg.time_limit:
            return "time_limit"
        return ""

    def _reserve(self) -> float:
        """Seconds to keep for the final dev check and checkpoint, so a time limit holds."""
        if self.eval_seconds is not None:
            return self.eval_seconds
        # no dev check yet: a forward pass costs about a third of an update
        return self.elapsed() / max(self.state.step, 1) * self.dev_batches / 2

    def _dev_check(self, model, dev_tok) -> None:
        cfg, st = self.cfg, self.state
        t0 = time.perf_counter()
        dev_loss, dev_acc = _evaluate(model, dev_tok, cfg.batch_size)
        self.eval_seconds = time.perf_counter() - t0
        log.info("step %d dev loss %.4f acc %.4f", st.step, dev_loss, dev_acc)
        st.dev_loss, st.last_eval_step = dev_loss, st.step
        if dev_loss < st.best_loss - cfg.min_delta:
            self.best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            st.best_loss, st.best_acc, st.best_step, st.bad_evals = dev_loss, dev_acc, st.step, 0
        else:
            st.bad_evals += 1

    def _save_checkpoint(self, model) -> None:
        from attnprobe.models.checkpoint import save

        st = self.state
        path = self.work / f"step-{st.step:08d}.pt"
        if path == self.last_checkpoint:
            return
        state = dataclasses.asdict(st)
        state["seconds"] = st.seconds + self.elapsed()
        state["best_state"] = self.best_weights
        resume = {
            "config": dataclasses.asdict(self.cfg),
            "optimizer": self.opt.state_dict(),
            "state": state,
            "rng": self.rng.getstate(),
            "torch_rng": torch.get_rng_state(),
        }
        train = {"steps": st.step, "dev_loss": st.dev_loss, "seconds": round(state["seconds"], 1)}
        save(model, path, train=train, resume=resume)
        self.last_checkpoint = path
        keep = self.cfg.keep_checkpoints
        for _, old in checkpoints(self.work)[:-keep] if keep else []:
            old.unlink(missing_ok=True)


def _as_rng_state(state) -> tuple | None:
    """``random.Random`` state as saved (lists or tuples) -> the tuple ``setstate`` takes."""
    if state is None:
        return None
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def _check_same_arch(given: ModelConfig, saved: ModelConfig, path) -> None:
    a, b = config_dict(given), config_dict(saved)
    # vocabulary sizes come from the saved vocabularies; max_src_len 0 means "from the data"
    derived = ("src_vocab", "tgt_vocab", *(["max_src_len"] if not a["max_src_len"] else []))
    diff = [k for k in a if k not in derived and a[k] != b.get(k)]
    if diff:
        raise InputError(
            "the saved run has another architecture: "
            + ", ".join(f"{k} {b.get(k)} (asked {a[k]})" for k in diff),
            path=path,
            fix="give the architecture options of the run being resumed",
        )


def _duration(seconds: float) -> str:
    """``1h02m``, ``3m05s``, ``42s``.

    Examples
    --------
    >>> _duration(42.4), _duration(185), _duration(3725)
    ('42s', '3m05s', '1h02m')
    """
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class _Progress:
    """A tqdm bar on a terminal; otherwise a line every ``log_every`` updates or
    ``log_seconds`` seconds: step, loss, dev loss, speed and the time left."""

    def __init__(self, run: _Run, name: str):
        from tqdm.auto import tqdm

        self.run = run
        self.first_step = run.state.step
        self.last_line = (run.state.step, time.perf_counter())
        self.bar = None
        if run.bar_wanted:
            self.bar = tqdm(
                total=run.total,
                initial=run.state.step,
                unit="step",
                dynamic_ncols=True,
                desc=f"train {name}",
            )

    def update(self) -> None:
        st = self.run.state
        if self.bar is not None:
            dev = "-" if st.dev_loss is None else f"{st.dev_loss:.3f}"
            self.bar.update()
            self.bar.set_postfix(loss=f"{st.loss_avg:.3f}", acc=f"{st.acc_avg:.3f}", dev=dev)
            return
        step, at = self.last_line
        now = time.perf_counter()
        cfg = self.run.cfg
        if st.step - step >= cfg.log_every or now - at >= cfg.log_seconds:
            self.run.say(self.line())
            self.last_line = (st.step, now)

    def line(self) -> str:
        run, st = self.run, self.run.state
        elapsed = run.elapsed()
        rate = (st.step - self.first_step) / elapsed if elapsed > 0 else 0.0
        left = (run.total - st.step) / rate if rate > 0 else math.inf
        if run.cfg.time_limit:
            left = min(left, run.cfg.time_limit - elapsed)
        dev = "" if st.dev_loss is None else f"  dev {st.dev_loss:.4f} (best {st.best_loss:.4f})"
        eta = "?" if math.isinf(left) else _duration(max(left, 0))
        return (
            f"step {st.step}/{run.total}  loss {st.loss_avg:.4f}{dev}  "
            f"{rate:.2f} steps/s  elapsed {_duration(elapsed)}  ETA {eta}"
        )

    def close(self, stopped: str) -> None:
        run, st = self.run, self.run.state
        if self.bar is not None:
            self.bar.close()
        if not stopped:
            return
        limit = run.cfg.time_limit
        why = {
            "converged": f"dev loss did not improve for {run.cfg.patience} checks",
            "epochs": f"{run.cfg.epochs} epochs done",
            "max_steps": f"{run.cfg.max_steps} steps done",
            "time_limit": f"stopped on time: {_duration(run.elapsed())} of the "
            f"{_duration(limit)} limit",
        }[stopped]
        self.run.say(
            f"stopped at step {st.step} ({why}); best dev loss {st.best_loss:.4f} "
            f"at step {st.best_step}"
            + (f"; last checkpoint {run.last_checkpoint}" if run.last_checkpoint else "")
        )

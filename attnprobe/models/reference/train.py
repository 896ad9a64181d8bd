"""Train a reference model on a parallel corpus.

Adam on length-bucketed batches, gradient-norm clipping, evaluation on the dev
set at a fixed step interval, early stopping on dev loss (the best weights are
restored at the end), an optional time limit, and a progress bar showing loss
and accuracy. Training is deterministic for a seed on the CPU: all randomness
comes from one ``random.Random`` (batch order) and torch's generator seeded in
a forked RNG state, and the number of torch threads is fixed while training
(and restored afterwards).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import time

import torch
from torch.nn import functional as F

from attnprobe.data import PAD_ID, ParallelCorpus, Vocab, corpus_batches
from attnprobe.errors import InputError
from attnprobe.models.reference.rnn import ModelConfig, Seq2Seq, build_model

__all__ = ["TrainConfig", "TrainResult", "train", "evaluate_loss"]

log = logging.getLogger("attnprobe")


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
    time_limit: float = 0.0  # seconds; stop after the first evaluation past it (0: none)
    clip: float = 1.0  # gradient-norm clipping threshold
    eval_every: int = 200  # updates between dev evaluations
    patience: int = 5  # evaluations without dev-loss improvement before stopping
    min_delta: float = 1e-4  # smallest dev-loss decrease that counts as improvement
    seed: int = 0  # seeds initialisation, dropout and batch order
    threads: int = 1  # torch CPU threads while training (results depend on it)

    def __post_init__(self):
        for name in ("batch_size", "epochs", "eval_every", "patience", "threads"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise InputError(f"learning rate must be positive, got {self.lr}")


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns: the trained model (best dev weights) and its record."""

    model: Seq2Seq
    steps: int
    seconds: float
    dev_loss: float
    dev_accuracy: float
    stopped: str  # why training ended: "converged" | "epochs" | "max_steps" | "time_limit"

    def metadata(self, cfg: TrainConfig) -> dict:
        """The ``train`` entry of the checkpoint (plain types only)."""
        return {
            "steps": self.steps,
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


@torch.no_grad()
def evaluate_loss(
    model: Seq2Seq, corpus: ParallelCorpus, batch_size: int = 64
) -> tuple[float, float]:
    """Per-token NLL and teacher-forced token accuracy (EOS included, padding excluded).

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
    was_training = model.training
    model.eval()
    try:
        nll, correct, total = 0.0, 0, 0
        for batch in corpus_batches(corpus, model.src_vocab, model.tgt_vocab, batch_size):
            n, c, t = _token_stats(model, batch)
            nll, correct, total = nll + float(n), correct + c, total + t
    finally:
        model.train(was_training)
    return nll / max(total, 1), correct / max(total, 1)


def train(
    model_cfg: ModelConfig | Seq2Seq,
    train_data: ParallelCorpus,
    dev_data: ParallelCorpus,
    cfg: TrainConfig | None = None,
    src_vocab: Vocab | None = None,
    tgt_vocab: Vocab | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train a reference model; returns it with its best dev-loss weights.

    Parameters
    ----------
    model_cfg : the architecture (a fresh model is built, seeded with ``cfg.seed``;
        its vocabulary sizes are replaced by those of the vocabularies) or an
        existing model to continue training.
    train_data, dev_data : parallel corpora.
    cfg : optimisation settings.
    src_vocab, tgt_vocab : vocabularies; built from ``train_data`` when omitted.
    progress : show a progress bar (None: only on a terminal).

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
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            return _train(model_cfg, train_data, dev_data, cfg, src_vocab, tgt_vocab, progress)
    finally:
        torch.set_num_threads(threads)


def _train(model_cfg, train_data, dev_data, cfg, src_vocab, tgt_vocab, progress):
    from tqdm.auto import tqdm

    if isinstance(model_cfg, Seq2Seq):
        model = model_cfg
    else:
        src_vocab = src_vocab or Vocab.build(train_data.src)
        tgt_vocab = tgt_vocab or Vocab.build(train_data.tgt)
        sizes = {"src_vocab": len(src_vocab), "tgt_vocab": len(tgt_vocab)}
        model = build_model(dataclasses.replace(model_cfg, **sizes))
        model.src_vocab, model.tgt_vocab = src_vocab, tgt_vocab
    rng = random.Random(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    batches_per_epoch = math.ceil(len(train_data) / cfg.batch_size)
    total = cfg.epochs * batches_per_epoch
    if cfg.max_steps:
        total = min(total, cfg.max_steps)
    start = time.perf_counter()
    best = (math.inf, 0.0, None)  # dev loss, dev accuracy, state dict
    step, bad_evals, stopped = 0, 0, ""
    show = None if progress is None else bool(progress)
    bar = tqdm(
        total=total,
        disable=None if show is None else not show,
        unit="step",
        dynamic_ncols=True,
        desc=f"train {model.cfg.name}",
    )
    running = {"loss": None, "acc": None}  # exponential moving averages for the bar
    model.train()
    try:
        for _epoch in range(cfg.epochs):
            for batch in corpus_batches(
                train_data, model.src_vocab, model.tgt_vocab, cfg.batch_size, rng
            ):
                nll, correct, tokens = _token_stats(model, batch)
                opt.zero_grad()
                (nll / tokens).backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                opt.step()
                step += 1
                for key, value in (
                    ("loss", float(nll.detach()) / tokens),
                    ("acc", correct / tokens),
                ):
                    old = running[key]
                    running[key] = value if old is None else 0.95 * old + 0.05 * value
                bar.update()
                bar.set_postfix(
                    loss=f"{running['loss']:.3f}",
                    acc=f"{running['acc']:.3f}",
                    dev=f"{best[0]:.3f}",
                    refresh=False,
                )
                if step % cfg.eval_every == 0 or step == total:
                    dev_loss, dev_acc = evaluate_loss(model, dev_data, cfg.batch_size)
                    log.info("step %d dev loss %.4f acc %.4f", step, dev_loss, dev_acc)
                    if dev_loss < best[0] - cfg.min_delta:
                        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                        best, bad_evals = (dev_loss, dev_acc, state), 0
                    else:
                        bad_evals += 1
                    stopped = _stop_reason(cfg, step, bad_evals, start)
                if stopped:
                    break
            if stopped:
                break
    finally:
        bar.close()
        model.eval()
    stopped = stopped or "epochs"
    if best[2] is None:
        raise InputError(
            f"training diverged: dev loss is {dev_loss} after {step} steps",
            fix="lower the learning rate (--lr) or the gradient clipping threshold (--clip)",
        )
    model.load_state_dict(best[2])
    return TrainResult(model, step, time.perf_counter() - start, best[0], best[1], stopped)


def _stop_reason(cfg: TrainConfig, step: int, bad_evals: int, start: float) -> str:
    if bad_evals >= cfg.patience:
        return "converged"
    if cfg.time_limit and time.perf_counter() - start >= cfg.time_limit:
        return "time_limit"
    if cfg.max_steps and step >= cfg.max_steps:
        return "max_steps"
    return ""

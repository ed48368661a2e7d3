"""The one training loop of the book: every model the chapters train goes through :func:`train`.

Introduced in chapter 4 (the heads' model); chapters 5, 6, 8, 9, 10 and 12 train with it too,
and so does ``python -m attnbook.translate --train``. A step is: set the learning rate (a
warm-up, then a constant or a cosine decay), compute the loss (the loss function draws its own
batch), back-propagate, clip the gradient's norm, take an optimizer step. The loop stops after
a number of steps or before a step that would end past a wall-clock budget, and returns a log.

>>> import torch
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> w = torch.nn.Linear(1, 1)
>>> x = torch.linspace(-1, 1, 32)[:, None]
>>> log = train(w, lambda: ((w(x) - 3 * x) ** 2).mean(), TrainConfig(steps=200, lr=0.1))
>>> log["steps"], round(w.weight.item(), 2)
(200, 3.0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from attnbook.measure import num_threads

__all__ = ["TrainConfig", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`train` trains: budget, optimizer, schedule, clipping, batch size, seed.

    Used in chapter 4 by :func:`~attnbook.labs.heads.train`. Give a number of ``steps``, a
    wall-clock budget in ``seconds``, or both (training stops at whichever comes first). The
    defaults are plain Adam at a constant learning rate, with no clipping: each trainer sets
    what it needs (the translator: AdamW with β₂ = 0.98, a warm-up, a cosine decay and clipping
    at 1). ``batch_size``, ``seed`` and ``dtype`` are read by the trainers that draw the
    batches and build the model; the loop itself only reads the rest.
    """

    steps: int | None = None  # optimizer steps (None: only the time budget stops training)
    seconds: float | None = None  # wall-clock budget (None: only `steps` stops training)
    lr: float = 3e-3  # the peak learning rate
    optimizer: str = "adam"  # "adam" or "adamw" (decoupled weight decay)
    betas: tuple[float, float] = (0.9, 0.999)  # Adam's averaging rates
    eps: float = 1e-8  # Adam's guard against dividing by zero
    weight_decay: float = 0.0  # decoupled weight decay (AdamW only)
    warmup_steps: int = 0  # the rate grows linearly over these steps (0 or 1: no warm-up)
    decay: str = "constant"  # "constant" or "cosine" (down to min_lr_ratio · lr at the end)
    min_lr_ratio: float = 0.0  # where the cosine ends, as a fraction of lr
    clip: float | None = None  # largest gradient norm (None: no clipping)
    batch_size: int = 128  # examples per step (read by the trainer's loss function)
    seed: int = 0  # seeds the initial weights and the batches (read by the trainer)
    dtype: torch.dtype = torch.float32  # the model's dtype (read by the trainer)
    threads: int | None = None  # CPU threads while training (None: leave as it is)
    curve_every: int = 10  # the log's curve holds the mean loss of every so many steps

    def __post_init__(self) -> None:
        if self.steps is None and self.seconds is None:
            raise ValueError("give a time budget (seconds) or a number of steps (steps)")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"seconds must be > 0, got {self.seconds}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if not self.lr > 0 or self.batch_size < 1 or self.curve_every < 1 or (
                self.threads is not None and self.threads < 1):
            raise ValueError(f"lr={self.lr}, batch_size={self.batch_size}, curve_every="
                             f"{self.curve_every} and threads={self.threads} must be positive")
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")
        if self.decay not in ("constant", "cosine"):
            raise ValueError(f"decay must be 'constant' or 'cosine', got {self.decay!r}")
        if self.warmup_steps < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"warmup_steps={self.warmup_steps} must be >= 0 and "
                             f"min_lr_ratio={self.min_lr_ratio} in [0, 1]")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip}")

    def to_dict(self) -> dict:
        """The settings as a JSON-ready dict (the dtype by name)."""
        out = asdict(self)
        out["dtype"] = str(self.dtype).removeprefix("torch.")
        out["betas"] = list(self.betas)
        return out


def _learning_rate(config: TrainConfig, step: int, fraction: float) -> float:
    """The learning rate of step ``step`` (0-based), ``fraction`` of the budget being spent.

    A linear warm-up over ``config.warmup_steps`` steps times the
    decay: 1 (``"constant"``), or a cosine from 1 down to ``config.min_lr_ratio`` as the
    fraction goes from 0 to 1 (``"cosine"``).

    >>> c = TrainConfig(steps=100, lr=1.0, warmup_steps=10, decay="cosine", min_lr_ratio=0.1)
    >>> _learning_rate(c, 0, 0.0), _learning_rate(c, 9, 0.09) < 1, _learning_rate(c, 99, 1.0)
    (0.1, True, 0.1)
    """
    warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps > 0 else 1.0
    decay = 1.0
    if config.decay == "cosine":
        r = config.min_lr_ratio
        decay = r + (1 - r) * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0)))
    return config.lr * warmup * decay


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas,
                                 eps=config.eps, weight_decay=config.weight_decay)
    if config.weight_decay:
        raise ValueError("weight_decay needs optimizer='adamw' (decoupled weight decay)")
    return torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps)


def train(model: nn.Module, loss_fn: Callable[[], torch.Tensor], config: TrainConfig, *,
          on_step: Callable[[int, float], None] | None = None,
          on_progress: Callable[[dict], None] | None = None,
          progress_seconds: float = 5.0) -> dict:
    """Train ``model`` on ``loss_fn()`` as ``config`` says; returns the log.

    Introduced in chapter 4. ``loss_fn()`` draws a batch and returns its loss (a scalar with
    a gradient). The model is put in training mode before the first step and in eval mode
    after the last. ``on_step(step, loss)`` runs after every step (1-based; an evaluation,
    say; its time is not counted as training time); ``on_progress`` gets ``{"step", "loss",
    "elapsed"}`` after the first step and then every ``progress_seconds``.

    With a time budget, the decay follows the fraction of the time spent (and of the steps,
    when both are given), so a slower machine takes fewer steps but still ends at a small
    learning rate; training stops before a step that would end past the budget, judged by
    the slowest recent step.

    The log: ``steps``; ``losses`` (every step's loss); ``curve`` with ``step``, ``elapsed``
    (seconds, 2 decimals) and ``loss`` (the mean of every ``config.curve_every`` steps, 4
    decimals); ``train_seconds`` (wall clock, 2 decimals); ``step_seconds`` (the time spent
    in the steps themselves, without ``on_step``'s); ``threads`` (PyTorch's CPU threads).
    """
    opt = _optimizer(model, config)
    curve: dict[str, list] = {"step": [], "elapsed": [], "loss": []}
    losses: list[float] = []
    model.train()
    with num_threads(config.threads):
        threads = torch.get_num_threads()
        start = time.perf_counter()
        step, last_progress, window, slowest, in_steps, in_callbacks = 0, 0.0, [], 0.0, 0.0, 0.0
        while True:
            elapsed = time.perf_counter() - start - in_callbacks
            if config.steps is not None and step >= config.steps:
                break
            # Stop before a step that would end past the budget (steps take about the same time).
            if config.seconds is not None and elapsed + slowest > config.seconds:
                break
            if config.seconds is None:
                fraction = step / config.steps
            else:
                fraction = elapsed / config.seconds
                if config.steps is not None:
                    fraction = max(fraction, step / config.steps)
            for g in opt.param_groups:
                g["lr"] = _learning_rate(config, step, fraction)
            t0 = time.perf_counter()
            loss = loss_fn()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            opt.step()
            step += 1
            last = loss.item()
            losses.append(last)
            window.append(last)
            now = time.perf_counter()
            in_steps += now - t0
            # The slowest of the recent steps guards the budget (the first steps are slow).
            slowest = now - t0 if step <= 3 else max(0.5 * slowest, now - t0)
            since_start = now - start - in_callbacks
            if step % config.curve_every == 0:
                curve["step"].append(step)
                curve["elapsed"].append(round(since_start, 2))
                curve["loss"].append(round(sum(window) / len(window), 4))
                window = []
            if on_progress is not None and (since_start - last_progress >= progress_seconds
                                            or step == 1):
                last_progress = since_start if step > 1 else 0.0
                on_progress({"step": step, "loss": last, "elapsed": since_start})
            if on_step is not None:
                t1 = time.perf_counter()
                on_step(step, last)
                in_callbacks += time.perf_counter() - t1
        train_seconds = time.perf_counter() - start - in_callbacks
    model.eval()
    return {"steps": step, "losses": losses, "curve": curve,
            "train_seconds": round(train_seconds, 2), "step_seconds": in_steps,
            "threads": threads}

"""Does a positional encoding carry over to longer sequences? A task, a model, a measurement.

Introduced in chapter 5. The task is to copy, at every position, the token ``offset`` steps
back: a relation of *relative* position. A one-layer attention model learns it with each kind
of positional encoding (位置编码) of :mod:`attnbook.positional` (or none), trained on short
sequences only; :func:`extrapolation` then measures its accuracy on positions it never saw::

    model, losses = train_copy_model("sinusoidal")
    extrapolation(model, CopyTask(), length=48)

Seeded and in float64, so the numbers are the same on every run.

>>> model, losses = train_copy_model("rope", config=COPY_TRAINING)
>>> sorted(extrapolation(model, CopyTask(), length=48))
['new positions', 'seen positions', 'trained length']
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from attnbook import training
from attnbook.labs.heads import IGNORE, seeded_batches
from attnbook.layers import MultiHeadAttention
from attnbook.positional import (
    LearnedPositionalEncoding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from attnbook.training import TrainConfig

__all__ = [
    "COPY_TRAINING",
    "ENCODINGS",
    "CopyModel",
    "CopyModelConfig",
    "CopyTask",
    "accuracy_by_position",
    "attention_on_source",
    "attention_weights",
    "extrapolation",
    "most_common_guess",
    "train_copy_model",
]

ENCODINGS = ("none", "learned", "sinusoidal", "rope")
"""The positional encodings :class:`CopyModel` can use."""

COPY_TRAINING = TrainConfig(steps=200, batch_size=64, lr=1e-2, seed=0, dtype=torch.float64,
                            threads=1)
"""How :func:`train_copy_model` trains by default (Adam at a constant rate, float64, one CPU
thread): about a second on a CPU. Introduced in chapter 5."""


@dataclass(frozen=True)
class CopyTask:
    """Random tokens; the target at position ``t`` is the token at ``t - offset``.

    Introduced in chapter 5. The first ``offset`` positions have no target (IGNORE).
    """

    vocab_size: int = 16  # distinct tokens
    offset: int = 1  # how far back the token to copy is
    train_length: int = 16  # the length of every training sequence

    def __post_init__(self) -> None:
        if self.vocab_size < 2 or self.offset < 1 or self.train_length <= self.offset:
            raise ValueError(f"need vocab_size >= 2, offset >= 1 and train_length > offset; got "
                             f"vocab_size={self.vocab_size}, offset={self.offset}, "
                             f"train_length={self.train_length}")

    def sample(self, batch_size: int, length: int | None = None, seed: int | None = None,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, targets)``, both ``[batch_size, length]`` (default: the training length).

        Introduced in chapter 5.
        """
        length = self.train_length if length is None else length
        if batch_size < 1 or length <= self.offset:
            raise ValueError(f"batch_size={batch_size} must be positive and length={length} "
                             f"longer than offset={self.offset}")
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        tokens = torch.randint(0, self.vocab_size, (batch_size, length), generator=generator)
        targets = torch.full_like(tokens, IGNORE)
        targets[:, self.offset:] = tokens[:, :-self.offset]
        return tokens, targets


@dataclass(frozen=True)
class CopyModelConfig:
    """The size of :class:`CopyModel`.

    Used in chapter 5 by :func:`train_copy_model`.
    """

    d_model: int = 32  # width of every token vector
    num_heads: int = 1  # attention heads
    max_len: int = 64  # positions the learned and sinusoidal tables cover


class CopyModel(nn.Module):
    """Token embedding, a positional encoding, one attention layer with a residual, a readout.

    Introduced in chapter 5. `encoding` is one of :data:`ENCODINGS`: ``"learned"`` and
    ``"sinusoidal"`` add a vector to each token before the layer; ``"rope"`` rotates the
    queries and keys of each head inside it; ``"none"`` gives no position at all.
    ``forward(tokens)`` returns logits ``[B, L, vocab_size]``.
    """

    def __init__(self, task: CopyTask, encoding: str,
                 config: CopyModelConfig = CopyModelConfig()):
        super().__init__()
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding={encoding!r} is not one of {ENCODINGS}")
        d = config.d_model
        self.encoding = encoding
        self.config = config
        self.embedding = nn.Embedding(task.vocab_size, d)
        self.attn = MultiHeadAttention(d, config.num_heads)
        self.positional: nn.Module | None = None
        self.rope: RotaryEmbedding | None = None
        if encoding == "learned":
            self.positional = LearnedPositionalEncoding(d, config.max_len)
        elif encoding == "sinusoidal":
            self.positional = SinusoidalPositionalEncoding(d, config.max_len)
        elif encoding == "rope":
            # RoPE rotates each head's queries and keys inside the layer, before the scores.
            self.rope = RotaryEmbedding(self.attn.d_head)
            self.attn.qk_transform = self.rope.rotate_qk
        self.readout = nn.Linear(d, task.vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens)  # (B, L, d)
        if self.positional is not None:
            x = self.positional(x)  # eⁱ + aⁱ
        x = x + self.attn(x, x, x)[0]  # RoPE, if any, is the layer's qk_transform
        return self.readout(x)  # (B, L, vocab_size)


def attention_weights(model: CopyModel, tokens: torch.Tensor) -> torch.Tensor:
    """The attention weights of `model`'s layer on `tokens`, averaged over its heads:
    ``[B, L, L]``, row t for the query at position t.

    Used in chapter 5 by :func:`attention_on_source`.
    """
    x = model.embedding(tokens)
    if model.positional is not None:
        x = model.positional(x)
    return model.attn(x, x, x)[1].mean(dim=1)  # (B, heads, L, L) -> (B, L, L)


def train_copy_model(encoding: str, task: CopyTask = CopyTask(),
                     model_config: CopyModelConfig = CopyModelConfig(),
                     config: TrainConfig = COPY_TRAINING,
                     device: str | torch.device = "cpu") -> tuple[CopyModel, list[float]]:
    """A :class:`CopyModel` with `encoding`, trained on sequences of ``task.train_length``.

    Introduced in chapter 5. Returns the model and its loss at every step; a few seconds on
    a CPU. The loop is :func:`attnbook.training.train`, with the batches of
    :func:`attnbook.labs.heads.seeded_batches`.
    """
    torch.manual_seed(config.seed)
    model = CopyModel(task, encoding, model_config).to(device=device, dtype=config.dtype)
    generator = seeded_batches(config)

    def loss_fn() -> torch.Tensor:
        tokens, targets = task.sample(config.batch_size, generator=generator)
        logits = model(tokens.to(device))  # (B, L, vocab_size)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                               targets.to(device).reshape(-1), ignore_index=IGNORE)

    return model, training.train(model, loss_fn, config)["losses"]


@torch.no_grad()
def accuracy_by_position(model: CopyModel, task: CopyTask, length: int, batch_size: int = 500,
                         seed: int = 1) -> torch.Tensor:
    """The accuracy at each position of `batch_size` random sequences of `length`: ``[length]``.

    Introduced in chapter 5. The first ``task.offset`` positions have no target: NaN.
    """
    device = next(model.parameters()).device
    tokens, targets = task.sample(batch_size, length, seed=seed)
    correct = (model(tokens.to(device)).argmax(-1).cpu() == targets).double()  # (B, length)
    accuracy = correct.mean(dim=0)
    accuracy[:task.offset] = float("nan")
    return accuracy


@torch.no_grad()
def extrapolation(model: CopyModel, task: CopyTask, length: int = 48, batch_size: int = 500,
                  seed: int = 1) -> dict[str, float]:
    """Accuracy on sequences of the training length and on longer ones.

    Introduced in chapter 5. Returns ``'trained length'`` (sequences as long as in
    training), ``'seen positions'`` and ``'new positions'`` (positions below and from
    ``task.train_length`` on, in sequences of `length`).
    """
    if length <= task.train_length:
        raise ValueError(f"length={length} must exceed the training length "
                         f"{task.train_length}")
    short = accuracy_by_position(model, task, task.train_length, batch_size, seed)
    long = accuracy_by_position(model, task, length, batch_size, seed + 1)
    return {
        "trained length": short[task.offset:].mean().item(),
        "seen positions": long[task.offset:task.train_length].mean().item(),
        "new positions": long[task.train_length:].mean().item(),
    }


@torch.no_grad()
def most_common_guess(task: CopyTask, length: int, batch_size: int = 500,
                      seed: int = 1) -> float:
    """The accuracy of a rule that sees no positions: at every position with a target, guess
    the token that occurs most often in the sequence (ties: the smallest token).

    Introduced in chapter 5, beside the model without positional encoding. Uses the same
    random sequences as :func:`accuracy_by_position` with the same arguments.
    """
    tokens, targets = task.sample(batch_size, length, seed=seed)
    counts = F.one_hot(tokens, task.vocab_size).sum(dim=1)  # (B, vocab_size)
    guess = counts.argmax(dim=-1, keepdim=True)  # (B, 1): the first of the most common
    scored = targets != IGNORE
    return (targets == guess)[scored].double().mean().item()


@torch.no_grad()
def attention_on_source(model: CopyModel, task: CopyTask, length: int, batch_size: int = 500,
                        seed: int = 1) -> dict[str, torch.Tensor]:
    """Where the model looks, and whether it is right, at every query of random sequences.

    Introduced in chapter 5, to explain the sinusoidal model's accuracy on long sequences.
    Returns ``"on_source"``: whether the query's largest attention weight (mean over heads)
    falls on the token it must copy, ``task.offset`` steps back; and ``"correct"``: whether
    the model's prediction is right. Both ``[batch_size, length]`` bool, False at the first
    ``task.offset`` positions, which have no target. The same sequences as
    :func:`accuracy_by_position` with the same arguments.
    """
    device = next(model.parameters()).device
    tokens, targets = task.sample(batch_size, length, seed=seed)
    tokens = tokens.to(device)
    top = attention_weights(model, tokens).argmax(dim=-1).cpu()  # (B, length): key index
    source = torch.arange(length) - task.offset  # the position each query must copy
    scored = targets != IGNORE
    return {
        "on_source": (top == source) & scored,
        "correct": (model(tokens).argmax(-1).cpu() == targets) & scored,
    }

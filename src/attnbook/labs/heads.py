"""Heads that specialise: a small task where two relations matter, a one-layer model, a trainer.

Introduced in chapter 4. Every token of a sequence is a letter with a digit, written ``B3``.
Each letter occurs exactly twice, and at every position the model answers two questions:

- **previous**: which digit does the token just before this one carry? (position 0 has no
  previous token and is not scored);
- **match**: which digit does the *other* token with the same letter carry?

The first question is about position (look one step back), the second about content (look
for the same letter wherever it is). One attention layer with several heads learns both at
once; chapter 4 shows that the heads divide the work between them, and measures what
removing each head costs (:func:`ablate_heads`)::

    task = LetterDigitTask()
    model, history = train(task)
    batch = task.sample(2000, seed=1)
    accuracy_by_question(model, batch)        # {'previous': 1.0, 'match': 1.0}
    with ablate_heads(model, [2]):
        accuracy_by_question(model, batch)    # what is left without head 2

Everything is seeded, so that a run gives the same model on every run of the same machine.
The code runs on any device (``device=attnbook.device()`` for a GPU); the book uses the CPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from attnbook import training
from attnbook.layers import FeedForward, MultiHeadAttention, keep_weights
from attnbook.training import TrainConfig

__all__ = [
    "HEADS_TRAINING",
    "IGNORE",
    "HeadsConfig",
    "HeadsModel",
    "LetterDigitBatch",
    "LetterDigitTask",
    "ablate_heads",
    "accuracy_by_question",
    "attention_weights",
    "head_roles",
    "seeded_batches",
    "train",
]

IGNORE = -100
"""The target of a position that is not scored (``ignore_index`` of ``F.cross_entropy``)."""

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ----------------------------------------------------------------------------------- the task


@dataclass(frozen=True)
class LetterDigitBatch:
    """A batch of the letter-digit task; every tensor is ``[B, L]`` of integers.

    Used in chapter 4 by :class:`LetterDigitTask`.
    """

    letters: torch.Tensor  # letter index of each token, 0 = "A"
    digits: torch.Tensor  # digit of each token
    previous: torch.Tensor  # target: the digit of the token before (IGNORE at position 0)
    match: torch.Tensor  # target: the digit of the other token with the same letter
    partner: torch.Tensor  # where that other token is

    def to(self, device) -> LetterDigitBatch:
        """The same batch on `device`."""
        return LetterDigitBatch(*(t.to(device) for t in (self.letters, self.digits,
                                                          self.previous, self.match,
                                                          self.partner)))

    def tokens(self, index: int = 0) -> list[str]:
        """Sequence `index` written as tokens, e.g. ``['B3', 'D1', ...]``."""
        return [f"{LETTERS[int(a)]}{int(d)}"
                for a, d in zip(self.letters[index], self.digits[index], strict=True)]


@dataclass(frozen=True)
class LetterDigitTask:
    """Sequences of letter-digit tokens in which each letter occurs exactly twice.

    Introduced in chapter 4. A sequence has ``2 * num_letters`` tokens.
    """

    num_letters: int = 5  # distinct letters per sequence, each used twice
    num_digits: int = 10  # digits a token can carry (the classes of both questions)

    def __post_init__(self) -> None:
        if not 2 <= self.num_letters <= len(LETTERS):
            raise ValueError(f"num_letters={self.num_letters} must be between 2 and "
                             f"{len(LETTERS)}")
        if self.num_digits < 2:
            raise ValueError(f"num_digits={self.num_digits} must be at least 2")

    @property
    def length(self) -> int:
        """Tokens per sequence."""
        return 2 * self.num_letters

    def sample(self, batch_size: int, seed: int | None = None,
               generator: torch.Generator | None = None) -> LetterDigitBatch:
        """`batch_size` random sequences, from `seed` or from `generator` (on the CPU).

        Introduced in chapter 4.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be positive")
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        L = self.length
        # A random order of the letters 0,0,1,1,...: argsort of noise is a random permutation.
        order = torch.rand(batch_size, L, generator=generator).argsort(dim=1)  # (B, L)
        letters = order % self.num_letters  # (B, L): each letter twice
        digits = torch.randint(0, self.num_digits, (batch_size, L), generator=generator)
        previous = torch.full_like(digits, IGNORE)
        previous[:, 1:] = digits[:, :-1]
        same = letters[:, :, None] == letters[:, None, :]  # (B, L, L)
        same &= ~torch.eye(L, dtype=torch.bool)  # the *other* token with this letter
        partner = same.to(torch.int64).argmax(dim=-1)  # (B, L)
        match = digits.gather(1, partner)
        return LetterDigitBatch(letters, digits, previous, match, partner)


# ---------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class HeadsConfig:
    """The size of :class:`HeadsModel`.

    Used in chapter 4 by :class:`HeadsModel`.
    """

    d_model: int = 32  # width of every token vector
    num_heads: int = 4  # attention heads of the one attention layer
    dim_feedforward: int = 128  # hidden width of the fully connected network


class HeadsModel(nn.Module):
    """Embeddings, one multi-head self-attention layer, a fully connected network, two readouts.

    Introduced in chapter 4. A token's vector is the sum of its letter's, its digit's and its
    position's embedding. ``forward(letters, digits)`` returns the logits of both questions,
    ``(previous [B, L, num_digits], match [B, L, num_digits])``. The attention layer is
    ``self.attn`` (a :class:`attnbook.layers.MultiHeadAttention`), so
    :func:`attnbook.layers.keep_weights` shows its heads.
    """

    def __init__(self, task: LetterDigitTask, config: HeadsConfig = HeadsConfig()):
        super().__init__()
        d = config.d_model
        self.task = task
        self.config = config
        self.letter_embedding = nn.Embedding(task.num_letters, d)
        self.digit_embedding = nn.Embedding(task.num_digits, d)
        self.position_embedding = nn.Embedding(task.length, d)  # learned, one per position
        self.attn = MultiHeadAttention(d, config.num_heads)
        self.norm = nn.LayerNorm(d)
        self.feed_forward = FeedForward(d, config.dim_feedforward)
        self.norm_out = nn.LayerNorm(d)
        self.read_previous = nn.Linear(d, task.num_digits)
        self.read_match = nn.Linear(d, task.num_digits)

    def forward(self, letters: torch.Tensor, digits: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if letters.shape != digits.shape or letters.dim() != 2:
            raise ValueError(f"letters {tuple(letters.shape)} and digits "
                             f"{tuple(digits.shape)} must both be [batch, length]")
        if letters.shape[1] > self.task.length:
            raise ValueError(f"the model knows {self.task.length} positions, got a sequence "
                             f"of {letters.shape[1]}")
        positions = torch.arange(letters.shape[1], device=letters.device)
        x = (self.letter_embedding(letters) + self.digit_embedding(digits)
             + self.position_embedding(positions))  # (B, L, d)
        x = x + self.attn(x, x, x)[0]  # the readable path: the same numbers as the views'
        x = x + self.feed_forward(self.norm(x))
        x = self.norm_out(x)
        return self.read_previous(x), self.read_match(x)  # (B, L, num_digits) each

    def loss(self, batch: LetterDigitBatch) -> torch.Tensor:
        """The sum of both questions' cross-entropies.

        Introduced in chapter 4.
        """
        previous, match = self(batch.letters, batch.digits)
        n = self.task.num_digits
        return (F.cross_entropy(previous.reshape(-1, n), batch.previous.reshape(-1),
                                ignore_index=IGNORE)
                + F.cross_entropy(match.reshape(-1, n), batch.match.reshape(-1)))


# -------------------------------------------------------------------------------- the trainer


HEADS_TRAINING = TrainConfig(steps=250, batch_size=128, lr=3e-3, seed=0, dtype=torch.float64,
                             threads=1)
"""How :func:`train` trains by default: Adam at a constant rate, 250 steps of 128 sequences,
in float64 (the same run on every CPU, to the digit) on one CPU thread (tiny models run
fastest on one). Introduced in chapter 4."""


def seeded_batches(config: TrainConfig) -> torch.Generator:
    """The generator the trainers of chapters 4 and 5 draw their batches from.

    Used in chapter 4 by :func:`train`. Seeded with ``config.seed + 1`` (the initial weights use
    ``config.seed``), so that the batches are the same on every run.
    """
    return torch.Generator().manual_seed(config.seed + 1)


def train(task: LetterDigitTask = LetterDigitTask(), model_config: HeadsConfig = HeadsConfig(),
          config: TrainConfig = HEADS_TRAINING, device: str | torch.device = "cpu"
          ) -> tuple[HeadsModel, list[float]]:
    """A :class:`HeadsModel` trained on `task`, and its loss at every step.

    Introduced in chapter 4. A few seconds on a CPU with the defaults
    (:data:`HEADS_TRAINING`); the loop is :func:`attnbook.training.train`, each step on a
    fresh batch drawn from :func:`seeded_batches`.
    """
    torch.manual_seed(config.seed)
    model = HeadsModel(task, model_config).to(device=device, dtype=config.dtype)
    generator = seeded_batches(config)

    def loss_fn() -> torch.Tensor:
        return model.loss(task.sample(config.batch_size, generator=generator).to(device))

    return model, training.train(model, loss_fn, config)["losses"]


# ------------------------------------------------------------------------ looking at the heads


@torch.no_grad()
def accuracy_by_question(model: HeadsModel, batch: LetterDigitBatch) -> dict[str, float]:
    """The accuracy of each question on `batch`: ``{'previous': ..., 'match': ...}``.

    Introduced in chapter 4.
    """
    device = next(model.parameters()).device
    batch = batch.to(device)
    previous, match = model(batch.letters, batch.digits)
    scored = batch.previous != IGNORE
    return {
        "previous": (previous.argmax(-1) == batch.previous)[scored].double().mean().item(),
        "match": (match.argmax(-1) == batch.match).double().mean().item(),
    }


@contextmanager
def ablate_heads(model: nn.Module, heads: Iterable[int],
                 attn: MultiHeadAttention | None = None) -> Iterator[None]:
    """Inside the block, the outputs of `heads` are set to zero before the heads are merged.

    Introduced in chapter 4. ``merge_heads`` lays the heads' outputs side by side, head ``h``
    in features ``h*d_head … (h+1)*d_head - 1`` of the input of ``out_proj`` (Wo); a hook
    zeroes those features, so the rest of the model sees the layer as if head ``h`` were
    gone. `attn` defaults to ``model.attn``.
    """
    attn = model.attn if attn is None else attn
    heads = sorted(set(int(h) for h in heads))
    bad = [h for h in heads if not 0 <= h < attn.num_heads]
    if bad:
        raise ValueError(f"heads {bad} do not exist: the layer has heads 0 to "
                         f"{attn.num_heads - 1}")

    def zero_heads(module, inputs):
        (merged,) = inputs  # (B, L, d_model): the heads side by side
        merged = merged.clone()
        for h in heads:
            merged[..., h * attn.d_head:(h + 1) * attn.d_head] = 0.0
        return (merged,)

    handle = attn.out_proj.register_forward_pre_hook(zero_heads)
    try:
        yield
    finally:
        handle.remove()


@torch.no_grad()
def attention_weights(model: HeadsModel, batch: LetterDigitBatch) -> torch.Tensor:
    """The weights of every head on `batch`: ``[B, heads, L, L]`` (rows: queries).

    Introduced in chapter 4.
    """
    device = next(model.parameters()).device
    batch = batch.to(device)
    with keep_weights(model):
        model(batch.letters, batch.digits)
    return model.attn.weights


@torch.no_grad()
def head_roles(weights: torch.Tensor, batch: LetterDigitBatch) -> dict[str, torch.Tensor]:
    """How much weight each head puts, on average over the queries, on three kinds of key.

    Introduced in chapter 4. `weights` is ``[B, heads, L, L]``. Returns ``[heads]`` tensors:
    ``'previous'`` (the key one position back, queries 1…L-1), ``'match'`` (the other token
    with the same letter) and ``'itself'`` (the query's own position).
    """
    B, h, L, _ = weights.shape
    weights = weights.to("cpu", torch.float64)
    rows = torch.arange(1, L)
    previous = weights[:, :, rows, rows - 1].mean(dim=(0, 2))  # (h,)
    partner = batch.partner.to("cpu")[:, None, :, None].expand(B, h, L, 1)
    match = weights.gather(-1, partner).squeeze(-1).mean(dim=(0, 2))
    itself = weights.diagonal(dim1=-2, dim2=-1).mean(dim=(0, 2))
    return {"previous": previous, "match": match, "itself": itself}


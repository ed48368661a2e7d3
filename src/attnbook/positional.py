"""Positional encodings (位置编码): sinusoidal, learned, and rotary (RoPE).

Introduced in chapter 5. Self-attention by itself ignores order; each scheme here gives it
the position of every token in a different way.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "LearnedPositionalEncoding",
    "RotaryEmbedding",
    "SinusoidalPositionalEncoding",
    "sinusoidal_encoding",
]


def sinusoidal_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The table of Vaswani et al. (2017), ``[max_len, d_model]``.

    Introduced in chapter 5 (figure F10). Even columns ``2i`` hold ``sin(pos / base^(2i/d))``,
    odd columns ``cos`` of the same angle: each pair of columns is a clock turning at its own
    speed, so that the encoding of ``pos + k`` is a rotation of the encoding of ``pos``.
    """
    if max_len < 1 or d_model < 2 or d_model % 2:
        raise ValueError(f"need max_len >= 1 and an even d_model >= 2, got max_len={max_len}, "
                         f"d_model={d_model}")
    position = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                          * (-math.log(base) / d_model))  # (d_model/2,)
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


def _check_length(x: torch.Tensor, max_len: int, what: str) -> None:
    if x.shape[-2] > max_len:
        raise ValueError(f"{what} was built for at most {max_len} positions, got a sequence "
                         f"of {x.shape[-2]}")


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table to ``[B, L, d_model]`` inputs: ``eⁱ + aⁱ``.

    Introduced in chapter 5. Nothing is learned; any length up to ``max_len`` works.
    """

    def __init__(self, d_model: int, max_len: int = 512):
        super().__init__()
        self.max_len = max_len  # longest sequence the table covers
        self.register_buffer("table", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        _check_length(x, self.max_len - offset, "SinusoidalPositionalEncoding")
        return x + self.table[offset:offset + x.shape[-2]]


class LearnedPositionalEncoding(nn.Module):
    """Adds a learned vector per position (as BERT and GPT do) to ``[B, L, d_model]`` inputs.

    Used in chapter 5 by :func:`~attnbook.labs.extrapolation.train_copy_model`. A position
    never seen in training keeps its random start, which is why learned encodings do not
    extrapolate to longer sequences.
    """

    def __init__(self, d_model: int, max_len: int = 512):
        super().__init__()
        self.max_len = max_len  # number of positions with a vector of their own
        self.embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        _check_length(x, self.max_len - offset, "LearnedPositionalEncoding")
        positions = torch.arange(offset, offset + x.shape[-2], device=x.device)
        return x + self.embedding(positions)


class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoPE; Su et al., 2021), applied to queries and keys.

    Introduced in chapter 5. Each pair of features ``(2i, 2i+1)`` of a query or key at position
    ``m`` is rotated by the angle ``m·θᵢ``. Since rotations compose, ``rot(m) q · rot(n) k``
    depends only on ``q``, ``k`` and the offset ``n − m``: relative position, with nothing
    added to the token vectors.
    """

    def __init__(self, d_head: int, base: float = 10000.0):
        super().__init__()
        if d_head < 2 or d_head % 2:
            raise ValueError(f"RoPE rotates pairs of features; d_head={d_head} must be even")
        self.d_head = d_head  # features of one head's queries and keys
        theta = base ** (-torch.arange(0, d_head, 2, dtype=torch.float32) / d_head)
        self.register_buffer("theta", theta, persistent=False)  # (d_head/2,)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Rotate ``x [..., L, d_head]``; ``positions`` defaults to ``0 … L-1``."""
        if x.shape[-1] != self.d_head:
            raise ValueError(f"expected d_head={self.d_head} features, got {x.shape[-1]}")
        if positions is None:
            positions = torch.arange(x.shape[-2], device=x.device)
        angle = positions.to(x.dtype)[:, None] * self.theta  # (L, d_head/2)
        cos, sin = torch.cos(angle), torch.sin(angle)
        x_even, x_odd = x[..., 0::2], x[..., 1::2]  # (..., L, d_head/2) each
        rotated = torch.stack([x_even * cos - x_odd * sin, x_even * sin + x_odd * cos], dim=-1)
        return rotated.flatten(-2)  # (..., L, d_head): pairs interleaved again

    def rotate_qk(self, q: torch.Tensor, k: torch.Tensor, offset: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate queries and keys ``[..., L, d_head]`` by their positions ``offset, offset+1, …``.

        Introduced in chapter 5. This is the shape of
        :attr:`attnbook.layers.MultiHeadAttention.qk_transform`, so a layer gets RoPE with
        ``attn.qk_transform = rope.rotate_qk``; ``offset`` is the number of positions a
        key/value cache already holds (the values are never rotated).

        >>> import torch
        >>> rope = RotaryEmbedding(4)
        >>> q, k = rope.rotate_qk(torch.ones(1, 3, 4), torch.ones(1, 3, 4))
        >>> bool(torch.allclose(q[0, 0], torch.ones(4)))  # position 0 is not rotated
        True
        """
        q_pos = torch.arange(offset, offset + q.shape[-2], device=q.device)
        k_pos = torch.arange(offset, offset + k.shape[-2], device=k.device)
        return self(q, q_pos), self(k, k_pos)

"""Scaled dot-product attention, written out to be read.

Introduced in chapter 3: ``softmax(Q Kᵀ / √d_k) V`` in PyTorch's row convention (one token per
row). :mod:`attnbook.numpy_ref` has the same computation in the notes' column convention.
"""

from __future__ import annotations

import math

import torch

__all__ = ["check_mask", "masked_softmax", "scaled_dot_product_attention"]


def check_mask(mask: torch.Tensor | None, target: tuple[int, ...], what: str = "mask") -> None:
    """Raise a ``ValueError`` naming both shapes when `mask` is not bool or does not broadcast.

    Used in chapter 3 by :func:`scaled_dot_product_attention`.
    """
    if mask is None:
        return
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        kind = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"{what} must be a bool tensor (True = may attend), got {kind}")
    try:
        shape = torch.broadcast_shapes(mask.shape, target)
    except RuntimeError:
        shape = None
    if shape != torch.Size(target):
        raise ValueError(f"{what} of shape {tuple(mask.shape)} does not broadcast to the "
                         f"attention scores' shape {tuple(target)}")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax over the last axis where masked positions get exactly 0.

    Introduced in chapter 10, where masks meet the decoder (chapter 3's
    :func:`scaled_dot_product_attention` already calls it). A row whose keys are all masked
    has no distribution; it gets all zeros instead of the NaN that ``softmax`` of only
    ``-inf`` would give.
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    check_mask(mask, tuple(scores.shape))
    scores = scores.masked_fill(~mask, float("-inf"))
    # A fully masked row would be softmax of only -inf, i.e. 0/0; give it a harmless 0 score
    # first and zero its weights afterwards.
    empty = ~mask.any(dim=-1, keepdim=True)
    scores = scores.masked_fill(empty, 0.0)
    weights = torch.softmax(scores, dim=-1)
    return weights.masked_fill(empty | ~mask, 0.0)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention of each query over the keys: returns ``(output, weights)``.

    Introduced in chapter 3. Shapes: ``q [..., Lq, d]``, ``k [..., Lk, d]``, ``v [..., Lk, dv]``;
    ``mask`` bool, True = may attend, broadcastable to ``[..., Lq, Lk]``. ``weights`` is
    ``[..., Lq, Lk]`` and each row sums to 1, except that a query whose keys are all masked gets
    zero weights and a zero output (never NaN).
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys must have the same size: q {tuple(q.shape)}, "
                         f"k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"every key needs a value: k {tuple(k.shape)}, v {tuple(v.shape)}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Lq, Lk)
    weights = masked_softmax(scores, mask)
    return weights @ v, weights  # (..., Lq, dv), (..., Lq, Lk)

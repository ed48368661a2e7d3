"""Attention masks, in one convention used everywhere in the book: **bool, True = may attend**.

Introduced in chapter 3 (padding), chapter 6 (a window), chapter 7 (the causal mask) and
chapter 10 (where the two conventions meet). ``mask[..., i, j]`` is True
when query ``i`` may look at key ``j``. This is the convention of
:func:`torch.nn.functional.scaled_dot_product_attention`, and the **opposite** of
:class:`torch.nn.MultiheadAttention`'s ``key_padding_mask`` and ``attn_mask`` (where True
means "blocked"); :func:`to_torch_blocked` converts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["causal_mask", "padding_mask", "to_torch_blocked", "window_mask"]


def causal_mask(n: int, device=None) -> torch.Tensor:
    """Bool ``[n, n]``, True on and below the diagonal: position t sees positions 0…t.

    Introduced in chapter 7 (the cost of causal attention), and the decoder's masked
    self-attention (掩码自注意力) in chapter 10: the decoder must not see the tokens it has not
    produced yet.

    >>> causal_mask(3).int().tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    if int(n) != n or n < 1:
        raise ValueError(f"causal_mask needs a positive length, got n={n}")
    return torch.ones(int(n), int(n), dtype=torch.bool, device=device).tril()


def padding_mask(lengths: Sequence[int] | torch.Tensor, max_len: int | None = None,
                 device=None) -> torch.Tensor:
    """Bool ``[batch, max_len]``, True at the real tokens of each sequence, False at padding.

    Introduced in chapter 3. Use ``padding_mask(...)[:, None, :]`` as an attention mask: every
    query may look at every real key of its own sequence.

    >>> padding_mask([2, 3]).int().tolist()
    [[1, 1, 0], [1, 1, 1]]
    """
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.dim() != 1 or lengths.dtype.is_floating_point:
        raise ValueError(f"lengths must be a 1-D sequence of integers, got {lengths.tolist()}")
    if (lengths < 0).any():
        raise ValueError(f"lengths must be >= 0, got {lengths.tolist()}")
    longest = int(lengths.max()) if len(lengths) else 0
    max_len = longest if max_len is None else int(max_len)
    if longest > max_len:
        raise ValueError(f"a length of {longest} does not fit max_len={max_len}")
    positions = torch.arange(max_len, device=lengths.device)
    return positions[None, :] < lengths[:, None]  # (B, max_len)


def window_mask(n: int, radius: int, causal: bool = False, device=None) -> torch.Tensor:
    """Bool ``[n, n]``: query i may attend to keys within ``radius`` positions of it.

    Introduced in chapter 6: a convolution's receptive field (感知区域) written as an attention
    mask. With ``causal=True`` only the keys at and before i are kept.
    """
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    i = torch.arange(n, device=device)
    offset = i[None, :] - i[:, None]  # (n, n): key position minus query position
    mask = offset.abs() <= radius
    return mask & (offset <= 0) if causal else mask


def to_torch_blocked(mask: torch.Tensor | None) -> torch.Tensor | None:
    """Our mask (True = may attend) → PyTorch's ``nn.MultiheadAttention`` masks (True = blocked).

    Introduced in chapter 10, where the two conventions are set side by side.
    """
    return None if mask is None else ~mask

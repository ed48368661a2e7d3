"""Attention that costs less than ``n²``: local, linear and tiled attention next to full.

Introduced in chapter 7. Four ways to compute attention over a sequence of ``n`` tokens, all
with the shapes of :func:`attnbook.attention.scaled_dot_product_attention` (``q [..., Lq, d]``,
``k [..., Lk, d]``, ``v [..., Lk, dv]``; masks bool, True = may attend) but returning only the
output ``[..., Lq, dv]``, since never building the ``[Lq, Lk]`` weights is the point:

- :func:`full_attention`: softmax attention; its ``[n, n]`` scores make it cost ``n²``;
- :func:`local_attention`: each query sees only keys within ``window`` positions (sliding
  window, as in Longformer); linear in ``n``, equal to full attention with
  :func:`attnbook.masks.window_mask`;
- :func:`linear_attention`: the softmax replaced by a kernel ``φ(q)·φ(k)``, so the sum over keys
  can be done first (Katharopoulos et al., 2020); linear in ``n``, a *different* attention;
- :func:`tiled_attention`: exact softmax attention computed block by block with an online
  softmax (the FlashAttention algorithm, in plain PyTorch); linear memory, equal to full.

What each method costs is measured with :mod:`attnbook.measure` (time, peak memory, growth)
in the chapter's sweep, :func:`attnbook.labs.cost.cost_sweep`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from attnbook.attention import check_mask, scaled_dot_product_attention

__all__ = [
    "FEATURE_MAPS",
    "METHODS",
    "full_attention",
    "kernel_attention_weights",
    "linear_attention",
    "local_attention",
    "online_softmax",
    "tiled_attention",
]

METHODS = ("full", "local", "linear", "tiled")
"""The four methods of chapter 7, in the order the chapter compares them."""


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise ValueError(f"q, k and v must be [..., L, d]; got q {tuple(q.shape)}, "
                         f"k {tuple(k.shape)}, v {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys must have the same size: q {tuple(q.shape)}, "
                         f"k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"every key needs a value: k {tuple(k.shape)}, v {tuple(v.shape)}")


def _out_shape(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[int, ...]:
    """``(*batch, Lq, dv)`` with the leading axes of q, k and v broadcast together."""
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading axes of q {tuple(q.shape)}, k {tuple(k.shape)} and "
                         f"v {tuple(v.shape)} do not broadcast") from None
    return (*batch, q.shape[-2], v.shape[-1])


# --------------------------------------------------------------------------------------------
# (0) full softmax attention
# --------------------------------------------------------------------------------------------


def full_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   mask: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax attention, ``softmax(q kᵀ / √d) v``: the output of
    :func:`attnbook.attention.scaled_dot_product_attention`, without the weights.

    Introduced in chapter 7 as the baseline: it builds the ``[..., Lq, Lk]`` scores, so its
    time and memory grow with ``n²`` when ``Lq = Lk = n``.
    """
    _check_qkv(q, k, v)
    return scaled_dot_product_attention(q, k, v, mask)[0]


# --------------------------------------------------------------------------------------------
# (a) local (sliding-window) attention
# --------------------------------------------------------------------------------------------


def local_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int,
                    causal: bool = False, block_size: int | None = None) -> torch.Tensor:
    """Sliding-window self-attention: query ``i`` sees only keys ``j`` with ``|i − j| ≤ window``
    (and ``j ≤ i`` when ``causal``).

    Introduced in chapter 7. Equal to :func:`full_attention` with the mask
    ``attnbook.masks.window_mask(n, window, causal)``, but it never builds the ``[n, n]``
    scores: the queries are cut into blocks of ``block_size`` (default ``max(window, 1)``)
    and each block is scored only against the ``block_size + 2·window`` keys around it, so
    time and memory grow like ``n · window``. Needs as many keys as queries (self-attention).
    """
    _check_qkv(q, k, v)
    window = int(window)
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    n = q.shape[-2]
    if k.shape[-2] != n:
        raise ValueError(f"local attention needs as many keys as queries: q {tuple(q.shape)}, "
                         f"k {tuple(k.shape)}")
    block = max(window, 1) if block_size is None else int(block_size)
    if block < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    out_shape = _out_shape(q, k, v)
    batch = out_shape[:-2]
    q, k, v = (t.expand(*batch, *t.shape[-2:]) for t in (q, k, v))
    d, dv = q.shape[-1], v.shape[-1]
    n_blocks = -(-n // block)  # ceil(n / block)
    padded = n_blocks * block
    span = block + 2 * window  # keys around one block of queries
    # Queries in blocks; keys and values padded by `window` on both sides (and up to a whole
    # number of blocks), then cut into overlapping windows of `span` keys, one per block.
    q_blocks = F.pad(q, (0, 0, 0, padded - n)).reshape(*batch, n_blocks, block, d)
    pad = (0, 0, window, padded - n + window)
    k_windows = F.pad(k, pad).unfold(-2, span, block).transpose(-1, -2)  # (..., nb, span, d)
    v_windows = F.pad(v, pad).unfold(-2, span, block).transpose(-1, -2)  # (..., nb, span, dv)
    scores = q_blocks @ k_windows.transpose(-1, -2)  # (..., nb, block, span)
    scores.div_(math.sqrt(d))  # in place: one [n, span] tensor instead of two
    # Which (query, key) pairs of each block are allowed: the same pattern for every batch.
    b = torch.arange(n_blocks, device=q.device)[:, None, None]
    r = torch.arange(block, device=q.device)[None, :, None]
    c = torch.arange(span, device=q.device)[None, None, :]
    offset = c - window - r  # (1, block, span): key position minus query position
    key_pos = b * block - window + c  # (nb, 1, span)
    allowed = (offset.abs() <= window) & (key_pos >= 0) & (key_pos < n)  # (nb, block, span)
    if causal:
        allowed = allowed & (offset <= 0)
    # Every real query may see itself; the padding queries (cut off below) may see anything,
    # so that no row is empty and the softmax never divides by zero.
    allowed = allowed | (b * block + r >= n)
    weights = torch.softmax(scores.masked_fill_(~allowed, -math.inf), dim=-1)
    out = weights @ v_windows  # (..., nb, block, dv)
    return out.reshape(*batch, padded, dv)[..., :n, :]


# --------------------------------------------------------------------------------------------
# (b) linear attention with a kernel feature map
# --------------------------------------------------------------------------------------------


def _elu_plus_one(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x) + 1.0


FEATURE_MAPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "elu": _elu_plus_one,  # φ(x) = elu(x) + 1 > 0, Katharopoulos et al. (2020)
    "relu": F.relu,  # φ(x) = max(x, 0); a row can get all-zero weights
}
"""Feature maps φ for :func:`linear_attention`, by name. Introduced in chapter 7."""


def _feature_map(feature_map: str | Callable) -> Callable[[torch.Tensor], torch.Tensor]:
    if callable(feature_map):
        return feature_map
    try:
        return FEATURE_MAPS[feature_map]
    except KeyError:
        raise ValueError(f"feature_map={feature_map!r} is not one of {sorted(FEATURE_MAPS)} "
                         "or a function") from None


def kernel_attention_weights(q: torch.Tensor, k: torch.Tensor,
                             feature_map: str | Callable = "elu", causal: bool = False,
                             eps: float = 1e-6) -> torch.Tensor:
    """The ``[..., Lq, Lk]`` weights that :func:`linear_attention` uses without building them:
    ``φ(qᵢ)·φ(kⱼ) / Σₘ φ(qᵢ)·φ(kₘ)``.

    Introduced in chapter 7, to look at linear attention's weights (and to test it): this is
    the quadratic way to compute the same thing.
    """
    phi = _feature_map(feature_map)
    sim = phi(q) @ phi(k).transpose(-2, -1)  # (..., Lq, Lk)
    if causal:
        sim = sim.tril()
    return sim / sim.sum(-1, keepdim=True).clamp_min(eps)


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     feature_map: str | Callable = "elu", causal: bool = False,
                     eps: float = 1e-6) -> torch.Tensor:
    """Kernel ("linear") attention: ``outᵢ = φ(qᵢ)ᵀ (Σⱼ φ(kⱼ) vⱼᵀ) / φ(qᵢ)ᵀ (Σⱼ φ(kⱼ))``.

    Introduced in chapter 7. Replacing ``exp(q·k)`` by ``φ(q)·φ(k)`` lets the sum over keys be
    computed once, a ``[d, dv]`` matrix, instead of once per query: time and memory grow
    like ``n`` (Katharopoulos et al., 2020). It is *not* softmax attention; its weights are
    :func:`kernel_attention_weights`. ``causal=True`` uses running sums (key ``j ≤ i``).
    ``feature_map``: ``"elu"`` (φ = elu + 1), ``"relu"`` or a function. A query whose
    weights would all be 0 gets a zero output (the denominator is clamped to ``eps``).
    """
    _check_qkv(q, k, v)
    phi = _feature_map(feature_map)
    phi_q, phi_k = phi(q), phi(k)  # (..., Lq, d), (..., Lk, d)
    if causal:
        if q.shape[-2] != k.shape[-2]:
            raise ValueError(f"causal linear attention needs as many keys as queries: "
                             f"q {tuple(q.shape)}, k {tuple(k.shape)}")
        kv = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)  # (..., L, d, dv)
        z = torch.cumsum(phi_k, dim=-2)  # (..., L, d)
        num = (phi_q.unsqueeze(-2) @ kv).squeeze(-2)  # (..., L, dv)
        den = (phi_q * z).sum(-1, keepdim=True)  # (..., L, 1)
    else:
        kv = phi_k.transpose(-2, -1) @ v  # (..., d, dv): Σⱼ φ(kⱼ) vⱼᵀ
        z = phi_k.sum(-2)  # (..., d): Σⱼ φ(kⱼ)
        num = phi_q @ kv  # (..., Lq, dv)
        den = (phi_q @ z.unsqueeze(-1))  # (..., Lq, 1)
    return num / den.clamp_min(eps)


# --------------------------------------------------------------------------------------------
# (c) tiled attention with an online softmax (FlashAttention's algorithm)
# --------------------------------------------------------------------------------------------


def online_softmax(scores: torch.Tensor, block_size: int = 64) -> torch.Tensor:
    """Softmax over the last axis, reading the scores one block at a time.

    Introduced in chapter 7: the idea behind tiled attention. One pass keeps a running
    maximum ``m`` and a running sum ``l`` of ``exp(s − m)``; when a block raises the maximum,
    the sum so far is rescaled by ``exp(m_old − m_new)``. A second pass divides. Entries of
    ``-inf`` get weight 0; a row of only ``-inf`` gets zeros.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    n = scores.shape[-1]
    m = torch.full((*scores.shape[:-1], 1), -math.inf, dtype=scores.dtype,
                   device=scores.device)  # running maximum
    total = torch.zeros_like(m)  # running Σ exp(s - m)
    for j in range(0, n, block_size):
        s = scores[..., j:j + block_size]
        m_new = torch.maximum(m, s.amax(-1, keepdim=True))
        m_safe = m_new.masked_fill(m_new == -math.inf, 0.0)  # no finite score seen yet
        total = total * torch.exp(m - m_safe) + torch.exp(s - m_safe).sum(-1, keepdim=True)
        m = m_new
    m_safe = m.masked_fill(m == -math.inf, 0.0)
    weights = torch.exp(scores - m_safe)
    return torch.where(total > 0, weights / total.clamp_min(torch.finfo(total.dtype).tiny),
                       torch.zeros_like(weights))


def tiled_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    mask: torch.Tensor | None = None, block_size: int | tuple[int, int] = 64,
                    causal: bool = False) -> torch.Tensor:
    """Exact softmax attention, one ``[block, block]`` tile of scores at a time.

    Introduced in chapter 7: the FlashAttention algorithm (Dao et al., 2022; Rabe & Staats,
    2021) written in plain PyTorch. For each block of queries it walks over the blocks of
    keys, keeping per query a running maximum ``m``, a running sum ``l`` and an unnormalized
    output ``acc``; a new tile rescales both by ``exp(m_old − m_new)``. The result equals
    :func:`full_attention` (to rounding), but only one tile of scores exists at a time, so
    memory grows like ``n`` instead of ``n²``. (FlashAttention's *speed* comes from doing this
    inside one GPU kernel in fast on-chip memory; plain PyTorch shows the memory saving only.)

    ``mask``: bool, True = may attend, broadcastable to ``[..., Lq, Lk]``; ``causal=True``
    adds the causal mask (built per tile) and skips the tiles above the diagonal. A query
    with no allowed key gets zeros, as in :func:`attnbook.attention.masked_softmax`.
    ``block_size``: one size for queries and keys, or ``(query_block, key_block)``.
    """
    _check_qkv(q, k, v)
    bq, bk = (block_size, block_size) if isinstance(block_size, int) else block_size
    if bq < 1 or bk < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    out_shape = _out_shape(q, k, v)
    batch, (lq, lk) = out_shape[:-2], (q.shape[-2], k.shape[-2])
    if mask is not None:
        check_mask(mask, (*batch, lq, lk))
        mask = mask.expand(*batch, lq, lk)  # a view: no copy
    sqrt_d = math.sqrt(q.shape[-1])
    in_place = not (torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v)))
    out = torch.empty(out_shape, dtype=torch.result_type(q, v), device=q.device)
    for i in range(0, lq, bq):
        q_tile = q[..., i:i + bq, :]  # (..., bq, d): a view
        rows = q_tile.shape[-2]
        m = torch.full((*batch, rows, 1), -math.inf, dtype=out.dtype, device=q.device)
        l = torch.zeros((*batch, rows, 1), dtype=out.dtype, device=q.device)  # noqa: E741
        acc = torch.zeros((*batch, rows, out_shape[-1]), dtype=out.dtype, device=q.device)
        last = min(lk, i + rows) if causal else lk  # keys after the last query are all masked
        for j in range(0, last, bk):
            s = q_tile @ k[..., j:j + bk, :].transpose(-2, -1)  # (..., bq, bk): one tile
            s = s.div_(sqrt_d) if in_place else s / sqrt_d  # as full attention scales
            if mask is not None:
                s.masked_fill_(~mask[..., i:i + bq, j:j + bk], -math.inf)
            if causal:
                qi = torch.arange(i, i + rows, device=q.device)[:, None]
                kj = torch.arange(j, j + s.shape[-1], device=q.device)[None, :]
                s.masked_fill_(kj > qi, -math.inf)
            m_new = torch.maximum(m, s.amax(-1, keepdim=True))  # (..., bq, 1)
            m_safe = m_new.masked_fill(m_new == -math.inf, 0.0)  # rows with no key yet
            rescale = torch.exp(m - m_safe)  # shrinks what was summed under the old maximum
            if in_place:  # the same arithmetic, without temporary copies of the tile
                p = s.sub_(m_safe).exp_()  # (..., bq, bk): unnormalized weights of the tile
                l.mul_(rescale).add_(p.sum(-1, keepdim=True))
                acc.mul_(rescale).add_(p @ v[..., j:j + bk, :])
            else:  # autograd needs the values that in-place operations would overwrite
                p = torch.exp(s - m_safe)
                l = l * rescale + p.sum(-1, keepdim=True)  # noqa: E741
                acc = acc * rescale + p @ v[..., j:j + bk, :]
            m = m_new
            del s, p  # free the tile before the next one is made: one tile at a time
        # A query with no allowed key has l = 0 and acc = 0: it gets 0, not 0/0.
        tiny = torch.finfo(l.dtype).tiny
        out[..., i:i + rows, :] = (acc.div_(l.clamp_min_(tiny)) if in_place
                                   else acc / l.clamp_min(tiny))
    return out

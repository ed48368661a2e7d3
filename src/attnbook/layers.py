"""The Transformer's layers, written from scratch and proved equal to PyTorch's own modules.

Introduced in chapters 4 (:class:`MultiHeadAttention`), 9 (:class:`EncoderLayer`) and 10–11
(:class:`DecoderLayer`, and the key/value cache of step-by-step decoding: :class:`KVCache`,
:class:`DecoderCache`). Every mask is bool with True = may attend (see :mod:`attnbook.masks`).
Each class has ``from_torch`` to copy the weights of the matching ``torch.nn`` module, so the
tests can show the two compute the same thing.

The attention weights of the last forward pass are kept on each attention module as
``.weights`` (``[B, heads, Lq, Lk]``) when ``keep_weights`` is True (see :func:`keep_weights`),
which is how the book's views see every head of a trained model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from attnbook.attention import check_mask, scaled_dot_product_attention

__all__ = ["DecoderCache", "DecoderLayer", "EncoderLayer", "FeedForward", "KVCache",
           "MultiHeadAttention", "keep_weights"]


class KVCache:
    """The keys and values one attention module has projected so far, kept between steps.

    Used in chapter 10 by :meth:`~attnbook.model.Transformer.greedy_decode`. When a decoder
    produces one token at a time, the keys and values of the earlier positions never change
    (the causal mask keeps them from seeing later ones), so each step projects only the new
    positions and appends them here: ``k`` and ``v`` are ``[B, heads, t, d_head]`` (``None``
    before the first step) and ``len(cache)`` is ``t``. With ``static=True`` (cross attention:
    the encoder's memory does not grow) the first keys and values are stored and then reused as
    they are.

    >>> import torch
    >>> cache = KVCache()
    >>> k, v = cache.update(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4))
    >>> k, v = cache.update(torch.ones(1, 2, 1, 4), torch.ones(1, 2, 1, 4))
    >>> len(cache), tuple(k.shape)
    (4, (1, 2, 4, 4))
    """

    def __init__(self, static: bool = False):
        self.static = static  # True: computed once (from memory), then reused
        self.k: torch.Tensor | None = None  # (B, h, t, d_head)
        self.v: torch.Tensor | None = None  # (B, h, t, d_head)

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.shape[-2]

    @property
    def filled(self) -> bool:
        """True once a static cache holds its keys and values (they need no projecting)."""
        return self.static and self.k is not None

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new positions' ``k``, ``v`` (``[B, h, new, d_head]``); return all of them.

        A filled static cache ignores its arguments and returns what it holds.
        """
        if self.filled:
            return self.k, self.v
        if self.k is None or self.static:
            self.k, self.v = k, v
        else:
            self.k = torch.cat([self.k, k], dim=-2)  # (B, h, t + new, d_head)
            self.v = torch.cat([self.v, v], dim=-2)
        return self.k, self.v

    def select(self, index: torch.Tensor) -> None:
        """Keep batch rows ``index`` (in that order, repeats allowed): beam search's reordering."""
        if self.k is not None:
            index = index.to(self.k.device)
            self.k, self.v = self.k[index], self.v[index]  # (len(index), h, t, d_head)


class DecoderCache:
    """What one :class:`DecoderLayer` keeps between decoding steps: two :class:`KVCache`.

    Used in chapter 10 by :meth:`~attnbook.model.Transformer.greedy_decode`. ``self_attn``
    grows by the new positions at every step; ``cross_attn`` holds the keys and values of the
    encoder's memory, projected once. ``len(cache)`` is the number of decoder positions seen so
    far.
    """

    def __init__(self):
        self.self_attn = KVCache()
        self.cross_attn = KVCache(static=True)

    def __len__(self) -> int:
        return len(self.self_attn)

    def select(self, index: torch.Tensor) -> None:
        """Keep batch rows ``index`` of both caches (see :meth:`KVCache.select`)."""
        self.self_attn.select(index)
        self.cross_attn.select(index)


class MultiHeadAttention(nn.Module):
    """Multi-head attention (多头自注意力 when query, key and value are the same sequence).

    Introduced in chapter 4. ``forward(query, key, value, mask=None)`` returns
    ``(output [B, Lq, d_model], weights [B, heads, Lq, Lk])``, batch first; ``mask`` is bool,
    True = may attend, broadcastable to ``[B, Lq, Lk]`` (the head axis is added here).

    Two paths compute the same thing. With ``need_weights=True`` (the default) the readable
    path of :func:`attnbook.attention.scaled_dot_product_attention` runs and returns the
    weights; with ``need_weights=False`` PyTorch's fused kernel runs and the weights are
    ``None``.

    ``qk_transform`` (chapter 5), when set, is called as ``q, k = qk_transform(q, k)`` on each
    head's queries and keys (``[B, heads, L, d_head]``) after the projections and before the
    scores: this is where rotary embeddings (RoPE) turn positions into rotations. With a
    ``cache`` it is called with ``offset=len(cache)`` as well, the position of the first new
    token (see :meth:`attnbook.positional.RotaryEmbedding.rotate_qk`).

    ``cache`` (chapter 10), a :class:`KVCache`, makes ``key`` and ``value`` hold only the new
    positions: their projections are appended to the cache and the queries attend to every
    position kept there. ``mask``, if given, then covers all of them: ``[B, Lq, len(cache)]``.
    """

    def __init__(self, d_model: int, num_heads: int, bias: bool = True, dropout: float = 0.0,
                 qk_transform: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None):
        super().__init__()
        if d_model < 1 or num_heads < 1:
            raise ValueError(f"d_model={d_model} and num_heads={num_heads} must be positive")
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.d_model = d_model  # width of every token vector
        self.num_heads = num_heads  # heads that attend independently
        self.d_head = d_model // num_heads  # width of one head's queries, keys and values
        self.dropout = dropout  # dropout on the attention weights while training
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)  # Wq of all heads, stacked
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)  # Wk
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)  # Wv
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)  # Wo: merges the heads
        self.qk_transform = qk_transform  # (q, k) -> (q, k) per head, e.g. RoPE; None: none
        self.keep_weights = False  # store the last weights on .weights (for the views)
        self.weights: torch.Tensor | None = None

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, L, d_model]`` → ``[B, heads, L, d_head]``: each head gets its slice of features.

        Introduced in chapter 4.
        """
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.d_head).transpose(1, 2)  # (B, h, L, d_head)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, heads, L, d_head]`` → ``[B, L, d_model]``: the heads' outputs side by side.

        Introduced in chapter 4.
        """
        B, h, L, d_head = x.shape
        return x.transpose(1, 2).reshape(B, L, h * d_head)  # (B, L, d_model)

    def _check_inputs(self, query, key, value) -> None:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.dim() != 3 or t.shape[-1] != self.d_model:
                raise ValueError(f"{name} must be [batch, length, d_model={self.d_model}], "
                                 f"got {tuple(t.shape)}")
        if key.shape[:2] != value.shape[:2] or query.shape[0] != key.shape[0]:
            raise ValueError(f"query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} must share the batch size, and key and "
                             "value the length")

    def _project(self, query, key, value, need_kv: bool = True):
        if not need_kv:  # a filled static cache already holds the keys and values
            return self.q_proj(query), None, None
        if query is key and key is value and self.q_proj.bias is not None:
            # Self-attention: one matrix product for q, k and v (as PyTorch's module does).
            w = torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight])
            b = torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias])
            return F.linear(query, w, b).chunk(3, dim=-1)
        return self.q_proj(query), self.k_proj(key), self.v_proj(value)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None, need_weights: bool = True,
                cache: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        self._check_inputs(query, key, value)
        if cache is not None and cache.static and self.qk_transform is not None:
            raise ValueError("a static cache (cross attention) cannot be used with qk_transform")
        offset = 0 if cache is None else len(cache)  # position of the first new token
        need_kv = cache is None or not cache.filled
        q, k, v = (None if t is None else self.split_heads(t)
                   for t in self._project(query, key, value, need_kv))  # (B, h, L, d_head)
        if self.qk_transform is not None:
            q, k = (self.qk_transform(q, k) if cache is None
                    else self.qk_transform(q, k, offset=offset))
        if cache is not None:
            k, v = cache.update(k, v)  # (B, h, t, d_head): every position kept so far
        check_mask(mask, (query.shape[0], query.shape[1], k.shape[-2]))
        head_mask = None if mask is None else mask.unsqueeze(-3)  # (B, 1, Lq, Lk)
        need_weights = need_weights or self.keep_weights
        # PyTorch's fused kernel gives NaN for a query with no key left; the readable path
        # gives zeros, so such inputs take it.
        fused = not need_weights and (mask is None or bool(mask.any(dim=-1).all()))
        if fused:
            p = self.dropout if self.training else 0.0
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=head_mask, dropout_p=p)
            weights = None
        else:
            out, weights = scaled_dot_product_attention(q, k, v, head_mask)  # (B, h, Lq, d_head)
            if self.training and self.dropout > 0:
                out = F.dropout(weights, self.dropout) @ v
        if self.keep_weights:
            self.weights = weights.detach()
        return self.out_proj(self.merge_heads(out)), weights  # (B, Lq, d_model)

    @classmethod
    def from_torch(cls, m: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of ``nn.MultiheadAttention(batch_first=True)`` with the same weights.

        Introduced in chapter 4. PyTorch stacks Wq, Wk and Wv in one ``in_proj_weight``;
        here they are three separate layers.
        """
        if not m.batch_first:
            raise ValueError("from_torch needs nn.MultiheadAttention(batch_first=True)")
        if not m._qkv_same_embed_dim:
            raise ValueError("from_torch needs kdim == vdim == embed_dim")
        if m.bias_k is not None or m.add_zero_attn:
            raise ValueError("add_bias_kv and add_zero_attn have no counterpart here")
        bias = m.in_proj_bias is not None
        new = cls(m.embed_dim, m.num_heads, bias=bias, dropout=m.dropout)
        with torch.no_grad():
            for proj, w in zip((new.q_proj, new.k_proj, new.v_proj),
                               m.in_proj_weight.chunk(3), strict=True):
                proj.weight.copy_(w)
            if bias:
                for proj, b in zip((new.q_proj, new.k_proj, new.v_proj),
                                   m.in_proj_bias.chunk(3), strict=True):
                    proj.bias.copy_(b)
                new.out_proj.bias.copy_(m.out_proj.bias)
            new.out_proj.weight.copy_(m.out_proj.weight)
        return new.to(m.in_proj_weight.device, m.in_proj_weight.dtype)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, num_heads={self.num_heads}, d_head={self.d_head}"


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation_name(activation) -> str:
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be 'relu' or 'gelu', got {activation!r}")
        return activation
    for name, fn in _ACTIVATIONS.items():
        if activation is fn or isinstance(activation, (nn.ReLU if name == "relu" else nn.GELU)):
            return name
    raise ValueError(f"activation {activation!r} has no counterpart here (relu or gelu)")


class FeedForward(nn.Module):
    """The position-wise fully connected (全连接) network: ``linear2(act(linear1(x)))``.

    Used in chapter 9 by :class:`EncoderLayer`. The same two layers are applied to every
    position on its own.
    """

    def __init__(self, d_model: int, dim_feedforward: int, activation: str = "relu",
                 dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)
        self.activation = _activation_name(activation)  # 'relu' or 'gelu' (exact, not tanh)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(_ACTIVATIONS[self.activation](self.linear1(x))))


class _Sublayers(nn.Module):
    """What encoder and decoder layers share: residual + layer norm around each sublayer."""

    norm_first: bool

    def _residual(self, x: torch.Tensor, sublayer, norm: nn.LayerNorm,
                  dropout: nn.Dropout) -> torch.Tensor:
        # Post-LN (the notes, Vaswani et al.): norm(x + f(x)). Pre-LN: x + f(norm(x)).
        if self.norm_first:
            return x + dropout(sublayer(norm(x)))
        return norm(x + dropout(sublayer(x)))


def _check_torch_layer(m: nn.Module) -> None:
    if not getattr(m.self_attn, "batch_first", False):
        raise ValueError("from_torch needs a layer built with batch_first=True")


def _copy_feedforward(ff: FeedForward, m: nn.Module) -> None:
    ff.linear1.load_state_dict(m.linear1.state_dict())
    ff.linear2.load_state_dict(m.linear2.state_dict())


class EncoderLayer(_Sublayers):
    """One encoder block (编码器): self-attention, residual, layer norm, fully connected,
    residual, layer norm.

    Introduced in chapter 9. ``norm_first=False`` is the original post-LN block of the notes;
    ``True`` moves each layer norm before its sublayer (pre-LN). ``forward(x, mask=None)``
    returns ``[B, L, d_model]``; the self-attention weights are on ``self.self_attn.weights``
    after a pass made inside :func:`keep_weights`.
    """

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", layer_norm_eps: float = 1e-5,
                 norm_first: bool = False, bias: bool = True):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, bias=bias, dropout=dropout)
        self.feed_forward = FeedForward(d_model, dim_feedforward, activation, dropout, bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm_first = norm_first  # False: post-LN (the notes); True: pre-LN

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self._residual(x, lambda h: self.self_attn(h, h, h, mask, need_weights=False)[0],
                           self.norm1, self.dropout1)
        return self._residual(x, self.feed_forward, self.norm2, self.dropout2)

    @classmethod
    def from_torch(cls, m: nn.TransformerEncoderLayer) -> EncoderLayer:
        """A copy of ``nn.TransformerEncoderLayer(batch_first=True)`` with the same weights.

        Introduced in chapter 9.
        """
        _check_torch_layer(m)
        new = cls(m.self_attn.embed_dim, m.self_attn.num_heads, m.linear1.out_features,
                  m.dropout.p, _activation_name(m.activation), m.norm1.eps, m.norm_first,
                  bias=m.linear1.bias is not None)
        new.self_attn = MultiHeadAttention.from_torch(m.self_attn)
        _copy_feedforward(new.feed_forward, m)
        new.norm1.load_state_dict(m.norm1.state_dict())
        new.norm2.load_state_dict(m.norm2.state_dict())
        return new.to(m.linear1.weight.device, m.linear1.weight.dtype)


class DecoderLayer(_Sublayers):
    """One decoder block (解码器): masked self-attention, cross attention (交叉注意力), fully
    connected — each with residual and layer norm.

    Introduced in chapters 10 and 11. ``forward(y, memory, self_mask=None, cross_mask=None,
    cache=None)`` returns ``[B, Ly, d_model]``. The queries of the cross attention come from
    the decoder (y), its keys and values from the encoder's output (memory). Pass
    :func:`attnbook.masks.causal_mask` as ``self_mask`` to hide the future.

    With a :class:`DecoderCache`, ``y`` holds only the new positions (one per step when
    decoding token by token); the self-attention attends to them and to every earlier position
    kept in the cache, which grows in place. ``self_mask``, if given, is then
    ``[new, len(cache)]`` (after this step); one new position needs none.
    """

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", layer_norm_eps: float = 1e-5,
                 norm_first: bool = False, bias: bool = True):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, bias=bias, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, bias=bias, dropout=dropout)
        self.feed_forward = FeedForward(d_model, dim_feedforward, activation, dropout, bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.norm_first = norm_first  # False: post-LN (the notes); True: pre-LN

    def forward(self, y: torch.Tensor, memory: torch.Tensor,
                self_mask: torch.Tensor | None = None,
                cross_mask: torch.Tensor | None = None,
                cache: DecoderCache | None = None) -> torch.Tensor:
        self_cache = None if cache is None else cache.self_attn
        cross_cache = None if cache is None else cache.cross_attn
        y = self._residual(
            y, lambda h: self.self_attn(h, h, h, self_mask, need_weights=False,
                                        cache=self_cache)[0],
            self.norm1, self.dropout1)
        y = self._residual(
            y, lambda h: self.cross_attn(h, memory, memory, cross_mask, need_weights=False,
                                         cache=cross_cache)[0],
            self.norm2, self.dropout2)
        return self._residual(y, self.feed_forward, self.norm3, self.dropout3)

    @classmethod
    def from_torch(cls, m: nn.TransformerDecoderLayer) -> DecoderLayer:
        """A copy of ``nn.TransformerDecoderLayer(batch_first=True)`` with the same weights.

        Introduced in chapter 10. PyTorch calls the cross attention ``multihead_attn``.
        """
        _check_torch_layer(m)
        new = cls(m.self_attn.embed_dim, m.self_attn.num_heads, m.linear1.out_features,
                  m.dropout.p, _activation_name(m.activation), m.norm1.eps, m.norm_first,
                  bias=m.linear1.bias is not None)
        new.self_attn = MultiHeadAttention.from_torch(m.self_attn)
        new.cross_attn = MultiHeadAttention.from_torch(m.multihead_attn)
        _copy_feedforward(new.feed_forward, m)
        for ours, theirs in ((new.norm1, m.norm1), (new.norm2, m.norm2), (new.norm3, m.norm3)):
            ours.load_state_dict(theirs.state_dict())
        return new.to(m.linear1.weight.device, m.linear1.weight.dtype)


@contextmanager
def keep_weights(model: nn.Module) -> Iterator[list[tuple[str, MultiHeadAttention]]]:
    """Inside the block, every attention module of `model` keeps its last weights.

    Introduced in chapter 9. Yields ``[(name, module), ...]``; after a forward pass each
    ``module.weights`` is ``[B, heads, Lq, Lk]``::

        with keep_weights(model) as attns:
            model(x)
        weights = {name: m.weights for name, m in attns}
    """
    attns = [(n, m) for n, m in model.named_modules() if isinstance(m, MultiHeadAttention)]
    before = [m.keep_weights for _, m in attns]
    for _, m in attns:
        m.keep_weights = True
    try:
        yield attns
    finally:
        for (_, m), flag in zip(attns, before, strict=True):
            m.keep_weights = flag



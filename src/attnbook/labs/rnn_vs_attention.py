"""An RNN's sequential steps against self-attention's one step, measured.

Introduced in chapter 6: an RNN must run its ``n`` steps one after another and passes the
first input to the last output through ``n`` steps, while self-attention computes every
position at once and connects any two in one step (:func:`time_rnn_and_attention`,
:func:`gradient_by_distance`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from attnbook.attention import scaled_dot_product_attention
from attnbook.layers import MultiHeadAttention
from attnbook.measure import time_call

__all__ = ["gradient_by_distance", "time_rnn_and_attention"]


def time_rnn_and_attention(lengths: Sequence[int], d_model: int = 64, batch: int = 8,
                           repeats: int = 5, seed: int = 0) -> dict[str, list]:
    """Median seconds of an RNN layer and of a self-attention step over each length.

    Introduced in chapter 6. The RNN is ``torch.nn.RNN`` (tanh), which must run its ``n``
    steps one after another, each needing the previous hidden state; the attention is one
    call of :func:`attnbook.attention.scaled_dot_product_attention` over all ``n`` positions
    at once (q = k = v = x: the projections cost the same ``n·d²`` for both and are left
    out). Returns ``{"lengths", "rnn", "attention"}`` with times in seconds.
    """
    torch.manual_seed(seed)
    rnn = nn.RNN(d_model, d_model, batch_first=True)
    times: dict[str, list] = {"lengths": [int(n) for n in lengths], "rnn": [], "attention": []}
    for n in lengths:
        x = torch.randn(batch, n, d_model)
        times["rnn"].append(time_call(rnn, x, repeats=repeats))
        times["attention"].append(time_call(scaled_dot_product_attention, x, x, x,
                                            repeats=repeats))
    return times


def gradient_by_distance(layer: str, n: int = 32, d_model: int = 16, seed: int = 0
                         ) -> torch.Tensor:
    """``‖∂y_last / ∂x_j‖`` for every input position ``j``: how strongly the last output
    still depends on each input, after one layer.

    Introduced in chapter 6. ``layer``: ``"rnn"`` (``torch.nn.RNN``, tanh, PyTorch's default
    initialization; the path from ``x_j`` to the last output passes through ``n − j`` steps)
    or ``"attention"`` (:class:`attnbook.layers.MultiHeadAttention`, 4 heads; every path is
    one step). Returns ``[n]`` norms, float64, at a random input (``seed``).
    """
    torch.manual_seed(seed)
    if layer == "rnn":
        module = nn.RNN(d_model, d_model, batch_first=True).double()

        def last(x):
            return module(x)[0][0, -1]
    elif layer == "attention":
        module = MultiHeadAttention(d_model, 4).double()

        def last(x):
            return module(x, x, x)[0][0, -1]
    else:
        raise ValueError(f"layer={layer!r} is not 'rnn' or 'attention'")
    x = torch.randn(1, n, d_model, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(last, x)  # (d_model, 1, n, d_model)
    return jac[:, 0].permute(1, 0, 2).reshape(n, -1).norm(dim=-1)

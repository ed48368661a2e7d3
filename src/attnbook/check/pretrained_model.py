"""Checkers of part 3, "Beyond the notes": the exercises of chapter 13.

Introduced in chapter 13: how far a pretrained model's heads look, and mean pooling over the
real tokens. The expected answers come from :mod:`attnbook.pretrained`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from attnbook.check._core import Case, CheckResult, run_cases

# attnbook.pretrained imports PyTorch: it is imported inside the checkers, so that importing
# attnbook.check does not load PyTorch before a chapter needs it.


# ----------------------------------------------------------------------------- chapter 13


def mean_attention_distance(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(weights [..., L, L])`` → ``[...]``: Σⱼ α′ᵢⱼ |i − j| averaged over queries i.

    Introduced in chapter 13 (exercise: how far a head looks).
    """
    from attnbook import pretrained as _pretrained

    rng = np.random.default_rng(13)
    previous = np.eye(5, k=-1)
    previous[0, 0] = 1.0  # the first token has no previous one: it attends to itself
    inputs = [
        ("every token attends to itself: distance 0", np.eye(5)),
        ("each token attends to the one before it", previous),
        ("equal weights over 4 tokens", np.full((4, 4), 0.25)),
        ("random weights of one head", rng.dirichlet(np.ones(6), size=6)),
        ("2 layers x 3 heads at once: one distance per head", rng.dirichlet(np.ones(4),
                                                                           size=(2, 3, 4))),
    ]
    cases = [Case(d, (w,), _pretrained.mean_attention_distance(w)) for d, w in inputs]
    return run_cases("mean_attention_distance", fn, cases)


def mean_pool(fn: Callable[[Any, Any], Any]) -> CheckResult:
    """Check ``fn(hidden [B, L, d], attention_mask [B, L])`` → unit-length sentence vectors.

    Introduced in chapter 13 (exercise: mean pooling over the real tokens).
    """
    import torch

    from attnbook import pretrained as _pretrained

    rng = np.random.default_rng(14)

    def batch(lengths, L, d=4, pad_value=None):
        # An encoder computes outputs at [PAD] positions too: random numbers, or pad_value.
        hidden = torch.from_numpy(rng.normal(size=(len(lengths), L, d)))
        mask = torch.zeros(len(lengths), L, dtype=torch.long)
        for i, n in enumerate(lengths):
            mask[i, :n] = 1
            if pad_value is not None:
                hidden[i, n:] = pad_value
        return hidden, mask

    inputs = [
        ("one sentence of 3 tokens, no padding", batch([3], 3)),
        ("a batch whose second sentence has 2 [PAD] positions", batch([5, 3], 5)),
        ("[PAD] positions hold large numbers that must not count", batch([2, 4], 4, 3, 100.0)),
        ("three sentences of different lengths", batch([1, 6, 4], 6, 5)),
    ]
    cases = [Case(d, (h, m), _pretrained.mean_pool(h, m).numpy()) for d, (h, m) in inputs]
    return run_cases("mean_pool", fn, cases)

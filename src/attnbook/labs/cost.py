"""What attention costs as the sequence grows: time and peak memory of four methods against n.

Introduced in chapter 7. :func:`cost_sweep` runs each attention of
:data:`attnbook.efficient.METHODS` (through :func:`run_method`, with the chapter's settings)
over growing lengths and measures it with :mod:`attnbook.measure`; :func:`memory_model` counts
the same peaks on paper. The chapter runs a short sweep live and ``benchmarks/attention_cost.py``
a long one, saved for the chapter to plot.
"""

from __future__ import annotations

import torch

from attnbook.efficient import (
    METHODS,
    full_attention,
    linear_attention,
    local_attention,
    tiled_attention,
)
from attnbook.measure import peak_memory, time_call

__all__ = ["cost_sweep", "memory_model", "run_method"]


def run_method(method: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
               window: int = 32, block_size: int = 128,
               feature_map: str = "elu") -> torch.Tensor:
    """Self-attention by one of :data:`METHODS`, with the chapter's settings.

    Used in chapter 7 by :func:`cost_sweep`: one entry point for the timing and memory sweeps.
    """
    if method == "full":
        return full_attention(q, k, v)
    if method == "local":
        return local_attention(q, k, v, window)
    if method == "linear":
        return linear_attention(q, k, v, feature_map)
    if method == "tiled":
        return tiled_attention(q, k, v, block_size=block_size)
    raise ValueError(f"method={method!r} is not one of {METHODS}")


def memory_model(method: str, n: int, d: int = 64, *, batch: int = 1, window: int = 32,
                 block_size: int = 128, bytes_per_element: int = 4) -> int:
    """The peak bytes :func:`run_method` allocates for self-attention over ``n`` tokens,
    counted on paper from the tensors each method builds.

    Introduced in chapter 7, next to the measured peaks (:func:`peak_memory`), which it
    matches for the float32 CPU implementations of this module. ``batch`` counts every
    leading axis together (batch × heads). Every method returns an ``[n, d]`` output; on top:

    - ``full``: the ``[n, n]`` scores and the ``[n, n]`` weights, alive together: ``2n²``;
    - ``local`` (window ``w``): the queries, keys and values padded to whole blocks, and per
      block of ``w`` queries the scores and weights over ``3w`` keys: about ``6nw + 4nd``
      floats, plus the ``[n, 3w]`` bool masks of allowed pairs;
    - ``linear``: ``φ(q)`` and ``φ(k)`` (and one temporary of their size), the ``d × d`` sum
      over keys, the numerator: about ``4nd``;
    - ``tiled`` (block ``B``): one ``[B, B]`` tile of scores, the running output of a block
      of queries and its update: ``B² + 2Bd``, independent of ``n``.

    Small index tensors are left out, so the measured peaks are a few percent higher.
    """
    e = bytes_per_element
    extra = 0  # bytes that are not floats (bool masks)
    if method == "full":
        elements = 2 * n * n
    elif method == "local":
        block = max(window, 1)
        padded = -(-n // block) * block  # n rounded up to whole blocks
        span = block + 2 * window  # keys around one block of queries
        elements = padded * d + 2 * (padded + 2 * window) * d + 2 * padded * span
        extra = 2 * padded * span  # the allowed pairs and their negation, one byte each
    elif method == "linear":
        elements = 3 * n * d + d * d + d + n
    elif method == "tiled":
        b = min(block_size, n)
        elements = b * b + 2 * b * d + 4 * b
    else:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    output = n * d  # every method returns [n, d]
    return int(batch * ((elements + output) * e + extra))


def cost_sweep(ns, methods=METHODS, d: int = 64, *, batch: int = 1, window: int = 32,
               block_size: int = 128, repeats: int = 3, memory: bool = True,
               max_n: dict[str, int] | None = None, device=None, seed: int = 0
               ) -> dict[str, dict[str, list]]:
    """Time and peak memory of each method of :data:`METHODS` for self-attention over each
    length in ``ns`` (random ``[batch, n, d]`` inputs, q = k = v).

    Introduced in chapter 7; the chapter and ``benchmarks/attention_cost.py`` both call it.
    Returns ``{method: {"n", "seconds", "peak_bytes", "model_bytes"}}``: median seconds of
    ``repeats`` runs (:func:`time_call`), the measured peak (:func:`peak_memory`; omitted
    with ``memory=False``) and the peak counted on paper (:func:`memory_model`).
    ``max_n`` skips a method above a length (e.g. ``{"full": 8192}``).
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    result: dict[str, dict[str, list]] = {
        m: {"n": [], "seconds": [], "peak_bytes": [], "model_bytes": []} for m in methods}
    settings = {"window": window, "block_size": block_size}
    for n in ns:
        x = torch.randn(batch, n, d, generator=gen).to(device)
        for m in methods:
            if max_n and n > max_n.get(m, n):
                continue
            row = result[m]
            row["n"].append(int(n))
            row["seconds"].append(time_call(run_method, m, x, x, x, repeats=repeats,
                                            **settings))
            if memory:
                row["peak_bytes"].append(peak_memory(run_method, m, x, x, x, **settings))
            row["model_bytes"].append(memory_model(m, n, d, batch=batch, **settings))
    return result

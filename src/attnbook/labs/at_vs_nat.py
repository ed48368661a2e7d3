"""Autoregressive (AT) against non-autoregressive (NAT, 非自回归) decoding, measured.

Introduced in chapter 10. :func:`nat_passes` shows mask-predict pass by pass;
:func:`mistakes_by_passes` counts a NAT's mistakes for several numbers of passes at once
(``benchmarks/nat_passes.py`` runs it on every number); :func:`compare_at_nat` sets the
accuracy of both models on the same numbers against the number of decoder passes, and
:func:`time_decoding` times them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from attnbook import numerals
from attnbook.measure import num_threads, time_calls
from attnbook.model import NATransformer, Transformer, pad_batch

__all__ = ["compare_at_nat", "mistakes_by_passes", "nat_passes", "time_decoding"]


def nat_passes(model: NATransformer, number: int, iterations: int) -> list[dict]:
    """Mask-predict on one number, pass by pass: what the NAT decoder read and wrote.

    Introduced in chapter 10. One dict per decoder pass: ``'input'`` and ``'output'`` (lists
    of token names; MASK where the input is still unknown), ``'probs'`` (the confidence
    of each output token, rounded to 3 decimals) and ``'dist'`` (an array ``(length,
    len(TARGET_TOKENS))``: the distribution each output token was chosen from).
    """
    if not isinstance(model, NATransformer):
        raise ValueError(f"nat_passes needs an NATransformer, got {type(model).__name__}")
    _, steps = model.generate([numerals.source_ids(number)], iterations=iterations,
                              return_steps=True)
    names = numerals.TARGET_TOKENS
    return [{"input": [names[i] for i in s["input"][0].tolist()],
             "output": [names[i] for i in s["tokens"][0].tolist()],
             "probs": [round(p, 3) for p in s["probs"][0].tolist()],
             "dist": s["dist"][0].double().numpy()} for s in steps]


def mistakes_by_passes(model: NATransformer, numbers: Sequence[int],
                       passes: Sequence[int] = (1, 2, 3, 4), batch_size: int = 1024,
                       on_batch: Callable[[int], None] | None = None
                       ) -> dict[int, list[tuple[int, str, str]]]:
    """A NAT's mistakes with each number of mask-predict passes: ``{k: [(n, output, right)]}``.

    Introduced in chapter 10. The numbers are decoded in batches of ``batch_size``, in the
    order given (as :func:`attnbook.translate.mistakes` does, so that the outputs are the
    same); each batch runs the encoder and the first pass once for every ``k``
    (:meth:`NATransformer.generate_each <attnbook.model.NATransformer.generate_each>`).
    ``on_batch(done)`` is called after each batch with the count of numbers done so far.
    """
    if not isinstance(model, NATransformer):
        raise ValueError(f"mistakes_by_passes needs an NATransformer, got "
                         f"{type(model).__name__}")
    numbers = [numerals.check_number(n) for n in numbers]
    out: dict[int, list[tuple[int, str, str]]] = {int(k): [] for k in passes}
    for i in range(0, len(numbers), batch_size):
        chunk = numbers[i:i + batch_size]
        decoded = model.generate_each(_src(chunk, model.device), list(out))
        for k, outputs in decoded.items():
            for n, ids in zip(chunk, outputs, strict=True):
                got, right = numerals.decode_target(ids), numerals.to_chinese(n)
                if got != right:
                    out[k].append((n, got, right))
        if on_batch is not None:
            on_batch(i + len(chunk))
    return out


def _src(numbers: Sequence[int], device: torch.device) -> torch.Tensor:
    return pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD, device)  # (B, S)


def compare_at_nat(at_model: Transformer, nat_model: NATransformer, numbers: Sequence[int],
                   iterations: Sequence[int] = (1, 2, 3, 4, 6, 8)) -> list[dict]:
    """Exact-match accuracy against decoder passes, for AT and NAT on the same numbers.

    Introduced in chapter 10. One dict per method, with ``'method'``, ``'passes'`` (decoder
    passes per number: for AT the output length plus one for END, averaged over the numbers;
    for NAT the mask-predict iterations) and ``'accuracy'`` (the fraction of numbers whose
    whole output is right). NAT rows also give ``'length_accuracy'``: how often the length
    predictor was right, which bounds the NAT's accuracy from above, and
    ``'accuracy_true_length'``: the accuracy when the NAT is given the true length instead.
    """
    numbers = [numerals.check_number(n) for n in numbers]
    if not numbers:
        raise ValueError("compare_at_nat needs at least one number")
    truth = [numerals.target_ids(n) for n in numbers]
    at_out = at_model.greedy_decode(_src(numbers, at_model.device))
    src = _src(numbers, nat_model.device)
    rows = [{
        "method": "AT (greedy)",
        "passes": float(np.mean([len(o) + 1 for o in at_out])),
        "accuracy": float(np.mean([o == t for o, t in zip(at_out, truth, strict=True)])),
    }]
    with torch.no_grad():
        src_mask = nat_model.src_padding_mask(src)
        memory = nat_model.encode(src, src_mask)
        lengths = nat_model.predict_length_logits(memory, src_mask)[:, 1:].argmax(-1) + 1
    length_ok = float(np.mean([int(n) == len(t) for n, t in zip(lengths.tolist(), truth,
                                                                  strict=True)]))
    true_lengths = [len(t) for t in truth]

    def accuracy(out):
        return float(np.mean([o == t for o, t in zip(out, truth, strict=True)]))

    for k in iterations:
        rows.append({
            "method": f"NAT, {k} pass{'es' if k > 1 else ''}",
            "passes": float(k),
            "accuracy": accuracy(nat_model.generate(src, iterations=int(k))),
            "length_accuracy": length_ok,
            "accuracy_true_length": accuracy(nat_model.generate(src, iterations=int(k),
                                                                lengths=true_lengths)),
        })
    return rows


def time_decoding(at_model: Transformer, nat_model: NATransformer, numbers: Sequence[int],
                  iterations: Sequence[int] = (1, 4), repeats: int = 7,
                  threads: int | None = 1) -> dict[str, float]:
    """Median seconds to decode `numbers` (as one batch): AT greedy, and NAT with k passes.

    Introduced in chapter 10. Returns ``{'AT (greedy)': s, 'NAT, 1 pass': s, ...}``, measured
    with :func:`attnbook.measure.time_calls`: the methods take turns within each repeat, so
    that a slow moment of the machine slows all of them, and PyTorch runs on ``threads``
    threads (restored afterwards; ``None`` leaves it as it is): one thread makes small models'
    timings much steadier on a busy machine. Timings depend on the machine and on what else
    runs on it: compare them with each other, never with numbers from another machine.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    numbers = [numerals.check_number(n) for n in numbers]
    at_src, nat_src = _src(numbers, at_model.device), _src(numbers, nat_model.device)
    methods: dict[str, Callable[[], object]] = {
        "AT (greedy)": lambda: at_model.greedy_decode(at_src)}
    for k in iterations:
        methods[f"NAT, {k} pass{'es' if k > 1 else ''}"] = (
            lambda k=k: nat_model.generate(nat_src, iterations=int(k)))
    with num_threads(threads):
        return time_calls(methods, repeats=repeats, warmup=1, device=at_model.device)

"""The examples whose numbers the figures show: every number in F1–F19 comes from here.

- :func:`relevance_example` (chapter 2, F3 and F5) and :func:`column_example` (chapter 3, the
  same numbers with tokens as columns, F6–F9): seeded random inputs and weights;
- :data:`VOCABULARY`, :func:`decoding_example` (chapter 10, F16 and F17),
  :func:`cross_attention_example` (chapter 11, F18) and :func:`teacher_forcing_example`
  (chapter 12, F19): the book's trained translator (``translate.load_book_model("at")``), run
  as the chapters run it.

The trained model's numbers are computed with one thread and rounded to 4 decimals before they
are drawn, so that the figures' SVG files are the same bytes on every run (and on machines whose
last float bits differ).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from attnbook import numerals, translate
from attnbook.labs.decoding_steps import record_decoding
from attnbook.labs.relevance import self_attention_step_by_step
from attnbook.measure import num_threads
from attnbook.numpy_ref import self_attention

__all__ = [
    "VOCABULARY",
    "column_example",
    "cross_attention_example",
    "decoding_example",
    "relevance_example",
    "teacher_forcing_example",
]

DECIMALS = 4  # the trained model's numbers are rounded to this many decimals for the figures


def relevance_example(seed: int = 0, n: int = 4, d: int = 4) -> dict[str, np.ndarray]:
    """The small worked example of chapter 2: how much each a^j matters to a^1.

    Introduced in chapter 2 (figures F3 and F5 show its numbers).

    `n` random input vectors a^1..a^n of size `d` (rows of ``a``) and random matrices
    W^q, W^k, W^v (entries of standard deviation 1/2, so that the scores are moderate).
    Returns a dict of NumPy arrays:

    - ``a`` (n, d): the inputs, ``a[j]`` is a^(j+1);
    - ``W_q``, ``W_k``, ``W_v`` (d, d);
    - ``q`` (d,): q^1 = W^q a^1;  ``k``, ``v`` (n, d): k^j = W^k a^j, v^j = W^v a^j;
    - ``alpha`` (n,): alpha_{1,j} = q^1 . k^j;
    - ``alpha_prime`` (n,): softmax of ``alpha``, which sums to 1;
    - ``b`` (d,): b^1 = sum_j alpha'_{1,j} v^j.

    >>> ex = relevance_example()
    >>> ex["a"].shape, round(float(ex["alpha_prime"].sum()), 6)
    ((4, 4), 1.0)
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d))
    W_q, W_k, W_v = 0.5 * rng.standard_normal((3, d, d))
    # The computation itself is the package's tested one (attnbook.labs.relevance), not a copy.
    step = self_attention_step_by_step(a, W_q, W_k, W_v, query_index=0)
    return {
        "a": a,
        "W_q": W_q,
        "W_k": W_k,
        "W_v": W_v,
        "q": step.q,
        "k": step.k,
        "v": step.v,
        "alpha": step.alpha,
        "alpha_prime": step.alpha_prime,
        "b": step.b,
    }


def column_example(seed: int = 0) -> dict[str, np.ndarray]:
    """Chapter 2's seeded example with tokens as columns: the matrices of F6–F9.

    Introduced in chapter 3. Returns ``I`` (d, n) whose column j is aʲ, ``W_q``, ``W_k``,
    ``W_v``, ``Q``, ``K``, ``V`` (one column per token), ``A = KᵀQ`` (column j: the scores of
    query j), ``A_prime`` (softmax of each column) and ``O = V A′`` (column j is bʲ). As in the
    notes' figures, the scores are not divided by √d_k here; chapter 3 adds that afterwards.
    """
    ex = relevance_example(seed)
    I = ex["a"].T  # noqa: E741 - the notes' name. (d, n): one column per token
    W_q, W_k, W_v = ex["W_q"], ex["W_k"], ex["W_v"]
    Q, K, V = W_q @ I, W_k @ I, W_v @ I  # (d_k, n), (d_k, n), (d_v, n)
    O, A_prime = self_attention(I, W_q, W_k, W_v, scaled=False)  # noqa: E741
    return {"I": I, "W_q": W_q, "W_k": W_k, "W_v": W_v, "Q": Q, "K": K, "V": V,
            "A": K.T @ Q, "A_prime": A_prime, "O": O}


VOCABULARY = tuple(t for t in numerals.TARGET_TOKENS if t not in ("PAD", "BEGIN", "MASK"))
"""The tokens the decoder writes, as the figures draw them: END, 零 一 二 … 九, 十 百 千 万.

Used in chapter 10 by `draw` (figures F16, F17 and F19 draw a distribution over them). The
model's other target tokens (PAD, BEGIN, MASK) are never written; the trained model gives them
a probability below 0.0001 (tests/test_figures.py checks it)."""

_COLUMNS = [numerals.TARGET_TOKENS.index(t) for t in VOCABULARY]


@functools.cache
def _book_model():
    return translate.load_book_model("at")


@functools.cache
def _record(number: int):
    with num_threads(1):
        return record_decoding(_book_model(), number)


def _rounded(x) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64), DECIMALS)


def decoding_example(number: int = 1005) -> dict:
    """The book's trained translator decoding `number` greedily: what figures F16 and F17 draw.

    Used in chapter 10 by `draw` (figures F16 and F17). The decoding is chapter 10's
    (:func:`attnbook.labs.decoding_steps.record_decoding` on
    ``translate.load_book_model("at")``). Returns a dict: ``inputs`` (BEGIN and the tokens
    chosen before each step), ``outputs`` (the token chosen at each step, END last), ``probs``
    (steps, len(VOCABULARY)): each step's distribution over :data:`VOCABULARY`, rounded to
    4 decimals, and ``text``, the numeral written.

    >>> ex = decoding_example(1005)
    >>> ex["text"], ex["outputs"]
    ('一千零五', ['一', '千', '零', '五', 'END'])
    """
    record = _record(numerals.check_number(number))
    return {"inputs": record.inputs, "outputs": record.outputs, "text": record.text,
            "probs": _rounded(record.probs[:, _COLUMNS])}


def cross_attention_example(number: int = 1005, layer: int = 0, head: int = 0,
                            step: int = 0) -> dict:
    """The trained translator's cross-attention weights at one step of decoding `number`.

    Used in chapter 11 by `draw` (figure F18: the first decoder block, its first head, at the
    first step, whose query comes from BEGIN). The weights are those chapter 11's views show
    (:func:`attnbook.labs.decoding_steps.record_decoding`). Returns a dict: ``source`` (the
    digits), ``query_input`` (the decoder's newest input at that step), ``output`` (the token
    the step chose), ``alpha_prime`` (len(source),): the softmax weights over the encoder's
    outputs, rounded to 4 decimals, and ``layer``, ``head``, ``step``.

    >>> ex = cross_attention_example()
    >>> ex["source"], ex["query_input"], ex["output"]
    (('1', '0', '0', '5'), 'BEGIN', '一')
    """
    record = _record(numerals.check_number(number))
    return {"source": record.source, "query_input": record.inputs[step],
            "output": record.outputs[step], "layer": layer, "head": head, "step": step,
            "alpha_prime": _rounded(record.cross_attention[layer, head, step])}


def teacher_forcing_example(number: int = 305) -> dict:
    """The trained translator under teacher forcing on `number`: what figure F19 draws.

    Used in chapter 12 by `draw` (figure F19). The decoder reads BEGIN and the right answer
    (not its own guesses) in one pass, as chapter 12 runs it: ``model(src, tgt_in)``.
    Returns a dict: ``inputs`` (BEGIN and the answer's tokens), ``labels`` (the answer's tokens
    and END), ``probs`` (positions, len(VOCABULARY)): each position's distribution over
    :data:`VOCABULARY`, and ``cross_entropy`` (positions,): ``-log p(label)``, both rounded to
    4 decimals.

    >>> ex = teacher_forcing_example(305)
    >>> ex["inputs"], ex["labels"]
    (['BEGIN', '三', '百', '零', '五'], ['三', '百', '零', '五', 'END'])
    """
    number = numerals.check_number(number)
    model = _book_model()
    target = numerals.target_ids(number)
    src = torch.tensor([numerals.source_ids(number)], device=model.device)  # (1, S)
    tgt_in = torch.tensor([[numerals.BEGIN, *target]], device=model.device)  # (1, T)
    labels = [*target, numerals.END]
    with num_threads(1), torch.no_grad():
        log_probs = model(src, tgt_in).log_softmax(-1)[0].double().cpu()  # (T, vocabulary)
    names = numerals.TARGET_TOKENS
    cross_entropy = [-log_probs[t, y].item() for t, y in enumerate(labels)]
    return {"inputs": [names[i] for i in tgt_in[0].tolist()],
            "labels": [names[i] for i in labels],
            "probs": _rounded(log_probs.exp().numpy()[:, _COLUMNS]),
            "cross_entropy": _rounded(cross_entropy)}

"""What the trained encoder's vectors hold: the three kinds of output of chapter 1, probed.

Introduced in chapter 8. Linear probes on the frozen encoder of the book's translator
(:func:`attnbook.translate.load_book_model`): one label per digit vector, one label per
number, and the translation itself (a sequence whose length the model decides); and
multi-label classification written as sequence to sequence (:func:`multilabel_target`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from attnbook import numerals
from attnbook import translate as _translate
from attnbook.model import Transformer, pad_batch

__all__ = ["digit_read_labels", "multilabel_target", "probe_encoder"]


def multilabel_target(labels: Sequence[str], vocab: Sequence[str], end: str = "END") -> list[int]:
    """A set of labels as a seq2seq target: their ids in vocabulary order, then END's id.

    Introduced in chapter 8 (multi-label classification, 多标签分类, as sequence to
    sequence). ``vocab`` lists every label and ``end``; repeated labels count once. A label
    not in ``vocab`` raises a ``ValueError``.
    """
    index = {name: i for i, name in enumerate(vocab)}
    if end not in index:
        raise ValueError(f"the vocabulary has no end token {end!r}")
    unknown = [x for x in labels if x not in index]
    if unknown:
        raise ValueError(f"labels {unknown} are not in the vocabulary")
    return sorted({index[x] for x in labels}) + [index[end]]


def digit_read_labels(n: int) -> list[int]:
    """For each digit of ``n``: 1 when its digit character (一 … 九) is written in
    ``to_chinese(n)``, else 0.

    Used in chapter 8 by :func:`probe_encoder`, as the one-label-per-vector task of the encoder
    probe. Zeros are not read as digits, and a leading 1 in a tens place is read 十 without 一
    (``15`` → 十五, ``100000`` → 十万), so the label depends on the digit's place, not only its
    value.
    """
    digits = str(numerals.check_number(n))
    out = []
    for i, ch in enumerate(digits):
        place = len(digits) - 1 - i  # 0 = ones, 1 = tens, ...
        silent = ch == "0" or (i == 0 and ch == "1" and place % 4 == 1)
        out.append(0 if silent else 1)
    return out


@torch.no_grad()
def _memory(model: Transformer, numbers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's output for each number: (vectors of every real digit (N_digits, d),
    one mean vector per number (N, d))."""
    src = pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD, model.device)
    mask = src != numerals.PAD  # (B, S)
    memory = model.encode(src).double()  # (B, S, d)
    per_digit = memory[mask].cpu().numpy()  # (N_digits, d), digits in reading order
    keep = mask[..., None].double()
    pooled = ((memory * keep).sum(1) / keep.sum(1)).cpu().numpy()  # (B, d)
    return per_digit, pooled


def _least_squares_classifier(x: np.ndarray, y: np.ndarray, classes: int,
                              ridge: float = 1e-3) -> np.ndarray:
    """Weights (d + 1, classes) of a linear classifier fit to one-hot targets (ridge)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    target = np.eye(classes)[y]
    gram = xb.T @ xb + ridge * len(x) * np.eye(xb.shape[1])
    return np.linalg.solve(gram, xb.T @ target)


def _predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (np.hstack([x, np.ones((len(x), 1))]) @ w).argmax(1)


def probe_encoder(model: Transformer, train_numbers: Sequence[int],
                  test_numbers: Sequence[int]) -> dict[str, dict[str, float]]:
    """Linear probes on the frozen encoder: the three kinds of output of chapter 1, measured.

    Introduced in chapter 8. Two linear classifiers are fit by least squares to the trained
    encoder's output on ``train_numbers``: one label per digit vector (:func:`digit_read_labels`)
    and one label per number (the numeral's length, from the mean of its vectors). The third
    kind, a sequence whose length the model decides, is the translation itself. Returns
    ``{task: {"train": accuracy, "test": accuracy, "baseline": accuracy}}`` on ``test_numbers``,
    where the baseline is the best constant answer (the commonest label of the test set);
    ``"translation"`` has the decoder's exact match on ``test_numbers``.
    """
    def labels(numbers):
        read = np.array([b for n in numbers for b in digit_read_labels(n)])
        length = np.array([len(numerals.to_chinese(n)) for n in numbers])
        return read, length

    tr_digit, tr_pool = _memory(model, train_numbers)
    te_digit, te_pool = _memory(model, test_numbers)
    tr_read, tr_len = labels(train_numbers)
    te_read, te_len = labels(test_numbers)
    out = {}
    for task, xtr, ytr, xte, yte, classes in [
        ("digit is read", tr_digit, tr_read, te_digit, te_read, 2),
        ("output length", tr_pool, tr_len, te_pool, te_len, numerals.MAX_TARGET_LEN + 1),
    ]:
        w = _least_squares_classifier(xtr, ytr, classes)
        out[task] = {"train": float((_predict(w, xtr) == ytr).mean()),
                     "test": float((_predict(w, xte) == yte).mean()),
                     "baseline": float(np.bincount(yte).max() / len(yte))}
    correct = [t == numerals.to_chinese(n)
               for n, t in zip(test_numbers, _translate.translate(model, test_numbers),
                               strict=True)]
    out["translation"] = {"test": float(np.mean(correct))}
    return out

"""Tests of attnbook.check: a right answer passes, typical wrong answers fail and say why."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from attnbook import check, relevance, sequences


def test_run_cases_reports_each_outcome():
    cases = [check.Case("doubles 1", (1,), 2), check.Case("doubles 2", (2,), 4),
             check.Case("doubles an array", (np.array([1.0, 2.0]),), np.array([2.0, 4.0]))]
    ok = check.run_cases("double", lambda x: 2 * x, cases)
    assert ok.passed and bool(ok) and ok.n_passed == 3
    assert str(ok) == "double: 3 of 3 cases pass ✓"
    bad = check.run_cases("double", lambda x: x + 1, cases)
    assert not bad.passed and bad.n_passed == 1
    text = str(bad)
    assert text.startswith("double: 1 of 3 cases pass")
    assert "case 1" not in text and "case 3: doubles an array" in text
    assert "expected:" in text and "got:" in text and "off by -1" in text


def test_run_cases_catches_exceptions():
    def broken(x):
        raise NotImplementedError("write me")

    result = check.run_cases("f", broken, [check.Case("one", (1,), 1)])
    assert not result.passed
    assert "raised:\n      NotImplementedError: write me" in str(result)


def test_run_cases_does_not_let_fn_change_the_inputs():
    x = np.array([1.0, 2.0])
    case = check.Case("in place", (x,), np.array([1.0, 2.0]))

    def mutate(arr):
        arr[:] = 0
        return np.array([1.0, 2.0])

    assert check.run_cases("m", mutate, [case]).passed
    np.testing.assert_array_equal(case.args[0], [1.0, 2.0])


def test_run_cases_refuses_a_non_function():
    with pytest.raises(ValueError, match="expected a function to check, got int"):
        check.run_cases("f", 3, [])


@pytest.mark.parametrize(
    ("expected", "got", "problem"),
    [
        (np.zeros(3), np.zeros((1, 3)), r"shape \(1, 3\) instead of \(3,\)"),
        (np.zeros(2), np.array([0.0, np.nan]), "contains NaN"),
        (np.zeros(2), np.array([0.0, 1.0]), r"largest difference 1"),
        (np.zeros(2), "zero", "expected numbers, got str"),
        (5, 5.5, r"off by \+0.5"),
        (5, None, "expected a whole number, got NoneType"),
        (5, True, "expected a whole number, got bool"),
    ],
)
def test_compare_explains_the_difference(expected, got, problem):
    message = check.compare(expected, got)
    assert message is not None
    assert re.search(problem, message), message


def test_compare_accepts_close_values_and_tensors():
    assert check.compare(np.array([1.0, 2.0]), [1.0 + 1e-9, 2.0]) is None
    assert check.compare(np.array([1.0, 2.0]), torch.tensor([1.0, 2.0])) is None
    assert check.compare(7, np.int64(7)) is None


def test_output_is_deterministic_text():
    a = str(check.softmax(lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)))
    b = str(check.softmax(lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)))
    assert a == b and "0x" not in a


def test_softmax_checker():
    assert check.softmax(relevance.softmax).passed
    assert check.softmax(lambda x: torch.softmax(torch.as_tensor(x), -1)).passed
    naive = check.softmax(lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    assert not naive.passed and naive.n_passed == 3 and "contains NaN" in str(naive)
    # Normalizing the whole matrix instead of each row fails the matrix case only.
    whole = check.softmax(lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum())
    assert whole.n_passed == 4 and "case 3" in str(whole)


def test_count_parameters_checker():
    assert check.count_parameters(sequences.fully_connected_window_parameters).passed
    no_bias = check.count_parameters(lambda w, i, o: w * i * o)
    assert no_bias.n_passed == 0 and "off by" in str(no_bias)
    assert not check.count_parameters(lambda w, i, o: i * o + o).passed


def test_one_hot_checker():
    assert check.one_hot(sequences.one_hot).passed
    # Indices instead of vectors: the wrong shape.
    indices = check.one_hot(lambda toks, vocab: np.array([vocab[t] for t in toks]))
    assert indices.n_passed == 0 and "instead of" in str(indices)
    transposed = check.one_hot(lambda toks, vocab: sequences.one_hot(toks, vocab).T)
    assert not transposed.passed


def test_relevance_scores_checker():
    assert check.relevance_scores(lambda q, k: k @ q).passed
    assert check.relevance_scores(relevance.dot_product_relevance).passed
    assert not check.relevance_scores(lambda q, k: np.sum(k * q)).passed  # sums over keys too
    assert not check.relevance_scores(lambda q, k: relevance.softmax(k @ q)).passed


def test_weighted_sum_checker():
    assert check.weighted_sum(lambda a, v: a @ v).passed
    assert check.weighted_sum(relevance.weighted_sum).passed
    assert not check.weighted_sum(lambda a, v: v.mean(axis=0)).passed
    assert not check.weighted_sum(lambda a, v: a[:, None] * v).passed  # forgot to sum


def test_long_inputs_and_many_failures_are_shortened():
    result = check.one_hot(lambda toks, vocab: np.zeros(len(toks)))
    text = str(result)
    assert "case 4: a larger vocabulary" not in text
    assert text.endswith("... and 1 more failing (case 4)")
    big = {f"w{i}": i for i in range(59)}
    text = str(check.run_cases("size", lambda d: 0, [check.Case("big dict", (big,), 59)]))
    assert "{'w0': 0, 'w1': 1, 'w2': 2, ..., 'w57': 57, 'w58': 58, (59 entries)}" in text

"""Tests of attnbook.check: a right answer passes, typical wrong answers fail and say why.

The core (cases, results, comparison) first, then the checkers part by part of the book, as
attnbook.check.self_attention, .transformer and .pretrained_model hold them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attnbook import check, masks, numerals, numpy_ref, positional, pretrained
from attnbook.labs import relevance, sequences
from attnbook.layers import MultiHeadAttention
from attnbook.model import greedy_search, output_tokens


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


def test_long_inputs_and_many_failures_are_shortened():
    result = check.weighted_sum(lambda alpha_prime, v: np.zeros(7))
    text = str(result)
    assert "case 4: more values than dimensions" not in text
    assert text.endswith("... and 1 more failing (case 4)")
    big = {f"w{i}": i for i in range(59)}
    text = str(check.run_cases("size", lambda d: 0, [check.Case("big dict", (big,), 59)]))
    assert "{'w0': 0, 'w1': 1, 'w2': 2, ..., 'w57': 57, 'w58': 58, (59 entries)}" in text


def test_every_checker_keeps_its_name_in_attnbook_check():
    from attnbook.check import pretrained_model, self_attention, transformer

    parts = [self_attention, transformer, pretrained_model]
    checkers = {name for part in parts for name in dir(part)
                if not name.startswith("_") and callable(getattr(part, name))
                and getattr(getattr(part, name), "__module__", "") == part.__name__}
    assert checkers <= set(check.__all__)
    assert len(checkers) == 27  # every exercise of the book has its checker
    for name in check.__all__:
        assert getattr(check, name).__module__.startswith("attnbook.check"), name


# -------------------------------------------------- part 1, self-attention (chapters 1 to 7)


def test_softmax_checker():
    assert check.softmax(numpy_ref.softmax).passed
    assert check.softmax(lambda x: torch.softmax(torch.as_tensor(x), -1)).passed
    naive = check.softmax(lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    assert not naive.passed and naive.n_passed == 3 and "contains NaN" in str(naive)
    # Normalizing the whole matrix instead of each row fails the matrix case only.
    whole = check.softmax(lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum())
    assert whole.n_passed == 4 and "case 3" in str(whole)


def test_break_even_window_checker():
    def counted(d_in, d_out, d_k, d_v):  # the smallest window, found by counting
        attention = sequences.self_attention_parameters(d_in=d_in, d_k=d_k, d_v=d_v)
        window = 1
        while sequences.fully_connected_window_parameters(window, d_in, d_out) <= attention:
            window += 1
        return window

    def solved(d_in, d_out, d_k, d_v):  # the same, from the inequality
        return ((2 * d_k + d_v) * d_in - d_out) // (d_in * d_out) + 1

    assert check.break_even_window(counted).passed
    assert check.break_even_window(solved).passed
    # Where the weights alone are equal: a fraction, and never "more".
    equal = check.break_even_window(lambda i, o, k, v: (2 * k + v) * i / (i * o))
    assert not equal.passed and "case 2" in str(equal) and "case 3" in str(equal)
    # Without the biases a tie is not broken: one word too many.
    no_bias = check.break_even_window(lambda i, o, k, v: (2 * k + v) * i // (i * o) + 1)
    assert not no_bias.passed and "the biases decide" in str(no_bias)


def test_fewest_sentences_checker():
    assert check.fewest_sentences(lambda w, d, length: (w * d + 1) // length + 1).passed
    # Forgetting the bias, or stopping at a tie, fails.
    no_bias = check.fewest_sentences(lambda w, d, length: w * d // length + 1)
    assert not no_bias.passed and "not enough" in str(no_bias)
    tie = check.fewest_sentences(lambda w, d, length: -(-(w * d + 1) // length))
    assert not tie.passed and "off by" in str(tie)


def test_relevance_scores_checker():
    assert check.relevance_scores(lambda q, k: k @ q).passed
    assert check.relevance_scores(relevance.dot_product_relevance).passed
    assert not check.relevance_scores(lambda q, k: np.sum(k * q)).passed  # sums over keys too
    assert not check.relevance_scores(lambda q, k: numpy_ref.softmax(k @ q)).passed


def test_weighted_sum_checker():
    assert check.weighted_sum(lambda a, v: a @ v).passed
    assert check.weighted_sum(relevance.weighted_sum).passed
    assert not check.weighted_sum(lambda a, v: v.mean(axis=0)).passed
    assert not check.weighted_sum(lambda a, v: a[:, None] * v).passed  # forgot to sum


def test_attention_columns_checker():
    assert check.attention_columns(lambda *a: numpy_ref.self_attention(*a)[0]).passed
    unscaled = check.attention_columns(
        lambda x, Wq, Wk, Wv: numpy_ref.self_attention(x, Wq, Wk, Wv, scaled=False)[0])
    assert not unscaled.passed and "divided by 4" in str(unscaled)
    rows = check.attention_columns(  # softmax over the wrong axis
        lambda x, Wq, Wk, Wv: Wv @ x @ torch.softmax(
            torch.from_numpy((Wk @ x).T @ (Wq @ x) / np.sqrt(Wq.shape[0])), dim=1).numpy())
    assert not rows.passed


def test_attention_entropy_checker():
    def entropy(w):
        return -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1)

    assert check.attention_entropy(entropy).passed
    naive = check.attention_entropy(lambda w: -(w * np.log(w)).sum(-1))
    assert not naive.passed and naive.n_passed == 3 and "NaN" in str(naive)
    base2 = check.attention_entropy(lambda w: entropy(w) / np.log(2))
    assert not base2.passed


def test_split_heads_checker():
    def right(x, h):
        B, L, d = x.shape
        return x.reshape(B, L, h, d // h).transpose(0, 2, 1, 3)

    assert check.split_heads(right).passed
    assert check.split_heads(lambda x, h: MultiHeadAttention(x.shape[-1], h).split_heads(
        torch.from_numpy(x))).passed
    wrong = check.split_heads(lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1))
    assert not wrong.passed and wrong.n_passed == 1  # only the one-head case


def test_multi_head_parameters_checker():
    assert check.multi_head_parameters(lambda d, h, bias: 4 * d * d + (4 * d if bias else 0))
    no_wo = check.multi_head_parameters(lambda d, h, bias: 3 * d * d + (3 * d if bias else 0))
    assert not no_wo.passed and "off by" in str(no_wo)
    per_head = check.multi_head_parameters(lambda d, h, bias: h * (4 * d * d))
    assert not per_head.passed


def test_sinusoidal_table_checker():
    assert check.sinusoidal_table(lambda n, d: positional.sinusoidal_encoding(n, d)).passed
    swapped = check.sinusoidal_table(
        lambda n, d: positional.sinusoidal_encoding(n, d)[:, [1, 0] * (d // 2)])
    assert not swapped.passed


def test_rope_rotate_checker():
    assert check.rope_rotate(
        lambda x: positional.RotaryEmbedding(x.shape[-1])(torch.from_numpy(x))).passed
    unrotated = check.rope_rotate(lambda x: x)
    assert not unrotated.passed and unrotated.n_passed == 1  # position 0 is not rotated


def test_receptive_field_checker():
    def right(n, kernel_size, num_layers):
        return masks.window_mask(n, num_layers * (kernel_size // 2)).numpy()

    def wrong(n, kernel_size, num_layers):
        return masks.window_mask(n, kernel_size // 2).numpy()  # forgets the layers

    assert check.receptive_field(right).passed
    result = check.receptive_field(wrong)
    assert not result.passed and "two layers" in str(result)


def test_conv1d_as_attention_checker():
    def conv(x, weight, bias, padding):
        out = F.conv1d(torch.from_numpy(x.T)[None], torch.from_numpy(weight),
                       torch.from_numpy(bias), padding=padding)
        return out[0].T  # (L, d_out)

    assert check.conv1d_as_attention(lambda x, w, b: conv(x, w, b, w.shape[-1] // 2)).passed
    no_padding = check.conv1d_as_attention(lambda x, w, b: conv(x, w, b, 0))
    assert no_padding.n_passed == 1  # only kernel 1 needs no padding


def test_online_softmax_checker():
    def right(scores, block_size):
        m, total = -np.inf, 0.0
        for j in range(0, len(scores), block_size):
            s = scores[j:j + block_size]
            m_new = max(m, s.max())
            if m_new == -np.inf:
                continue
            total = total * np.exp(m - m_new) + np.exp(s - m_new).sum()
            m = m_new
        return np.exp(scores - m) / total

    def naive(scores, block_size):
        e = np.exp(scores)
        return e / e.sum()

    assert check.online_softmax(right).passed
    assert not check.online_softmax(naive).passed


def test_linear_attention_checker():
    def right(q, k, v):
        phi_q, phi_k = np.where(q > 0, q + 1, np.exp(q)), np.where(k > 0, k + 1, np.exp(k))
        return (phi_q @ (phi_k.T @ v)) / (phi_q @ phi_k.sum(0))[:, None]

    def softmax_attention(q, k, v):
        return numpy_ref.softmax(q @ k.T / np.sqrt(q.shape[-1])) @ v

    assert check.linear_attention(right).passed
    assert not check.linear_attention(softmax_attention).passed


# ----------------------------------------------- part 2, the Transformer (chapters 8 to 12)


def _layer_norm(x, gamma, beta, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma + beta


def _block(x, sa, ff, n1, n2, norm_first):
    if norm_first:
        x = x + sa(n1(x))
        return x + ff(n2(x))
    x = n1(x + sa(x))
    return n2(x + ff(x))


def _multilabel_target(labels, vocab):
    return [vocab.index(x) for x in vocab if x in labels] + [vocab.index("END")]


def _sequence_cross_entropy(logits, labels, pad_id):
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=pad_id)


@pytest.mark.parametrize("checker, right, wrong", [
    (check.chinese_numeral, numerals.to_chinese, lambda n: str(n)),
    (check.multilabel_target, _multilabel_target,
     lambda labels, vocab: [vocab.index(x) for x in labels]),
    (check.layer_norm, _layer_norm,
     lambda x, g, b, eps=1e-5: (x - x.mean(-1, keepdims=True)) / x.std(-1, ddof=1,
                                                                         keepdims=True)),
    (check.encoder_block, _block, lambda x, sa, ff, n1, n2, nf: n2(ff(n1(sa(x))))),
    (check.shift_right, lambda t: ([numerals.BEGIN, *t], [*t, numerals.END]),
     lambda t: ([numerals.BEGIN, *t], list(t))),
    (check.sequence_cross_entropy, _sequence_cross_entropy,
     lambda lo, la, p: F.cross_entropy(lo.flatten(0, 1), la.flatten())),
])
def test_checkers_pass_the_right_answer_and_fail_a_wrong_one(checker, right, wrong):
    assert checker(right).passed
    result = checker(wrong)
    assert not result.passed
    assert "✗" in str(result)


def test_encoder_block_checker_names_both_orders():
    post_only = check.encoder_block(lambda x, sa, ff, n1, n2, nf: _block(x, sa, ff, n1, n2,
                                                                          False))
    assert 0 < post_only.n_passed < len(post_only.results)
    assert "pre-LN" in str(post_only)


def test_chinese_numeral_checker_says_what_is_wrong():
    text = str(check.chinese_numeral(lambda n: 0))
    assert "expected a str, got int" in text


def test_causal_mask_checker():
    assert check.causal_mask(lambda n: torch.ones(n, n, dtype=torch.bool).tril()).passed
    assert check.causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool))).passed
    blocked = check.causal_mask(lambda n: torch.ones(n, n, dtype=torch.bool).triu(1))
    assert not blocked.passed and "opposite convention" in str(blocked)
    floats = check.causal_mask(lambda n: np.tril(np.ones((n, n))))
    assert not floats.passed and "must be bool" in str(floats)


def test_greedy_decode_checker():
    def right(next_distribution, begin, end, max_len):
        out = [begin]
        for _ in range(max_len):
            choice = int(np.argmax(next_distribution(out)))
            if choice == end:
                break
            out.append(choice)
        return out[1:]

    assert check.greedy_decode(right).passed
    # The book's own greedy decoder, given the distribution of each prefix, is right too.
    assert check.greedy_decode(lambda dist, begin, end, max_len: output_tokens(greedy_search(
        lambda ys: dist(ys[0].tolist()), begin, end, max_len), end)[0]).passed

    def keeps_end(next_distribution, begin, end, max_len):
        out = [begin]
        for _ in range(max_len):
            out.append(int(np.argmax(next_distribution(out))))
            if out[-1] == end:
                break
        return out[1:]

    result = check.greedy_decode(keeps_end)
    assert not result.passed and "BEGIN and END are not part" in str(result)

    def ignores_its_choices(next_distribution, begin, end, max_len):
        out = []
        for _ in range(max_len):  # always reads [BEGIN] only: never feeds back
            choice = int(np.argmax(next_distribution([begin] + [0] * len(out))))
            if choice == end:
                break
            out.append(choice)
        return out

    assert not check.greedy_decode(ignores_its_choices).passed
    assert "0x" not in str(check.greedy_decode(lambda *a: 1 / 0))  # deterministic text


def test_cross_attention_checker():
    def right(y, memory, W_q, W_k, W_v):
        q, k, v = y @ W_q, memory @ W_k, memory @ W_v
        s = q @ k.T / np.sqrt(k.shape[1])
        w = np.exp(s - s.max(1, keepdims=True))
        return (w / w.sum(1, keepdims=True)) @ v

    def self_attention(y, memory, W_q, W_k, W_v):  # keys and values from the decoder: wrong
        return right(y, y, W_q, W_k, W_v)

    assert check.cross_attention(right).passed
    assert not check.cross_attention(self_attention).passed


def test_cross_attention_mask_checker():
    def right(lengths, tgt_len, src_len):
        real = torch.arange(src_len)[None, :] < torch.tensor(lengths)[:, None]  # (B, S)
        return real[:, None, :].expand(len(lengths), tgt_len, src_len)

    assert check.cross_attention_mask(right).passed
    assert check.cross_attention_mask(lambda *a: right(*a).tolist()).passed  # lists of bools
    assert not check.cross_attention_mask(lambda *a: ~right(*a)).passed
    floats = check.cross_attention_mask(lambda *a: right(*a).float())
    assert not floats.passed and "must be bool" in str(floats)


# ------------------------------------------------------ part 3, beyond the notes (chapter 13)


def test_mean_attention_distance_checker():
    assert check.mean_attention_distance(pretrained.mean_attention_distance).passed
    wrong = check.mean_attention_distance(lambda w: (w * np.arange(w.shape[-1])).sum(-1).mean(-1))
    assert not wrong.passed and "distance 0" not in str(wrong).split("✗")[0]


def test_mean_pool_checker():
    assert check.mean_pool(pretrained.mean_pool).passed
    naive = check.mean_pool(lambda h, m: F.normalize(h.mean(1), dim=-1))
    assert not naive.passed and "[PAD]" in str(naive)

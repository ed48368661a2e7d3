"""Tests of attnbook.labs.cnn_vs_attention and rnn_vs_attention (chapter 6), the chapter 6
and 7 exercise checkers, the plots of attnbook.figures.plots, and the MemoryView widget's Python
side."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from attnbook import measure  # noqa: E402
from attnbook.labs import cnn_vs_attention as C  # noqa: E402
from attnbook.labs import rnn_vs_attention  # noqa: E402
from attnbook.masks import window_mask  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ conv = attention


@pytest.mark.parametrize("kernel,layers", [(1, 1), (3, 1), (3, 2), (5, 1), (5, 3)])
def test_conv_receptive_field_is_a_window_mask(kernel, layers):
    n = 14
    field = C.conv_receptive_field(n, kernel, layers)
    assert torch.equal(field, window_mask(n, layers * (kernel // 2)))


def test_influence_mask_of_self_attention_and_an_rnn():
    from attnbook.layers import MultiHeadAttention

    torch.manual_seed(0)
    attn = MultiHeadAttention(4, 2).double()
    assert C.influence_mask(lambda x: attn(x, x, x)[0], 6, 4).all()  # everything sees all
    rnn = torch.nn.RNN(4, 4, batch_first=True).double()
    assert torch.equal(C.influence_mask(lambda x: rnn(x)[0], 6, 4),
                       torch.ones(6, 6, dtype=torch.bool).tril())  # the past only


def test_conv_receptive_field_rejects_even_kernels():
    with pytest.raises(ValueError, match="odd"):
        C.conv_receptive_field(5, 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
def test_relative_position_attention_reproduces_a_conv1d(kernel, dtype):
    torch.manual_seed(kernel)
    conv = torch.nn.Conv1d(3, 5, kernel, padding=kernel // 2).to(dtype)
    layer = C.RelativePositionSelfAttention.from_conv1d(conv)
    x = torch.randn(2, 9, 3, dtype=dtype)
    expected = conv(x.transpose(1, 2)).transpose(1, 2)
    out, weights = layer(x)
    atol = 1e-12 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(out, expected, rtol=0, atol=atol)
    # Each head puts all its weight on one relative position: exactly 0 and 1.
    assert weights.shape == (2, kernel, 9, 9 + 2 * (kernel // 2))
    p = kernel // 2
    for h in range(kernel):
        one_hot = C.shift_weights(9, h - p, p).to(dtype)
        assert torch.allclose(weights[0, h], one_hot, atol=1e-30)


def test_relative_position_attention_without_bias_and_with_content_terms():
    conv = torch.nn.Conv1d(2, 2, 3, padding=1, bias=False).double()
    layer = C.RelativePositionSelfAttention.from_conv1d(conv, alpha=5.0)
    x = torch.randn(1, 6, 2, dtype=torch.float64)
    out, weights = layer(x)
    # A small alpha gives soft weights: close to the convolution, but not equal.
    assert not torch.allclose(out, conv(x.transpose(1, 2)).transpose(1, 2), atol=1e-6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 3, 6, dtype=torch.float64))
    # The layer trains like any other: gradients reach the position queries.
    out.sum().backward()
    assert layer.position_query.grad is not None


def test_from_conv1d_rejects_what_it_cannot_copy():
    with pytest.raises(ValueError, match="stride"):
        C.RelativePositionSelfAttention.from_conv1d(torch.nn.Conv1d(2, 2, 3, padding=1,
                                                                    stride=2))
    with pytest.raises(ValueError, match="same"):
        C.RelativePositionSelfAttention.from_conv1d(torch.nn.Conv1d(2, 2, 3, padding=0))


def test_conv1d_as_attention_equals_conv1d():
    torch.manual_seed(1)
    conv = torch.nn.Conv1d(3, 4, 5, padding=2).double()
    x = torch.randn(8, 3, dtype=torch.float64)
    expected = conv(x.T[None])[0].T
    torch.testing.assert_close(C.conv1d_as_attention(x, conv.weight, conv.bias), expected)


def test_shift_weights_rows():
    w = C.shift_weights(4, 1, padding=1)  # column c is token c - 1
    assert w.shape == (4, 6)
    assert w.sum(-1).tolist() == [1, 1, 1, 1]
    assert w[3, 5] == 1  # token 4 is padding: the last query looks at a zero token


# ------------------------------------------------------------------------------ digits


def test_digits_split_and_subsets():
    X, y, Xt, yt = C.digits_split()
    assert X.shape[1:] == (1, 8, 8) and len(X) + len(Xt) == 1797 and len(Xt) == 497
    assert 0 <= X.min() and X.max() <= 1
    assert torch.bincount(yt).min() >= 45  # stratified: every digit in the test set
    small, large = C.stratified_subset(y, 30, seed=0), C.stratified_subset(y, 100, seed=0)
    assert torch.bincount(y[small]).tolist() == [3] * 10
    assert set(small.tolist()) <= set(large.tolist())  # nested
    assert not torch.equal(small, C.stratified_subset(y, 30, seed=1))
    with pytest.raises(ValueError):
        C.stratified_subset(y, 0)


def test_vit_patches_are_in_reading_order():
    vit = C.SmallViT(patch=2)
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    p = vit.patches(x)
    assert p.shape == (1, 16, 4)
    assert p[0, 0].tolist() == [0, 1, 8, 9] and p[0, 1].tolist() == [2, 3, 10, 11]
    assert p[0, 4].tolist() == [16, 17, 24, 25]


def test_both_models_learn_the_digits_quickly():
    X, y, Xt, yt = C.digits_split()
    idx = C.stratified_subset(y, 300)
    config = replace(C.CLASSIFIER_TRAINING, steps=120)
    for build in (C.SmallCNN, C.SmallViT):
        torch.manual_seed(0)
        model = C.train_classifier(build(), X[idx], y[idx], config)
        assert C.accuracy(model, Xt, yt) > 0.5, build.__name__


def test_training_is_deterministic():
    X, y, *_ = C.digits_split()
    idx = C.stratified_subset(y, 40)
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = C.train_classifier(C.SmallCNN(), X[idx], y[idx],
                                   replace(C.CLASSIFIER_TRAINING, steps=5))
        outs.append(model(X[:5]).detach())
    assert torch.equal(outs[0], outs[1])


def test_data_size_sweep_shape():
    r = C.data_size_sweep([20, 40], seeds=(0, 1), config=replace(C.CLASSIFIER_TRAINING, steps=3))
    assert r["sizes"] == [20, 40] and r["seeds"] == [0, 1] and r["test_size"] == 497
    for name in ("CNN", "ViT"):
        acc = np.array(r["accuracy"][name])
        assert acc.shape == (2, 2) and ((0 <= acc) & (acc <= 1)).all()
        assert r["parameters"][name] > 1000


# ------------------------------------------------------------------------------ near/far task


def test_near_far_task_labels_and_marks():
    X, y, is_far = C.near_far_task(400, seed=3)
    assert X.shape == (400, 32, 4) and y.shape == is_far.shape == (400,)
    bits = X[..., 1].long()  # feature 1: the bit is 1
    assert torch.equal(X[..., :2].sum(-1), torch.ones(400, 32))  # one-hot bits
    marks = X[..., 2:]
    assert torch.equal(marks.sum(dim=(1, 2)), torch.ones(400))  # one mark per example
    p = marks.sum(-1).argmax(dim=1)
    assert torch.equal(marks[torch.arange(400), p, 1].bool(), is_far)
    partner = p + torch.where(is_far, 16, 1)
    rows = torch.arange(400)
    assert torch.equal((bits[rows, p] == bits[rows, partner]).long(), y)
    assert 0.4 < y.float().mean() < 0.6 and 0.4 < is_far.float().mean() < 0.6


def test_near_far_task_is_deterministic_and_nested():
    big, small = C.near_far_task(300, seed=1), C.near_far_task(50, seed=1)
    for a, b in zip(big, small, strict=True):
        assert torch.equal(a[:50], b)
    assert not torch.equal(C.near_far_task(50, seed=2)[0], small[0])
    with pytest.raises(ValueError):
        C.near_far_task(10, near=4, far=2)


def _flip(X: torch.Tensor, b: int, pos: int) -> torch.Tensor:
    out = X.clone()
    out[b, pos, :2] = out[b, pos, :2].flip(0)
    return out


def test_window_cnn_cannot_see_the_far_bit_and_attention_can():
    X, _, is_far = C.near_far_task(64, seed=0)
    b = int(torch.nonzero(is_far)[0])
    p = int(X[b, :, 2:].sum(-1).argmax())
    torch.manual_seed(0)
    cnn, attention = C.WindowCNN(), C.SmallSelfAttention()
    with torch.no_grad():
        assert cnn(X).shape == attention(X).shape == (64, 2)
        # The CNN's receptive field reaches 2 positions: bit p + 16 cannot move its answer,
        # bit p + 1 can; a self-attention layer depends on every bit.
        assert torch.equal(cnn(_flip(X, b, p + 16))[b], cnn(X)[b])
        assert not torch.equal(cnn(_flip(X, b, p + 1))[b], cnn(X)[b])
        assert not torch.equal(attention(_flip(X, b, p + 16))[b], attention(X)[b])


def test_crossover_sweep_shape():
    r = C.crossover_sweep([20, 40], seeds=(0, 1), test_size=100,
                          config=replace(C.CROSSOVER_TRAINING, steps=3))
    assert r["sizes"] == [20, 40] and r["seeds"] == [0, 1] and r["test_size"] == 100
    for key in ("accuracy", "near", "far"):
        for name in ("CNN", "attention"):
            acc = np.array(r[key][name])
            assert acc.shape == (2, 2) and ((0 <= acc) & (acc <= 1)).all()
    assert r["parameters"]["attention"] > r["parameters"]["CNN"] > 1000


# ------------------------------------------------------------------------------ RNN vs attention


def test_time_rnn_and_attention_returns_positive_times():
    t = rnn_vs_attention.time_rnn_and_attention([8, 16], d_model=8, batch=2, repeats=1)
    assert t["lengths"] == [8, 16]
    assert all(s > 0 for s in t["rnn"] + t["attention"])


def test_gradient_by_distance_decays_through_an_rnn_only():
    rnn = rnn_vs_attention.gradient_by_distance("rnn", n=32)
    attn = rnn_vs_attention.gradient_by_distance("attention", n=32)
    assert rnn.shape == attn.shape == (32,)
    # Through the RNN the first input's influence on the last output has all but vanished;
    # through attention it is of the same order as the nearest input's.
    assert rnn[0] / rnn[-1] < 1e-4
    assert attn[0] / attn[-1] > 0.1
    with pytest.raises(ValueError):
        rnn_vs_attention.gradient_by_distance("cnn")


def test_load_sweep(tmp_path):
    assert measure.load_sweep("data_size")["sizes"][0] == 25  # from the installed package
    assert measure.load_sweep("data_size", ROOT / "src" / "attnbook" / "data" / "measurements") == \
        measure.load_sweep("data_size")
    assert measure.load_sweep("nothing", tmp_path) is None


def test_num_threads_restores():
    before = torch.get_num_threads()
    with measure.num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_crossover_plot_draws_two_panels():
    from attnbook.figures.plots import crossover_plot

    acc = {"CNN": np.full((3, 2), 0.7), "attention": np.array([[0.5] * 2, [0.8] * 2, [1.0] * 2])}
    fig = crossover_plot([10, 100, 1000], acc, acc, acc, live={"CNN": ([100], [0.7])})
    left, right = fig.axes
    assert left.get_xscale() == "log" and len(right.get_lines()) >= 4

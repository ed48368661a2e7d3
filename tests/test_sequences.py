"""Tests of attnbook.labs.sequences (chapter 1): sentences and sounds as sequences of vectors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnbook.labs import sequences as S


def test_tokenize_lowercases_and_drops_punctuation():
    assert S.tokenize("The cat, sat!") == ["the", "cat", "sat"]


def test_tokenize_rejects_non_strings():
    with pytest.raises(ValueError, match="expects a string, got list"):
        S.tokenize(["the", "cat"])


def test_build_vocab_is_sorted_and_deterministic():
    vocab = S.build_vocab(["b a", ["c", "a"]])
    assert vocab == {"a": 0, "b": 1, "c": 2}


def test_build_vocab_refuses_empty():
    with pytest.raises(ValueError, match="no words"):
        S.build_vocab([""])


def test_one_hot_rows_pick_the_word():
    vocab = S.build_vocab(["the cat sat"])
    x = S.one_hot(["sat", "the", "sat"], vocab)
    assert x.shape == (3, 3)
    np.testing.assert_array_equal(x.sum(axis=1), 1.0)
    np.testing.assert_array_equal(x.argmax(axis=1), [vocab["sat"], vocab["the"], vocab["sat"]])


def test_one_hot_names_unknown_tokens():
    vocab = S.build_vocab(["the cat"])
    message = r"1 token\(s\) not in the vocabulary of 2 words: \['dog'\]"
    with pytest.raises(ValueError, match=message):
        S.one_hot(["the", "dog"], vocab)


def test_one_hot_rejects_a_string():
    with pytest.raises(ValueError, match="not one string"):
        S.one_hot("the cat", {"the": 0})


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["the", "cat", "sat", "on", "mat"]), min_size=1, max_size=20))
def test_sentence_length_is_sequence_length(tokens):
    vocab = S.build_vocab([["the", "cat", "sat", "on", "mat"]])
    assert S.one_hot(tokens, vocab).shape == (len(tokens), len(vocab))


def test_embed_equals_one_hot_times_table():
    vocab, table = S.ppmi_svd_embeddings(S.TINY_CORPUS, dim=6)
    tokens = S.tokenize("the dog ate the fish")
    np.testing.assert_allclose(S.embed(tokens, vocab, table), S.one_hot(tokens, vocab) @ table)


def test_embed_checks_the_table_shape():
    vocab = S.build_vocab(["a b c"])
    with pytest.raises(ValueError, match=r"shape \(2, 4\); expected \(3, dim\)"):
        S.embed(["a"], vocab, np.zeros((2, 4)))


def test_ppmi_embeddings_are_unit_length_and_meaningful():
    vocab, table = S.ppmi_svd_embeddings(S.TINY_CORPUS, dim=8)
    assert table.shape == (len(vocab), 8)
    np.testing.assert_allclose(np.linalg.norm(table, axis=1), 1.0)
    cos = table @ table.T
    # Words of the same topic are closer than words of different topics.
    assert cos[vocab["cat"], vocab["dog"]] > cos[vocab["cat"], vocab["rain"]]
    assert cos[vocab["train"], vocab["bus"]] > cos[vocab["train"], vocab["cheese"]]


def test_ppmi_embeddings_are_deterministic():
    _, t1 = S.ppmi_svd_embeddings(S.TINY_CORPUS, dim=5)
    _, t2 = S.ppmi_svd_embeddings(list(S.TINY_CORPUS), dim=5)
    np.testing.assert_array_equal(t1, t2)


def test_ppmi_embeddings_reject_too_many_dims():
    with pytest.raises(ValueError, match=r"dim=10 is larger than the vocabulary \(3 words\)"):
        S.ppmi_svd_embeddings(["a b c"], dim=10)


def test_audio_frames_count_and_content():
    sr = 16_000
    signal = np.arange(sr, dtype=float)  # one second
    frames = S.audio_frames(signal, sr)  # 25 ms = 400 samples, 10 ms = 160 samples
    assert frames.shape == (1 + (sr - 400) // 160, 400)
    np.testing.assert_array_equal(frames[1], signal[160:560])


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0.03, max_value=2.0), st.floats(min_value=0.03, max_value=2.0))
def test_a_longer_sound_has_at_least_as_many_frames(d1, d2):
    short, long_ = sorted([d1, d2])
    n_short = S.audio_frames(S.synthesize_sound(short), 16_000).shape[0]
    n_long = S.audio_frames(S.synthesize_sound(long_), 16_000).shape[0]
    assert n_short <= n_long


def test_audio_frames_errors_name_the_numbers():
    with pytest.raises(ValueError, match=r"100 samples, fewer than one window of 400 samples"):
        S.audio_frames(np.zeros(100), 16_000)
    with pytest.raises(ValueError, match=r"must be 1-D"):
        S.audio_frames(np.zeros((2, 500)), 16_000)
    with pytest.raises(ValueError, match=r"hop of 0 samples"):
        S.audio_frames(np.zeros(1000), 16_000, hop_ms=0.01)


def test_synthesize_sound_is_deterministic_and_sized():
    a, b = S.synthesize_sound(0.5, seed=1), S.synthesize_sound(0.5, seed=1)
    assert a.shape == (8000,)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="duration_s=0 must be positive"):
        S.synthesize_sound(0)


def test_log_spectrum_features_shape_and_finiteness():
    frames = S.audio_frames(S.synthesize_sound(0.3), 16_000)
    feats = S.log_spectrum_features(frames, n_bands=40)
    assert feats.shape == (frames.shape[0], 40)
    assert np.isfinite(S.log_spectrum_features(np.zeros((2, 400)))).all()  # silence stays finite
    with pytest.raises(ValueError, match="n_bands=500 must be between 1 and 201"):
        S.log_spectrum_features(frames, n_bands=500)


def test_visibility_matrix():
    m = S.visibility_matrix(5, 3)
    np.testing.assert_array_equal(m.sum(axis=1), [2, 3, 3, 3, 2])
    np.testing.assert_array_equal(S.visibility_matrix(4, None), np.ones((4, 4)))
    with pytest.raises(ValueError, match="window=4 must be a positive odd number"):
        S.visibility_matrix(5, 4)


def test_sliding_windows_match_the_mask():
    x = np.arange(12, dtype=float).reshape(4, 3)  # (L=4, d=3)
    w = S.sliding_windows(x, 3)
    assert w.shape == (4, 9)
    np.testing.assert_array_equal(w[0], [0, 0, 0, 0, 1, 2, 3, 4, 5])  # left end zero-padded
    np.testing.assert_array_equal(w[2], x[1:4].ravel())
    with pytest.raises(ValueError, match="must be 2-D"):
        S.sliding_windows(np.zeros(3), 3)


def test_fully_connected_window_parameters():
    assert S.fully_connected_window_parameters(3, 4, 5) == 3 * 4 * 5 + 5
    assert S.fully_connected_window_parameters(3, 4, 5, bias=False) == 60
    with pytest.raises(ValueError, match="window=0 must be a positive integer"):
        S.fully_connected_window_parameters(0, 4, 5)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 200), st.integers(1, 64), st.integers(1, 64))
def test_fc_parameters_grow_with_the_window_and_attention_does_not(window, d_in, d_out):
    fc = S.fully_connected_window_parameters
    assert fc(window + 1, d_in, d_out) - fc(window, d_in, d_out) == d_in * d_out
    # Self-attention's count has no length in it at all.
    assert S.self_attention_parameters(d_in, d_out) == 3 * d_in * d_out


def test_fc_parameters_match_a_torch_linear_layer():
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(7 * 16, 8)
    assert sum(p.numel() for p in layer.parameters()) == S.fully_connected_window_parameters(
        7, 16, 8)


def test_self_attention_parameters_with_bias_and_dv():
    assert S.self_attention_parameters(4, 2, 3) == 2 * 2 * 4 + 3 * 4
    assert S.self_attention_parameters(4, 2, 3, bias=True) == 2 * 2 * 4 + 3 * 4 + 7
    with pytest.raises(ValueError, match="d_k=0 must be a positive integer"):
        S.self_attention_parameters(4, 0)

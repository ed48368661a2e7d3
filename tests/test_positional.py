"""attnbook.positional: the sinusoidal table, learned encodings and RoPE's relative property."""

from __future__ import annotations

import math

import pytest
import torch

from attnbook.positional import (
    LearnedPositionalEncoding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    sinusoidal_encoding,
)


def test_sinusoidal_table_follows_the_formula():
    table = sinusoidal_encoding(50, 16)
    assert table.shape == (50, 16)
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert table[0, 0::2].abs().max() == 0 and (table[0, 1::2] == 1).all()


def test_sinusoidal_dot_product_depends_on_the_distance_only():
    table = sinusoidal_encoding(64, 32)
    d1 = table[10] @ table[15]
    d2 = table[40] @ table[45]
    assert d1.item() == pytest.approx(d2.item(), abs=1e-4)


def test_modules_add_to_the_input_and_check_the_length():
    x = torch.zeros(2, 5, 8)
    torch.testing.assert_close(SinusoidalPositionalEncoding(8, 10)(x)[0],
                               sinusoidal_encoding(10, 8)[:5])
    learned = LearnedPositionalEncoding(8, 10)
    out = learned(x, offset=3)
    torch.testing.assert_close(out[1], learned.embedding.weight[3:8])
    with pytest.raises(ValueError, match="at most 10 positions, got a sequence of 12"):
        SinusoidalPositionalEncoding(8, 10)(torch.zeros(1, 12, 8))
    with pytest.raises(ValueError, match="even d_model"):
        sinusoidal_encoding(10, 7)


def test_rope_score_depends_only_on_the_offset():
    rope = RotaryEmbedding(8)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(8, generator=g), torch.randn(8, generator=g)
    seq_q = q.expand(30, 8)  # the same query and key at every position
    seq_k = k.expand(30, 8)
    rq, rk = rope(seq_q), rope(seq_k)
    scores = rq @ rk.T  # (30, 30): score of query at m with key at n
    for offset in (-5, 0, 3, 11):
        diagonal = torch.diagonal(scores, offset=offset)
        assert diagonal.std() < 1e-5, f"offset {offset} gives different scores"
    torch.testing.assert_close(rope(seq_q)[0], q)  # position 0 is not rotated
    torch.testing.assert_close(rq.norm(dim=-1), seq_q.norm(dim=-1))  # rotations keep lengths
    with pytest.raises(ValueError, match="d_head=7 must be even"):
        RotaryEmbedding(7)

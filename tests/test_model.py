"""Tests of attnbook.model (chapters 8–12): the Transformer, decoding, beam search, NAT, saving."""

from __future__ import annotations

import math

import pytest
import torch

from attnbook import numerals
from attnbook.layers import keep_weights
from attnbook.model import (
    NATransformer,
    Transformer,
    TransformerConfig,
    beam_search,
    greedy_search,
    load_model,
    output_tokens,
    pad_batch,
    save_model,
)
from attnbook.translate import load_book_model


def small_config(**overrides) -> TransformerConfig:
    fields = dict(src_vocab_size=14, tgt_vocab_size=18, d_model=32, num_heads=4,
                  num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64, dropout=0.0,
                  max_len=20, max_target_len=12)
    fields.update(overrides)
    return TransformerConfig(**fields)


def small_model(seed=0, cls=Transformer, **overrides):
    torch.manual_seed(seed)
    return cls(small_config(**overrides)).eval()


def random_ids(B, L, low=4, high=14, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(low, high, (B, L), generator=g)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def book_at():
    return load_book_model("at")


# ------------------------------------------------------------------------------------ config


@pytest.mark.parametrize(("field", "value", "message"), [
    ("d_model", 30, "not divisible by num_heads"),
    ("d_model", 0, "d_model must be a positive integer"),
    ("num_heads", -1, "num_heads must be a positive integer"),
    ("num_encoder_layers", 1.5, "num_encoder_layers must be a positive integer"),
    ("dropout", 1.0, r"dropout must be in \[0, 1\)"),
    ("activation", "tanh", "activation must be 'relu' or 'gelu'"),
    ("positional", "rope", "positional must be 'sinusoidal' or 'learned'"),
    ("norm_first", "yes", "norm_first must be True or False"),
    ("eos_id", 18, "eos_id=18 is not a token of the target vocabulary"),
    ("bos_id", 0, "different ids"),
    ("max_target_len", 19, "does not fit max_len=20"),
    ("src_vocab_size", True, "src_vocab_size must be a positive integer"),
])
def test_config_errors_name_the_bad_value(field, value, message):
    with pytest.raises(ValueError, match=message):
        small_config(**{field: value})


def test_config_round_trips_through_a_dict():
    c = small_config(positional="learned", norm_first=True)
    assert TransformerConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown TransformerConfig fields"):
        TransformerConfig.from_dict({**c.to_dict(), "colour": "red"})


# ------------------------------------------------------------------------- shapes and masks


@pytest.mark.parametrize("overrides", [{}, {"positional": "learned"},
                                       {"norm_first": True, "activation": "gelu"}])
def test_shapes(overrides):
    m = small_model(**overrides)
    src, tgt = random_ids(3, 5), random_ids(3, 7, high=18)
    assert m.encode(src).shape == (3, 5, 32)
    assert m(src, tgt).shape == (3, 7, 18)
    assert m.loss(src, tgt).shape == ()


def test_bad_inputs_are_refused():
    m = small_model()
    with pytest.raises(ValueError, match="LongTensor"):
        m.encode(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="outside 0..13"):
        m.encode(torch.full((1, 3), 14))
    with pytest.raises(ValueError, match="max_len=20"):
        m.encode(random_ids(1, 21))


def test_output_at_t_does_not_see_later_target_tokens():
    m = small_model()
    src, tgt = random_ids(2, 5), random_ids(2, 8, high=18, seed=1)
    changed = tgt.clone()
    changed[:, 5:] = random_ids(2, 3, high=18, seed=2)
    a, b = m(src, tgt), m(src, changed)
    torch.testing.assert_close(a[:, :5], b[:, :5])
    assert not torch.allclose(a[:, 5:], b[:, 5:])


@pytest.mark.parametrize("cls", [Transformer, NATransformer])
def test_source_padding_changes_nothing(cls):
    m = small_model(cls=cls)
    short = random_ids(1, 3)
    padded = torch.cat([short, torch.zeros(1, 4, dtype=torch.long)], dim=1)  # PAD = 0
    tgt = random_ids(1, 6, high=18, seed=3)
    alone = m.decode(tgt, m.encode(short))
    mem = m.encode(padded)
    torch.testing.assert_close(mem[:, :3], m.encode(short))
    torch.testing.assert_close(m.decode(tgt, mem, m.src_padding_mask(padded)), alone)


def test_attention_weights_ignore_padding_and_the_future():
    m = small_model()
    src = torch.tensor([[5, 6, 7, 0, 0]])
    with keep_weights(m) as attns:
        m(src, random_ids(1, 6, high=18))
    w = dict(attns)
    enc = w["encoder.0.self_attn"].weights  # (1, h, 5, 5)
    assert enc[..., 3:].abs().max() == 0
    dec = w["decoder.1.self_attn"].weights  # (1, h, 6, 6)
    assert torch.all(dec.triu(1) == 0)
    cross = w["decoder.0.cross_attn"].weights  # (1, h, 6, 5)
    assert cross.shape == (1, 4, 6, 5) and cross[..., 3:].abs().max() == 0


# ------------------------------------------------------------------------------------ decoding


def test_greedy_decoding_is_batched_and_agrees_one_by_one():
    m = small_model(seed=1)
    seqs = [[5, 6], [7, 8, 9, 10, 11], [12]]
    batch = m.greedy_decode(pad_batch(seqs), max_len=8)
    assert batch == [m.greedy_decode([s], max_len=8)[0] for s in seqs]
    for out in batch:
        assert len(out) <= 8 and all(t not in (0, 2) for t in out)


def test_greedy_steps_are_distributions_that_match_the_choices():
    m = small_model(seed=2)
    tokens, probs = m.greedy_decode([[5, 6, 7], [8]], max_len=6, return_steps=True)
    assert probs.shape[0] == 2 and probs.shape[2] == 18 and probs.shape[1] <= 6
    torch.testing.assert_close(probs.sum(-1), torch.ones(probs.shape[:2]))
    for b, toks in enumerate(tokens):
        # the most probable token at each step, PAD (id 0) excepted: decoding never picks it
        assert (probs[b, :len(toks), 1:].argmax(-1) + 1).tolist() == toks


def _book_sources(numbers):
    return [numerals.source_ids(n) for n in numbers]


NUMBERS = [0, 7, 10, 19, 110, 1005, 2026, 30303, 100010, 999999, 470031, 808080]


def test_book_model_greedy_equals_beam_of_one(book_at):
    src = _book_sources(NUMBERS)
    greedy = book_at.greedy_decode(src)
    assert book_at.beam_search(src, beam_size=1) == greedy
    assert [numerals.decode_target(t) for t in greedy] == [numerals.to_chinese(n)
                                                           for n in NUMBERS]


@pytest.mark.parametrize("seed", range(4))
def test_random_model_greedy_equals_beam_of_one(seed):
    m = small_model(seed=seed)
    src = random_ids(4, 5, seed=seed)
    assert m.beam_search(src, beam_size=1, max_len=10) == m.greedy_decode(src, max_len=10)


def test_beam_search_scores_at_least_as_high_as_greedy(book_at):
    for model, src, max_len in [(book_at, _book_sources(NUMBERS), None),
                                *[(small_model(seed=s), random_ids(3, 4, seed=s), 6)
                                  for s in range(3)]]:
        greedy = model.greedy_decode(src, max_len=max_len)
        beams, scores = model.beam_search(src, beam_size=4, max_len=max_len,
                                          return_scores=True)
        greedy_scores = model.score(src, greedy)
        ended = [len(g) < (max_len or 99) for g in greedy]
        for s, g, e in zip(scores, greedy_scores, ended, strict=True):
            if e:  # (an output cut at max_len has no END to score)
                assert s >= g - 1e-5
        for b, s, e in zip(model.score(src, beams), scores, ended, strict=True):
            if e:
                assert b == pytest.approx(s, abs=1e-4)


def test_beam_search_options():
    m = small_model()
    with pytest.raises(ValueError, match="beam_size"):
        m.beam_search(random_ids(1, 3), beam_size=0)
    out = m.beam_search(random_ids(2, 3), beam_size=3, max_len=5, length_penalty=0.6)
    assert len(out) == 2 and all(len(o) <= 5 for o in out)


# ------------------------------------------------ the one greedy loop and the one beam search


class Spell:
    """A toy step function: spells `tokens`, then END (2); scores as probabilities."""

    def __init__(self, tokens, vocab=9):
        self.tokens, self.vocab = list(tokens), vocab

    def __call__(self, ys):
        t = ys.shape[1] - 1  # tokens chosen so far
        out = torch.full((ys.shape[0], self.vocab), 0.01, dtype=torch.float64)
        out[:, self.tokens[t] if t < len(self.tokens) else 2] = 0.9
        return out


def test_greedy_search_feeds_its_choices_back_and_stops_at_end():
    ys = greedy_search(Spell([5, 7, 3]), begin=1, end=2, max_len=10)
    assert ys.tolist() == [[1, 5, 7, 3, 2]]
    assert output_tokens(ys, end=2) == [[5, 7, 3]]
    assert output_tokens(greedy_search(Spell([4] * 9), 1, 2, max_len=3), 2) == [[4, 4, 4]]
    assert output_tokens(greedy_search(Spell([]), 1, 2, max_len=5), 2) == [[]]
    assert greedy_search(Spell([4]), 1, 2, max_len=0).tolist() == [[1]]
    assert output_tokens(greedy_search(Spell([0, 6]), 1, 2, 5, never=[0]), 2)[0][0] != 0
    with pytest.raises(ValueError, match="max_len must be >= 0"):
        greedy_search(Spell([]), 1, 2, max_len=-1)
    # a step function on python lists, as the chapter 10 exercise writes it
    as_list = greedy_search(lambda ys: [0.1, 0.0, 0.2, 0.7][:4] if len(ys[0]) < 3
                            else [0.0, 0.0, 1.0, 0.0], 1, 2, max_len=9)
    assert output_tokens(as_list, 2) == [[3, 3]]
    with pytest.raises(ValueError, match="one score per token"):
        greedy_search(lambda ys: torch.zeros(3, 5), 1, 2, max_len=2, batch=2)


def test_greedy_search_batch_padding_free_running_and_on_step():
    class Two(Spell):  # row 0 spells 5 then END; row 1 never ends
        def __call__(self, ys):
            out = torch.zeros(2, self.vocab)
            out[0, 5 if ys.shape[1] == 1 else 2] = 1.0
            out[1, 6] = 1.0
            return out

    seen = []
    ys = greedy_search(Two([]), 1, 2, max_len=4, batch=2, pad=0,
                       on_step=lambda step, logits, ys: seen.append((step, ys.shape[1])))
    assert ys.tolist() == [[1, 5, 2, 0, 0], [1, 6, 6, 6, 6]]
    assert seen == [(0, 2), (1, 3), (2, 4), (3, 5)]
    assert output_tokens(ys, 2, pad=0) == [[5], [6, 6, 6, 6]]
    # free running: exactly max_len steps, END is read like any other token
    free = greedy_search(Two([]), 1, 2, max_len=3, batch=2, stop_at_end=False)
    assert free.tolist() == [[1, 5, 2, 2], [1, 6, 6, 6]]


def test_beam_search_keeps_the_best_hypotheses_at_each_step():
    # Step 1: token 3 (p .5) or 4 (p .4); after 3 everything is flat, after 4 END is sure.
    def step(ys, parents):
        rows = []
        for row in ys.tolist():
            p = torch.full((6,), 1e-6)
            if len(row) == 1:
                p[3], p[4] = 0.5, 0.4
            elif row[1] == 4:
                p[2] = 1.0
            else:
                p[2:] = 0.25
            rows.append(p.log())
        assert parents is None or len(parents) == len(ys)
        return torch.stack(rows)

    greedy, g_score = beam_search(step, 1, 2, beam_size=1, max_len=5)
    best, score, steps = beam_search(step, 1, 2, beam_size=2, max_len=5, keep_steps=True)
    assert greedy[0] == 3 and best == [4]
    assert score == pytest.approx(math.log(0.4 / 0.9), abs=1e-4)  # p(4) · p(END | 4)
    assert score > g_score
    assert [(t, f) for t, _, f in steps[0]] == [([3], False), ([4], False)]
    assert steps[1][0][0] == [4] and steps[1][0][2]  # [4] + END finishes first
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(step, 1, 2, beam_size=0, max_len=5)


def test_public_decoding_limits():
    m = small_model()
    assert m.max_decode_len() == 19 and m.max_decode_len(5) == 5
    with pytest.raises(ValueError, match="max_len must be in 1..19"):
        m.max_decode_len(20)
    assert m.never_chosen.tolist() == [i == 0 for i in range(18)]


@pytest.mark.parametrize("overrides", [{}, {"norm_first": True}])
def test_cached_steps_equal_full_decoding_on_a_padded_batch(overrides):
    m = small_model(seed=6, **overrides)
    src = pad_batch([[5, 6, 7, 8], [9], [10, 11]])
    tokens, probs = m.greedy_decode(src, max_len=8, return_steps=True)
    slow, slow_probs = m.greedy_decode(src, max_len=8, return_steps=True, use_cache=False)
    assert tokens == slow
    torch.testing.assert_close(probs, slow_probs, atol=1e-5, rtol=0)
    # the attention of each step, kept through on_step, is the newest row of the full pass
    rows = {True: [], False: []}
    for use_cache in (True, False):
        with keep_weights(m.decoder) as attns:
            m.greedy_decode(src, max_len=8, use_cache=use_cache,
                            on_step=lambda step, logits, ys, u=use_cache: rows[u].append(
                                [a.weights[:, :, -1].clone() for _, a in attns]))
    for fast, full in zip(rows[True], rows[False], strict=True):
        for a, b in zip(fast, full, strict=True):
            assert a.shape[:2] == (3, 4)
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    cached = m.beam_search(src, beam_size=3, max_len=8, return_scores=True, return_steps=True)
    full = m.beam_search(src, beam_size=3, max_len=8, return_scores=True, return_steps=True,
                         use_cache=False)
    assert cached[0] == full[0]
    assert cached[1] == pytest.approx(full[1], abs=1e-5)
    for a, b in zip(cached[2], full[2], strict=True):
        assert [[(t, f) for t, _, f in kept] for kept in a] == \
            [[(t, f) for t, _, f in kept] for kept in b]


def test_free_running_inputs_with_greedy_search():
    m = small_model(seed=7)
    src = random_ids(2, 4)
    memory, src_mask = m.encode(src), m.src_padding_mask(src)
    with torch.no_grad():
        ys = greedy_search(lambda ys: m.decode(ys, memory, src_mask)[:, -1], 1, 2, 5,
                           never=[0], batch=2, stop_at_end=False)
    assert ys.shape == (2, 6) and (ys[:, 0] == 1).all() and (ys != 0).all()


# ------------------------------------------------------------------------------------- saving


@pytest.mark.parametrize("cls", [Transformer, NATransformer])
def test_save_and_load_round_trip(tmp_path, cls):
    m = small_model(cls=cls, positional="learned")
    path = save_model(m, tmp_path / "sub" / "m.safetensors", metadata={"note": "hi"})
    back = load_model(path)
    assert type(back) is cls and back.config == m.config and not back.training
    for k, v in m.state_dict().items():
        assert torch.equal(back.state_dict()[k], v)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        assert f.metadata()["note"] == "hi"
    src = random_ids(2, 4)
    if cls is Transformer:
        assert back.greedy_decode(src, max_len=6) == m.greedy_decode(src, max_len=6)
    else:
        assert back.generate(src, iterations=2) == m.generate(src, iterations=2)


def test_load_refuses_foreign_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="not saved by attnbook"):
        load_model(tmp_path / "x.safetensors")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.safetensors")


# ---------------------------------------------------------------------------------------- NAT


def test_nat_length_predictor_and_one_pass():
    m = small_model(cls=NATransformer)
    src = pad_batch([[5, 6, 7], [8, 9], [10, 11, 12, 13]])
    src_mask = m.src_padding_mask(src)
    assert m.predict_length_logits(m.encode(src), src_mask).shape == (3, 13)
    calls = []
    handle = m.out_proj.register_forward_hook(lambda *a: calls.append(1))
    try:
        out, steps = m.generate(src, iterations=1, return_steps=True)
    finally:
        handle.remove()
    assert len(calls) == 1  # one decoder pass for the whole output
    assert len(steps) == 1 and torch.all(steps[0]["input"][steps[0]["input"] != 0] == 3)
    lengths = m.predict_length_logits(m.encode(src), src_mask)[:, 1:].argmax(-1) + 1
    assert [len(o) for o in out] == lengths.tolist()


def test_nat_decoder_has_no_causal_mask():
    m = small_model(cls=NATransformer)
    src, tgt = random_ids(1, 4), random_ids(1, 6, high=18)
    changed = tgt.clone()
    changed[0, 5] = 3 if tgt[0, 5] != 3 else 4
    mem = m.encode(src)
    assert not torch.allclose(m.decode(tgt, mem)[:, 0], m.decode(changed, mem)[:, 0])


def test_mask_predict_remasks_the_least_confident():
    m = small_model(cls=NATransformer, seed=3)
    src = random_ids(2, 4)
    out, steps = m.generate(src, iterations=3, lengths=[6, 4], return_steps=True)
    assert len(steps) == 3 and [len(o) for o in out] == [6, 4]
    # pass 2 re-masks floor(L·2/3) tokens, pass 3 floor(L·1/3): the least probable ones
    for t, expected in ((1, [4, 2]), (2, [2, 1])):
        masked = steps[t]["input"] == 3
        assert masked.sum(1).tolist() == expected
        before = steps[t - 1]["probs"]
        for b, L in enumerate((6, 4)):
            kept = before[b, :L][~masked[b, :L]]
            assert before[b, :L][masked[b, :L]].max() <= kept.min()
    assert out == [row[:L] for row, L in zip(steps[-1]["tokens"].tolist(), (6, 4),
                                             strict=True)]
    with pytest.raises(ValueError, match="iterations"):
        m.generate(src, iterations=0)


def test_nat_loss_trains():
    m = small_model(cls=NATransformer)
    m.train()
    tgt = pad_batch([[5, 6, 7, 8], [9, 10]])
    total, tok, length = m.loss(random_ids(2, 3), tgt, torch.Generator().manual_seed(0))
    assert torch.isfinite(total) and total.shape == ()
    total.backward()
    assert m.length_head[0].weight.grad is not None and m.src_embed.weight.grad is not None


# ---------------------------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_the_same_code_runs_on_cuda(book_at):
    src = _book_sources(NUMBERS)
    gpu = load_book_model("at", device="cuda")
    assert gpu.greedy_decode(src) == book_at.greedy_decode(src)
    assert gpu.beam_search(src[:3], beam_size=3) == book_at.beam_search(src[:3], beam_size=3)
    torch.testing.assert_close(gpu.encode(pad_batch(src).cuda()).cpu(),
                               book_at.encode(pad_batch(src)), atol=1e-4, rtol=1e-4)
    nat = load_book_model("nat", device="cuda")
    assert nat.generate(src, iterations=2) == load_book_model("nat").generate(src, iterations=2)
    m = small_model().cuda().train()
    m.loss(random_ids(2, 3).cuda(), random_ids(2, 5, high=18).cuda()).backward()
    nm = small_model(cls=NATransformer).cuda().train()
    nm.loss(random_ids(2, 3).cuda(), pad_batch([[5, 6], [7]]).cuda())[0].backward()


def test_cached_decoding_equals_full_decoding(book_at):
    src = _book_sources(NUMBERS)
    fast, p_fast = book_at.greedy_decode(src, return_steps=True)
    slow, p_slow = book_at.greedy_decode(src, return_steps=True, use_cache=False)
    assert fast == slow
    torch.testing.assert_close(p_fast, p_slow, atol=1e-5, rtol=1e-4)
    for overrides in ({}, {"norm_first": True, "positional": "learned"}):
        m = small_model(seed=5, **overrides)
        src = random_ids(3, 4, seed=5)
        assert m.greedy_decode(src, max_len=7) == m.greedy_decode(src, max_len=7,
                                                                  use_cache=False)

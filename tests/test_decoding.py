"""Tests of attnbook.labs.decoding_steps, at_vs_nat (chapter 10) and cross_attention (chapter
11), the DecodingView's Python side, and the exercise checkers of chapters 10 and 11.

The models here are small and untrained (seeded): what is tested is the bookkeeping, which
does not depend on the weights — that the recorded loop chooses what greedy decoding
chooses, that the attention it keeps is the attention the model computed, and that the
measurements count what they say.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from attnbook import numerals  # noqa: E402
from attnbook.labs import at_vs_nat, cross_attention, decoding_steps  # noqa: E402
from attnbook.layers import keep_weights  # noqa: E402
from attnbook.model import MaxLengthNAT, NATransformer, Transformer, load_model, save_model  # noqa: E402,E501
from attnbook.translate import default_config  # noqa: E402
from attnbook.widgets import AttentionMap  # noqa: E402
from attnbook.widgets.decoding_view import DecodingView  # noqa: E402

NUMBERS = [7, 1005, 20, 123456]


@pytest.fixture(scope="module")
def at_model() -> Transformer:
    torch.manual_seed(0)
    return Transformer(default_config(d_model=32, dim_feedforward=64)).eval()


@pytest.fixture(scope="module")
def nat_model() -> NATransformer:
    torch.manual_seed(1)
    return NATransformer(default_config(d_model=32, dim_feedforward=64)).eval()


@pytest.fixture(scope="module")
def records(at_model) -> list[decoding_steps.DecodingRecord]:
    return [decoding_steps.record_decoding(at_model, n, max_len=8) for n in NUMBERS]


# ---------------------------------------------------------------------------- record_decoding


def test_record_chooses_what_greedy_decode_chooses(at_model, records):
    ids = [numerals.source_ids(n) for n in NUMBERS]
    tokens, probs = at_model.greedy_decode(ids, max_len=8, return_steps=True)
    for b, record in enumerate(records):
        assert [c for c in record.choices if c != numerals.END] == tokens[b]
        steps = record.steps
        np.testing.assert_allclose(record.probs, probs[b, :steps].double().numpy(), atol=1e-5)
        assert record.ended == (record.choices[-1] == numerals.END)
        assert record.steps == len(tokens[b]) + record.ended
        assert record.text == numerals.decode_target(tokens[b])
        assert record.source == tuple(str(NUMBERS[b]))


def test_record_shapes_and_distributions(at_model, records):
    c = at_model.config
    for r in records:
        T, S = r.steps, len(r.source)
        assert r.probs.shape == (T, c.tgt_vocab_size)
        np.testing.assert_allclose(r.probs.sum(-1), 1.0, atol=1e-6)
        assert r.self_attention.shape == (c.num_decoder_layers, c.num_heads, T, T)
        assert r.cross_attention.shape == (c.num_decoder_layers, c.num_heads, T, S)
        np.testing.assert_allclose(r.self_attention.sum(-1), 1.0, atol=1e-6)
        np.testing.assert_allclose(r.cross_attention.sum(-1), 1.0, atol=1e-6)
        # Masked self-attention: no weight on the future.
        future = np.triu(np.ones((T, T), dtype=bool), k=1)
        assert (r.self_attention[..., future] == 0).all()
        assert r.inputs[0] == "BEGIN" and len(r.inputs) == T
        assert r.outputs == [numerals.TARGET_TOKENS[i] for i in r.choices]


def test_each_step_row_is_the_row_of_one_pass_over_the_whole_input(at_model, records):
    """Because of the causal mask, re-running the decoder on the final input reproduces every
    step's row: what step t saw never changes later (claim 13)."""
    r = records[1]
    src = torch.tensor([numerals.source_ids(NUMBERS[1])])
    tgt_in = torch.tensor([[numerals.BEGIN, *r.choices[:-1]]])
    with torch.no_grad(), keep_weights(at_model.decoder):
        src_mask = at_model.src_padding_mask(src)
        logits = at_model.decode(tgt_in, at_model.encode(src, src_mask), src_mask)
        self_w = np.stack([la.self_attn.weights[0].double().numpy() for la in at_model.decoder])
        cross_w = np.stack([la.cross_attn.weights[0].double().numpy()
                            for la in at_model.decoder])
    np.testing.assert_allclose(r.self_attention, self_w, atol=1e-5)
    np.testing.assert_allclose(r.cross_attention, cross_w, atol=1e-5)
    np.testing.assert_allclose(r.probs, logits[0].softmax(-1).double().numpy(), atol=1e-5)


def test_step_maps_reveal_one_row_per_step(records):
    r = records[3]
    for kind, full in (("cross", r.cross_attention), ("self", r.self_attention)):
        maps = r.step_maps(kind)
        assert maps.shape == (r.steps, *full.shape)
        for s in range(r.steps):
            np.testing.assert_array_equal(maps[s, :, :, : s + 1], full[:, :, : s + 1])
            assert (maps[s, :, :, s + 1:] == 0).all()
    with pytest.raises(ValueError, match="kind"):
        r.step_maps("encoder")


def test_record_refuses_a_nat_model(nat_model):
    with pytest.raises(ValueError, match="autoregressive"):
        decoding_steps.record_decoding(nat_model, 5)


def test_record_leaves_the_model_as_it_was(at_model):
    at_model.train()
    try:
        decoding_steps.record_decoding(at_model, 42, max_len=3)
        assert at_model.training
        assert all(not m.keep_weights for _, m in at_model.named_modules()
                   if hasattr(m, "keep_weights") and isinstance(m.keep_weights, bool))
    finally:
        at_model.eval()


# ------------------------------------------------------------------------------------- views


def test_decoding_view_state(records):
    view = DecodingView.from_records(records[:2], title="steps")
    assert view.title == "steps"
    assert [e["source"] for e in view.examples] == ["7", "1005"]
    shown = [numerals.TARGET_TOKENS[i] for i in view.shown]
    chosen = {numerals.TARGET_TOKENS[c] for r in records[:2] for c in r.choices}
    hidden = {"PAD", "BEGIN", "MASK"} - chosen  # an untrained model may choose MASK
    assert not hidden & set(shown)
    assert "END" in shown and len(shown) == len(numerals.TARGET_TOKENS) - len(hidden)
    r = records[1]
    sent = np.array(view.examples[1]["probs"])  # (steps, shown)
    np.testing.assert_allclose(sent, r.probs[:, view.shown], atol=5e-4)
    assert view.examples[1]["choices"] == list(r.choices)
    assert view.inputs(1, 0) == ["BEGIN"]
    assert view.inputs(1, 2) == ["BEGIN", *r.outputs[:2]]
    assert view.output(1) == r.outputs
    json.dumps(view.get_state(), default=str)  # what the page receives is plain JSON
    assert repr(view) == (f"DecodingView(2 examples, steps [{records[0].steps}, "
                          f"{records[1].steps}], {len(shown)} tokens shown)")


TOY_VOCAB = ["PAD", "BEGIN", "END", "MASK", "x"]


def test_attention_views(records):
    r = records[3]
    cross = AttentionMap.from_decoding(r, "cross", title="cross")
    assert cross.axes == ["step", "layer", "head"]
    assert cross.row_tokens == r.outputs and cross.col_tokens == list("123456")
    assert cross.shape == (r.steps, 2, 4, r.steps, 6)
    assert cross.axis_labels[0][0] == f"1: {r.outputs[0]}"
    own = AttentionMap.from_decoding(r, "self")
    assert own.row_tokens == r.inputs and own.col_tokens == r.inputs
    own.selection = [r.steps - 1, 1, 2]
    np.testing.assert_allclose(own.current(), r.self_attention[1, 2], atol=5e-4)


# -------------------------------------------------------------------------------- AT vs NAT


def test_compare_at_nat_counts_passes(at_model, nat_model):
    numbers = [5, 1005, 99999]
    rows = at_vs_nat.compare_at_nat(at_model, nat_model, numbers, iterations=(1, 3))
    assert [r["method"] for r in rows] == ["AT (greedy)", "NAT, 1 pass", "NAT, 3 passes"]
    out = at_model.greedy_decode([numerals.source_ids(n) for n in numbers])
    assert rows[0]["passes"] == pytest.approx(np.mean([len(o) + 1 for o in out]))
    assert [r["passes"] for r in rows[1:]] == [1.0, 3.0]
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0
    assert 0.0 <= rows[1]["length_accuracy"] <= 1.0
    assert 0.0 <= rows[1]["accuracy_true_length"] <= 1.0
    with pytest.raises(ValueError, match="at least one"):
        at_vs_nat.compare_at_nat(at_model, nat_model, [])


def test_nat_passes(nat_model):
    passes = at_vs_nat.nat_passes(nat_model, 1005, iterations=3)
    assert len(passes) == 3
    assert set(passes[0]["input"]) == {"MASK"}
    length = len(passes[0]["input"])
    for p in passes:
        assert len(p["output"]) == len(p["probs"]) == length
        assert "MASK" not in p["output"]
        assert p["dist"].shape == (length, len(numerals.TARGET_TOKENS))
    with pytest.raises(ValueError, match="NATransformer"):
        at_vs_nat.nat_passes(Transformer(default_config(d_model=16, dim_feedforward=16)), 5, 1)


def test_generate_each_gives_generate_for_every_k(nat_model):
    src = [numerals.source_ids(n) for n in (5, 1005, 43029, 100131, 999999)]
    each = nat_model.generate_each(src, (1, 2, 3, 5))
    assert list(each) == [1, 2, 3, 5]
    for k, out in each.items():
        assert out == nat_model.generate(src, iterations=k)
    with pytest.raises(ValueError, match="iterations"):
        nat_model.generate_each(src, (1, 0))


def test_mistakes_by_passes_counts_what_translate_counts(nat_model):
    from attnbook import translate

    numbers = list(range(95, 125)) + [43029, 100131]
    found = at_vs_nat.mistakes_by_passes(nat_model, numbers, (1, 4), batch_size=8)
    for k in (1, 4):
        assert found[k] == translate.mistakes(nat_model, numbers, iterations=k)
    done = []
    at_vs_nat.mistakes_by_passes(nat_model, numbers, (2,), batch_size=10, on_batch=done.append)
    assert done == [10, 20, 30, 32]
    with pytest.raises(ValueError, match="NATransformer"):
        at_vs_nat.mistakes_by_passes(Transformer(default_config(d_model=16,
                                                                dim_feedforward=16)), [5])


def test_return_steps_keeps_each_token_s_distribution(nat_model):
    _, steps = nat_model.generate([numerals.source_ids(1005)], iterations=3,
                                  return_steps=True)
    for s in steps:
        dist = s["dist"][0]  # (L, V)
        assert torch.allclose(dist.sum(-1), torch.ones(len(dist)), atol=1e-5)
        assert torch.equal(dist.argmax(-1), s["tokens"][0])
        assert torch.allclose(dist.max(-1).values, s["probs"][0])


def test_max_length_nat_cuts_at_end(tmp_path):
    torch.manual_seed(2)
    m = MaxLengthNAT(default_config(d_model=32, dim_feedforward=64)).eval()
    src = [numerals.source_ids(n) for n in (5, 1005, 123456)]
    out, steps = m.generate(src, iterations=2, return_steps=True)
    M = m.config.max_target_len
    assert all(s["tokens"].shape == (3, M) for s in steps)  # always the maximum length
    for row, ids in zip(steps[-1]["tokens"].tolist(), out, strict=True):
        cut = row.index(numerals.END) if numerals.END in row else M
        assert ids == row[:cut] and numerals.END not in ids
    with pytest.raises(ValueError, match="lengths"):
        m.generate(src, lengths=[1, 2, 3])
    back = load_model(save_model(m, tmp_path / "m.safetensors"))
    assert type(back) is MaxLengthNAT and back.generate(src, iterations=2) == out


def test_max_length_nat_loss_scores_end_and_padding():
    torch.manual_seed(3)
    m = MaxLengthNAT(default_config(d_model=16, dim_feedforward=16))
    from attnbook import translate

    src, tgt = translate.make_batch([7, 2026], kind="nat")
    seen = {}
    handle = m.register_forward_hook(lambda mod, args, out: seen.update(tgt_in=args[1]))
    try:
        total, token_loss, length_loss = m.loss(src, tgt, torch.Generator().manual_seed(0),
                                                full_mask_prob=1.0)
    finally:
        handle.remove()
    assert seen["tgt_in"].shape == (2, m.config.max_target_len)
    assert bool((seen["tgt_in"] == numerals.MASK).all())  # every position masked
    assert torch.isfinite(total) and total == token_loss and float(length_loss) == 0.0
    total.backward()  # it trains
    model, log = translate.train_nat(seconds=None, max_steps=2, cut_at_end=True,
                                     print_fn=None, device="cpu",
                                     config=default_config(d_model=16, dim_feedforward=16))
    assert isinstance(model, MaxLengthNAT) and log["hyperparameters"]["cut_at_end"]


def test_time_decoding_names_every_method():
    # Tiny models that decode at most 4 tokens: this test is about the bookkeeping.
    config = default_config(d_model=16, dim_feedforward=16, max_len=8, max_target_len=4)
    at_model, nat_model = Transformer(config).eval(), NATransformer(config).eval()
    times = at_vs_nat.time_decoding(at_model, nat_model, [123456], iterations=(1, 2), repeats=1)
    assert list(times) == ["AT (greedy)", "NAT, 1 pass", "NAT, 2 passes"]
    assert all(t > 0 for t in times.values())
    before = torch.get_num_threads()
    at_vs_nat.time_decoding(at_model, nat_model, [5], iterations=(1,), repeats=1, threads=1)
    assert torch.get_num_threads() == before  # restored
    with pytest.raises(ValueError, match="repeats"):
        at_vs_nat.time_decoding(at_model, nat_model, [5], repeats=0)


# --------------------------------------------------------------------- cross attention, measured


@pytest.mark.parametrize(("n", "expected"), [
    (0, [0]), (7, [0]), (10, [0]), (1005, [0, 0, 1, 3]), (110, [0, 0, 1, 1]),
    (300000, [0, 0, 0]), (100011, [0, 0, 2, 4, 4, 5]), (10100, [0, 0, 1, 2, 2]),
])
def test_source_alignment_examples(n, expected):
    assert cross_attention.source_alignment(n) == expected


def test_source_alignment_points_at_the_right_digits():
    digits = numerals.DIGITS
    for n in [*range(0, 1_000_000, 997), *range(100_000, 100_200)]:
        text, where, s = numerals.to_chinese(n), cross_attention.source_alignment(n), str(n)
        assert len(where) == len(text), n
        for char, p in zip(text, where, strict=True):
            if char in digits[1:]:  # 一 … 九 come from their own digit
                assert s[p] == str(digits.index(char)), (n, text, where)
            elif char == "零" and n:  # a 零 stands for a zero
                assert s[p] == "0", (n, text, where)
            elif n:  # a unit comes from a non-zero digit
                assert s[p] != "0", (n, text, where)


def test_cross_attention_agreement(at_model):
    agreement = cross_attention.cross_attention_agreement(at_model, [1005, 123456, 20])
    c = at_model.config
    assert agreement.shape == (c.num_decoder_layers, c.num_heads)
    assert ((agreement >= 0) & (agreement <= 1)).all()
    for kind in ("units", "zeros", None):
        shape = cross_attention.cross_attention_agreement(at_model, [1005], kind).shape
        assert shape == agreement.shape
    last = cross_attention.cross_attention_agreement(at_model, [1005], None, target="last")
    assert last.shape == agreement.shape
    later = cross_attention.cross_attention_agreement(at_model, [1005, 123456], "units", "later")
    assert later.shape == agreement.shape and ((later >= 0) & (later <= 1)).all()
    # "On the last digit" is one of the ways of being "after" the aligned digit (for units).
    assert (later >= cross_attention.cross_attention_agreement(at_model, [1005, 123456], "units",
                                                         "last")).all()
    with pytest.raises(ValueError, match="at least one"):
        cross_attention.cross_attention_agreement(at_model, [])
    with pytest.raises(ValueError, match="characters"):
        cross_attention.cross_attention_agreement(at_model, [5], "letters")
    with pytest.raises(ValueError, match="target"):
        cross_attention.cross_attention_agreement(at_model, [5], target="first")
    with pytest.raises(ValueError, match="none of the numbers"):
        cross_attention.cross_attention_agreement(at_model, [5], "zeros")


def test_cross_attention_agreement_counts_hits():
    """A model whose cross attention is forced onto the aligned digit agrees everywhere."""
    torch.manual_seed(0)
    model = Transformer(default_config(d_model=16, num_heads=2, dim_feedforward=16)).eval()
    numbers = [1005, 20, 123456]
    real = model.decoder[0].cross_attn.forward

    def forced(query, key, value, mask=None, need_weights=True, **kwargs):
        out, _ = real(query, key, value, mask, need_weights, **kwargs)
        T, S = query.shape[1], key.shape[1]
        w = torch.zeros(len(numbers), model.config.num_heads, T, S)
        for b, n in enumerate(numbers):
            for t, p in enumerate(cross_attention.source_alignment(n)):
                w[b, :, t, p] = 1.0
        model.decoder[0].cross_attn.weights = w
        return out, w

    model.decoder[0].cross_attn.forward = forced
    agreement = cross_attention.cross_attention_agreement(model, numbers)
    np.testing.assert_array_equal(agreement[0], 1.0)
    # On the aligned digit is never *after* it.
    later = cross_attention.cross_attention_agreement(model, numbers, None, target="later")
    np.testing.assert_array_equal(later[0], 0.0)

"""Tests of the labs on the book's translator: attnbook.labs.probes (chapter 8), ln_placement
(chapter 9) and exposure_bias (chapter 12), of the exercise checkers of those
chapters, and of the measured data the chapters read from src/attnbook/data/measurements/."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from attnbook import numerals, translate
from attnbook.labs import exposure_bias, ln_placement, probes
from attnbook.layers import EncoderLayer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "attnbook" / "data" / "measurements"


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return translate.load_book_model("at")


@pytest.fixture(scope="module")
def untrained():
    torch.manual_seed(0)
    from attnbook.model import Transformer

    return Transformer(translate.default_config()).eval()


# ------------------------------------------------------------------------------- chapter 8


def test_multilabel_target_sorts_deduplicates_and_ends():
    vocab = ["END", "a", "b", "c"]
    assert probes.multilabel_target(["c", "a", "c"], vocab) == [1, 3, 0]
    assert probes.multilabel_target([], vocab) == [0]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        probes.multilabel_target(["z"], vocab)
    with pytest.raises(ValueError, match="end token"):
        probes.multilabel_target(["a"], ["a", "b"])


@pytest.mark.parametrize("n, labels", [
    (0, [0]), (7, [1]), (15, [0, 1]), (10, [0, 0]), (110, [1, 1, 0]), (305, [1, 0, 1]),
    (100000, [0, 0, 0, 0, 0, 0]), (115000, [0, 1, 1, 0, 0, 0]), (210, [1, 1, 0]),
])
def test_digit_read_labels_follow_the_numeral(n, labels):
    assert probes.digit_read_labels(n) == labels
    # A digit that is read shows up as its character in the numeral.
    text = numerals.to_chinese(n)
    read = [d for d, b in zip(str(n), labels, strict=True) if b]
    for d in read:
        assert numerals.DIGITS[int(d)] in text


def test_probe_encoder_reads_the_trained_encoder(model):
    heldout = translate.heldout_numbers()
    train = translate.make_datasets(seed=1).sampler.sample(300)
    result = probes.probe_encoder(model, train, heldout[::10])
    assert set(result) == {"digit is read", "output length", "translation"}
    for task in ("digit is read", "output length"):
        r = result[task]
        assert 0.0 <= r["baseline"] <= 1.0 and 0.0 <= r["test"] <= 1.0
        assert r["test"] > r["baseline"], task
    assert result["translation"]["test"] > 0.95


# ------------------------------------------------------------------------------- chapter 9


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_trace_reproduces_the_layer(norm_first):
    torch.manual_seed(1)
    layer = EncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, norm_first=norm_first).eval()
    x = torch.randn(2, 5, 16)
    mask = torch.ones(2, 1, 5, dtype=torch.bool)
    mask[1, :, 3:] = False  # the second sequence has two padding positions
    trace = ln_placement.encoder_block_trace(layer, x, mask)
    expected = ["input", "norm 1", "attention", "residual 1", "norm 2", "feed forward",
                "residual 2"] if norm_first else ["input", "attention", "residual 1", "norm 1",
                                                  "feed forward", "residual 2", "norm 2"]
    assert list(trace) == expected
    with torch.no_grad():
        torch.testing.assert_close(trace[expected[-1]], layer(x, mask))
    torch.testing.assert_close(trace["residual 1"],
                               trace["input"] + trace["attention"])


def test_encoder_trace_chains_the_blocks(model):
    traces = ln_placement.encoder_trace(model, 30205)
    assert len(traces) == model.config.num_encoder_layers
    for t in traces:
        for value in t.values():
            assert value.shape == (5, model.config.d_model)
    np.testing.assert_allclose(traces[1]["input"], traces[0]["norm 2"], atol=1e-6)
    with torch.no_grad():
        memory = model.encode(torch.tensor([numerals.source_ids(30205)]))[0].double().numpy()
    np.testing.assert_allclose(traces[-1]["norm 2"], memory, atol=1e-5)
    # A layer norm leaves each vector with mean 0 (the learned shift is small).
    assert np.abs(traces[0]["norm 1"].mean(-1)).max() < 0.1


def test_ln_stability_run_returns_its_curve():
    run = ln_placement.ln_stability_run(True, lr=1e-3, max_steps=10, eval_numbers=4)
    assert run["norm_first"] is True and run["max_steps"] == 10
    assert run["step"] == [10] and len(run["loss"]) == 1
    assert 0.0 <= run["exact_match"] <= 1.0
    json.dumps(run)  # JSON-ready


# ------------------------------------------------------------------------------ chapter 12


def test_shift_right_adds_begin_and_end():
    assert exposure_bias.shift_right([7, 8]) == ([numerals.BEGIN, 7, 8], [7, 8, numerals.END])
    assert exposure_bias.shift_right([]) == ([numerals.BEGIN], [numerals.END])


def test_sequence_cross_entropy_ignores_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5)
    labels = torch.tensor([[1, 2, 3], [4, 0, 0]])
    got = exposure_bias.sequence_cross_entropy(logits, labels, pad_id=0)
    logp = logits.log_softmax(-1)
    picked = [logp[0, 0, 1], logp[0, 1, 2], logp[0, 2, 3], logp[1, 0, 4]]
    assert got.item() == pytest.approx(-float(sum(picked)) / 4, rel=1e-6)


def test_teacher_forcing_loss_matches_the_model(model):
    src, tgt = translate.make_batch([305, 1005, 7])
    with torch.no_grad():
        ours = exposure_bias.sequence_cross_entropy(model(src, tgt[:, :-1]), tgt[:, 1:])
        assert ours.item() == pytest.approx(model.loss(src, tgt).item(), rel=1e-6)


def test_free_running_inputs_are_the_greedy_choices(model):
    numbers = [305, 1005, 100001, 7]
    src, tgt = translate.make_batch(numbers)
    with torch.no_grad():
        inputs = exposure_bias.free_running_inputs(model, src, tgt)
    assert inputs.shape == tgt[:, :-1].shape
    greedy = model.greedy_decode(src)
    for row, tokens, target in zip(inputs.tolist(), greedy, tgt.tolist(), strict=True):
        length = target.index(numerals.END)  # BEGIN + the characters
        assert row[0] == numerals.BEGIN
        assert row[1:length] == tokens[:length - 1]
        assert all(t == numerals.PAD for t in row[length + 1:])  # past the END label


def test_free_running_loss_trains_and_differs_from_teacher_forcing(model, untrained):
    src, tgt = translate.make_batch([305, 1005, 2026])
    # A trained model reads its own outputs, which are right: the two losses agree.
    with torch.no_grad():
        assert exposure_bias.free_running_loss(model, src, tgt).item() == pytest.approx(
            model.loss(src, tgt).item(), abs=1e-4)
    # An untrained model's guesses are wrong, so its free-running loss is another number,
    # and gradients reach the weights.
    untrained.zero_grad()
    loss = exposure_bias.free_running_loss(untrained, src, tgt)
    loss.backward()
    assert loss.item() != pytest.approx(untrained.loss(src, tgt).item(), abs=1e-3)
    assert untrained.out_proj.weight.grad.abs().sum() > 0
    assert untrained.encoder[0].self_attn.q_proj.weight.grad.abs().sum() > 0
    untrained.zero_grad()


def test_train_decoder_logs_both_modes():
    with pytest.raises(ValueError, match="mode"):
        exposure_bias.train_decoder("student")
    for mode in ("teacher", "free"):
        model, log = exposure_bias.train_decoder(mode, max_steps=2, eval_every=1,
                                               eval_numbers=[5, 123], batch_size=4)
        assert not model.training
        assert log["mode"] == mode and log["eval_step"] == [0, 1, 2]
        assert len(log["eval_loss"]) == len(log["exact_match"]) == 3
        assert log["seconds_per_step"] > 0 and log["median_seconds_per_step"] > 0
        json.dumps(log)


def test_position_accuracy_of_the_trained_model(model):
    numbers = translate.heldout_numbers()[::100]
    acc = exposure_bias.position_accuracy(model, numbers)
    assert len(acc["teacher"]) == len(acc["free"]) == len(acc["count"])
    assert acc["count"][0] == len(numbers)
    assert acc["count"] == sorted(acc["count"], reverse=True)
    assert min(acc["teacher"]) > 0.95 and min(acc["free"]) > 0.95


def test_position_accuracy_first_position_is_the_same_either_way(untrained):
    acc = exposure_bias.position_accuracy(untrained, [305, 1005, 2026, 99])
    # The first position reads BEGIN either way.
    assert acc["free"][0] == acc["teacher"][0]


@pytest.fixture(scope="module")
def shaken(model):
    """The book's model with noise on its decoder's weights: it gets some numbers wrong."""
    shaken = copy.deepcopy(model)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in shaken.decoder.parameters():
            p.add_(0.06 * torch.randn(p.shape, generator=g))
    return shaken


def _corrected_output(model, number):
    """Greedy decoding of one number with its first wrong token replaced by the true one."""
    truth = [*numerals.target_ids(number), numerals.END]
    own = [*model.greedy_decode([numerals.source_ids(number)])[0], numerals.END]
    first = next((i for i, (a, b) in enumerate(zip(own, truth, strict=False))
                  if a != b), None)
    if first is None:
        first = min(len(own), len(truth))
    src = torch.tensor([numerals.source_ids(number)])
    ys = [numerals.BEGIN, *truth[:first + 1]]
    with torch.no_grad():
        memory = model.encode(src)
        while ys[-1] != numerals.END and len(ys) <= len(truth):
            logits = model.decode(torch.tensor([ys]), memory)[0, -1]
            logits[numerals.PAD] = float("-inf")
            ys.append(int(logits.argmax()))
    return ys[1:]


def test_first_mistakes_of_a_model_that_errs(shaken):
    numbers = translate.heldout_numbers()[::25]
    got = exposure_bias.first_mistakes(shaken, numbers)
    truth = [numerals.to_chinese(n) for n in numbers]
    wrong = [n for n, out, t in zip(numbers, translate.translate(shaken, numbers), truth,
                                    strict=True) if out != t]
    assert got["numbers"] == len(numbers) and got["wrong"] == len(wrong) > 0
    # Correcting the first mistake, number by number, gives the same count.
    assert got["fixed"] == sum(_corrected_output(shaken, n) == [*numerals.target_ids(n),
                                                               numerals.END] for n in wrong)
    assert 0 <= got["after_own"] <= got["after"] and 0 <= got["after_true"] <= got["after"]
    assert got["after"] >= got["wrong"] - got["fixed"]  # an unfixed output errs again later
    assert not shaken.training


def test_first_mistakes_of_the_trained_model(model):
    got = exposure_bias.first_mistakes(model, translate.heldout_numbers()[::25])
    assert got["wrong"] == got["fixed"] == got["after"] == 0


@pytest.mark.parametrize("number", [305, 1005, 100001, 999999])
def test_beam_search_one_is_greedy_and_wider_beams_score_no_lower(model, number):
    greedy = model.greedy_decode([numerals.source_ids(number)])[0]
    tokens, score, steps = exposure_bias.beam_steps(model, number, beam_size=1)
    assert tokens == greedy
    assert score == pytest.approx(model.score([numerals.source_ids(number)], [tokens])[0],
                                  abs=1e-4)
    wide, wide_score, wide_steps = exposure_bias.beam_steps(model, number, beam_size=4)
    assert wide_score >= score - 1e-6
    assert wide_score == pytest.approx(
        model.score([numerals.source_ids(number)], [wide])[0], abs=1e-4)
    assert numerals.decode_target(wide) == numerals.to_chinese(number)
    for beam in wide_steps:
        scores = [s for _, s, _ in beam]
        assert scores == sorted(scores, reverse=True)
        assert sum(not done for _, _, done in beam) <= 4


@pytest.mark.parametrize("which", ["trained", "untrained"])
def test_beam_steps_end_with_the_models_own_search(which, model, untrained):
    m = model if which == "trained" else untrained
    for number in (305, 2026, 100001):
        tokens, score, steps = exposure_bias.beam_steps(m, number, 3)
        (theirs,), (their_score,) = m.beam_search([numerals.source_ids(number)], beam_size=3,
                                                 return_scores=True)
        assert tokens == theirs
        assert score == pytest.approx(their_score, abs=1e-4)
        # The best output is one of the finished hypotheses kept along the way (or, at the
        # step limit, an open one of the last step).
        kept = [(t, s) for beam in steps for t, s, done in beam if done] + [
            (t, s) for t, s, _ in steps[-1]]
        assert any(t == tokens and s == pytest.approx(score) for t, s in kept)


def test_beam_search_finds_better_outputs_for_an_untrained_model(untrained):
    for number in (305, 2026):
        _, greedy_score, _ = exposure_bias.beam_steps(untrained, number, 1, max_len=6)
        _, beam_score, _ = exposure_bias.beam_steps(untrained, number, 4, max_len=6)
        assert beam_score >= greedy_score - 1e-6
    with pytest.raises(ValueError, match="beam_size"):
        exposure_bias.beam_steps(untrained, 5, beam_size=0)


def test_beam_vs_greedy_reports_every_beam_size(model):
    result = exposure_bias.beam_vs_greedy(model, [305, 1005, 30205], (1, 2))
    assert result["beam_size"] == [1, 2] and result["numbers"] == 3
    assert result["exact_match"] == [1.0, 1.0]
    assert result["changed"][0] == 0
    assert result["mean_log_prob"][1] >= result["mean_log_prob"][0] - 1e-6


def test_teacher_forced_attention_rows_are_distributions(model):
    maps = exposure_bias.teacher_forced_attention(model, 30205)
    layers, heads = model.config.num_decoder_layers, model.config.num_heads
    assert maps.shape == (layers, heads, len(numerals.to_chinese(30205)) + 1, 5)
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)


def test_undertrained_outputs_structure():
    result = exposure_bias.undertrained_outputs([2], [7, 305], attention_number=305,
                                              eval_numbers=4, beam_sizes=(1, 2))
    assert result["truth"] == ["七", "三百零五"]
    (run,) = result["runs"]
    assert run["steps"] == 2 and len(run["outputs"]) == 2
    assert np.array(run["cross_attention"]).shape == (2, 4, 5, 3)
    assert run["beam"]["beam_size"] == [1, 2]
    assert result["lr"] == 3e-3
    json.dumps(result)


# ------------------------------------------------------------- the data the chapters read


def test_ln_stability_data_supports_chapter_9():
    data = json.loads((DATA / "ln_stability.json").read_text(encoding="utf-8"))
    runs = data["runs"]
    lrs = sorted({r["lr"] for r in runs})
    assert len(lrs) >= 2
    for r in runs:
        assert len(r["step"]) == len(r["loss"]) > 0

    def final(norm_first, lr, warmup=1):
        return np.mean([r["loss"][-1] for r in runs if r["norm_first"] == norm_first
                        and r["lr"] == lr and r["warmup_steps"] == warmup])

    assert final(True, lrs[-1]) < 0.5 * final(False, lrs[-1])


def test_teacher_forcing_data_supports_chapter_12():
    data = json.loads((DATA / "teacher_forcing.json").read_text(encoding="utf-8"))
    teacher, free = data["modes"]["teacher"], data["modes"]["free"]
    assert teacher["eval_step"] == free["eval_step"]
    assert teacher["eval_loss"][-1] < free["eval_loss"][-1]
    assert teacher["exact_match"][-1] >= free["exact_match"][-1]
    assert free["seconds_per_step"] > 1.5 * teacher["seconds_per_step"]
    under = data["undertrained"]
    assert len(under["truth"]) == len(under["numbers"])
    for run in under["runs"]:
        acc = run["position_accuracy"]
        w = np.array(acc["count"])
        assert np.average(acc["free"], weights=w) <= np.average(acc["teacher"], weights=w) + 1e-9
        beam = run["beam"]
        assert beam["mean_log_prob"][-1] >= beam["mean_log_prob"][0] - 1e-6
        assert len(run["outputs"]) == len(under["numbers"])
        first = run["first_mistakes"]
        assert 0 <= first["fixed"] <= first["wrong"] <= first["numbers"]
        assert first["after_own"] <= first["after"] and first["after_true"] <= first["after"]

"""Tests of chapters 3–5's code: attnbook.labs.heads (the letter-digit task, the model,
ablations), attnbook.labs.extrapolation (the copy task and the extrapolation measurement),
the plots of attnbook.figures.plots, and the exercise checkers of chapters 3–5 in
attnbook.check."""

from __future__ import annotations

from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from attnbook import positional  # noqa: E402
from attnbook.labs import extrapolation, heads  # noqa: E402
from attnbook.layers import MultiHeadAttention, keep_weights  # noqa: E402

# ------------------------------------------------------------------------------ the task


def test_each_letter_occurs_twice_and_targets_are_right():
    task = heads.LetterDigitTask(num_letters=4, num_digits=7)
    batch = task.sample(50, seed=3)
    B, L = batch.letters.shape
    assert (B, L) == (50, 8) and task.length == 8
    for b in range(B):
        counts = torch.bincount(batch.letters[b], minlength=4)
        assert counts.tolist() == [2, 2, 2, 2]
        assert batch.previous[b, 0] == heads.IGNORE
        assert torch.equal(batch.previous[b, 1:], batch.digits[b, :-1])
        for i in range(L):
            j = int(batch.partner[b, i])
            assert j != i and batch.letters[b, j] == batch.letters[b, i]
            assert batch.match[b, i] == batch.digits[b, j]
    assert int(batch.digits.max()) < 7


def test_sampling_is_seeded():
    task = heads.LetterDigitTask()
    a, b = task.sample(8, seed=5), task.sample(8, seed=5)
    c = task.sample(8, seed=6)
    assert torch.equal(a.letters, b.letters) and torch.equal(a.digits, b.digits)
    assert not torch.equal(a.digits, c.digits)
    generator = torch.Generator().manual_seed(5)
    assert torch.equal(task.sample(8, generator=generator).digits, a.digits)


def test_tokens_are_letter_and_digit():
    batch = heads.LetterDigitTask(num_letters=3).sample(1, seed=0)
    tokens = batch.tokens(0)
    assert len(tokens) == 6
    assert all(t[0] in "ABC" and t[1:].isdigit() for t in tokens)


@pytest.mark.parametrize("kwargs", [{"num_letters": 1}, {"num_letters": 27},
                                    {"num_digits": 1}])
def test_task_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must be"):
        heads.LetterDigitTask(**kwargs)


def test_sample_rejects_empty_batch():
    with pytest.raises(ValueError, match="batch_size=0"):
        heads.LetterDigitTask().sample(0)


# ------------------------------------------------------------------------------ the model


@pytest.fixture(scope="module")
def trained():
    """The chapter's model, trained with the chapter's settings (a few seconds)."""
    task = heads.LetterDigitTask()
    model, losses = heads.train(task)
    return task, model, losses, task.sample(1000, seed=1)


def test_model_shapes_and_errors():
    task = heads.LetterDigitTask()
    model = heads.HeadsModel(task, heads.HeadsConfig(d_model=16, num_heads=2,
                                                     dim_feedforward=32))
    batch = task.sample(3, seed=0)
    previous, match = model(batch.letters, batch.digits)
    assert previous.shape == match.shape == (3, 10, 10)
    assert model.loss(batch).dim() == 0
    with pytest.raises(ValueError, match="must both be"):
        model(batch.letters, batch.digits[:, :5])
    longer = heads.LetterDigitTask(num_letters=6).sample(1, seed=0)
    with pytest.raises(ValueError, match="knows 10 positions"):
        model(longer.letters, longer.digits)


def test_training_is_deterministic_and_learns():
    config = replace(heads.HEADS_TRAINING, steps=20, batch_size=16)
    task = heads.LetterDigitTask()
    model_a, losses_a = heads.train(task, config=config)
    model_b, losses_b = heads.train(task, config=config)
    assert losses_a == losses_b
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert losses_a[-1] < losses_a[0]
    assert next(model_a.parameters()).dtype == torch.float64
    assert not model_a.training  # left in eval mode


def test_training_restores_the_thread_count():
    before = torch.get_num_threads()
    heads.train(config=replace(heads.HEADS_TRAINING, steps=1, batch_size=2, threads=1))
    assert torch.get_num_threads() == before


def test_train_config_is_validated():
    with pytest.raises(ValueError, match="steps must be >= 1"):
        heads.train(config=replace(heads.HEADS_TRAINING, steps=0))


def test_heads_specialise_as_the_chapter_says(trained):
    """Chapter 4's claims: near-perfect accuracy, one previous-token head whose removal costs
    the 'previous' question only, same-letter heads whose removal costs 'match' (each alone
    only part of it), and a mixed head that can go."""
    task, model, losses, test = trained
    assert losses[-1] < 0.05
    accuracy = heads.accuracy_by_question(model, test)
    assert accuracy["previous"] > 0.98 and accuracy["match"] > 0.98
    roles = heads.head_roles(heads.attention_weights(model, test), test)
    previous_heads = [h for h in range(4) if roles["previous"][h] > 0.5]
    match_heads = [h for h in range(4) if roles["match"][h] > 0.5]
    assert len(previous_heads) == 1 and match_heads
    with heads.ablate_heads(model, previous_heads):
        without = heads.accuracy_by_question(model, test)
    assert without["previous"] < 0.3 and without["match"] > 0.95
    with heads.ablate_heads(model, match_heads):
        without = heads.accuracy_by_question(model, test)
    assert without["match"] < 0.3 and without["previous"] > 0.95
    # The same-letter heads stand in for each other only in part: removing one costs some of
    # 'match', less than removing all of them.
    for h in match_heads:
        with heads.ablate_heads(model, [h]):
            alone = heads.accuracy_by_question(model, test)
        assert without["match"] < alone["match"] < accuracy["match"]
    # The remaining (mixed) head can go at no visible cost.
    for h in set(range(4)) - set(previous_heads) - set(match_heads):
        with heads.ablate_heads(model, [h]):
            assert min(heads.accuracy_by_question(model, test).values()) > 0.99


def test_ablation_zeroes_exactly_one_head_and_is_undone():
    torch.manual_seed(0)
    task = heads.LetterDigitTask()
    model = heads.HeadsModel(task).double().eval()
    x = torch.randn(2, 10, 32, dtype=torch.float64)
    attn = model.attn
    seen = []

    def observe(module, args):  # runs after the ablation's hook, which was registered first
        seen.append(args[0].detach().clone())

    with heads.ablate_heads(model, [1]):
        handle = attn.out_proj.register_forward_pre_hook(observe)
        attn(x, x, x)
    attn(x, x, x)
    handle.remove()
    ablated, full = seen
    d_head = attn.d_head
    assert torch.all(ablated[..., d_head:2 * d_head] == 0)
    assert torch.equal(ablated[..., :d_head], full[..., :d_head])
    assert torch.equal(ablated[..., 2 * d_head:], full[..., 2 * d_head:])
    assert not torch.all(full[..., d_head:2 * d_head] == 0)
    assert not attn.out_proj._forward_pre_hooks  # the hook is gone after the block


def test_ablating_every_head_leaves_only_the_bias():
    torch.manual_seed(0)
    attn = MultiHeadAttention(8, 4).double()
    x = torch.randn(1, 3, 8, dtype=torch.float64)
    model = torch.nn.Module()
    model.attn = attn
    with heads.ablate_heads(model, range(4)):
        out, _ = attn(x, x, x)
    assert torch.allclose(out, attn.out_proj.bias.expand(1, 3, 8))


def test_ablate_heads_rejects_missing_heads():
    model = heads.HeadsModel(heads.LetterDigitTask())
    with pytest.raises(ValueError, match=r"heads \[4\] do not exist"):
        with heads.ablate_heads(model, [0, 4]):
            pass


def test_attention_weights_are_distributions(trained):
    task, model, _, test = trained
    weights = heads.attention_weights(model, test)
    assert weights.shape == (1000, 4, 10, 10)
    assert torch.allclose(weights.sum(-1), torch.ones(1000, 4, 10, dtype=weights.dtype))


def test_head_roles_on_made_up_weights():
    batch = heads.LetterDigitTask(num_letters=3).sample(4, seed=0)
    B, L = batch.letters.shape
    weights = torch.zeros(B, 3, L, L, dtype=torch.float64)
    rows = torch.arange(L)
    weights[:, 0, rows[1:], rows[1:] - 1] = 1.0  # head 0: the previous token
    weights[:, 0, 0, 0] = 1.0
    for b in range(B):  # head 1: the partner
        weights[b, 1, rows, batch.partner[b]] = 1.0
    weights[:, 2] = torch.eye(L)  # head 2: itself
    roles = heads.head_roles(weights, batch)
    assert roles["previous"].tolist()[0] == pytest.approx(1.0)
    assert roles["match"].tolist()[1] == pytest.approx(1.0)
    assert roles["itself"].tolist()[2] == pytest.approx(1.0)
    assert roles["previous"][2] == pytest.approx(0.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_training_runs_on_a_gpu():
    model, losses = heads.train(config=replace(heads.HEADS_TRAINING, steps=5, batch_size=8),
                                device="cuda")
    assert next(model.parameters()).is_cuda
    batch = heads.LetterDigitTask().sample(4, seed=0)
    assert set(heads.accuracy_by_question(model, batch)) == {"previous", "match"}
    assert heads.attention_weights(model, batch).is_cuda
    copy, _ = extrapolation.train_copy_model(
        "rope", config=replace(extrapolation.COPY_TRAINING, steps=5, batch_size=8),
        device="cuda")
    assert extrapolation.extrapolation(copy, extrapolation.CopyTask(), length=20)


# ------------------------------------------------------------------------------ positions


def test_copy_task_targets():
    task = extrapolation.CopyTask(vocab_size=5, offset=2, train_length=6)
    tokens, targets = task.sample(4, seed=0)
    assert tokens.shape == targets.shape == (4, 6)
    assert torch.all(targets[:, :2] == heads.IGNORE)
    assert torch.equal(targets[:, 2:], tokens[:, :-2])
    longer, _ = task.sample(2, length=30, seed=0)
    assert longer.shape == (2, 30)
    with pytest.raises(ValueError, match="longer than offset"):
        task.sample(2, length=2)
    with pytest.raises(ValueError, match="offset"):
        extrapolation.CopyTask(offset=0)


@pytest.mark.parametrize("encoding", extrapolation.ENCODINGS)
def test_copy_model_runs_with_every_encoding(encoding):
    task = extrapolation.CopyTask()
    model = extrapolation.CopyModel(task, encoding)
    tokens, _ = task.sample(3, length=20, seed=0)
    assert model(tokens).shape == (3, 20, 16)
    with keep_weights(model):
        model(tokens)
    assert model.attn.weights.shape == (3, 1, 20, 20)


def test_copy_model_rejects_unknown_encoding():
    with pytest.raises(ValueError, match="not one of"):
        extrapolation.CopyModel(extrapolation.CopyTask(), "alibi")


def test_without_positions_the_model_is_permutation_equivariant():
    """Claim 7 on the model itself: shuffle the tokens and the logits are shuffled too."""
    torch.manual_seed(0)
    task = extrapolation.CopyTask()
    perm = torch.randperm(12)
    tokens, _ = task.sample(2, length=12, seed=0)
    plain = extrapolation.CopyModel(task, "none").double()
    assert torch.allclose(plain(tokens[:, perm]), plain(tokens)[:, perm])
    for encoding in ("learned", "sinusoidal", "rope"):
        model = extrapolation.CopyModel(task, encoding).double()
        assert not torch.allclose(model(tokens[:, perm]), model(tokens)[:, perm])


def test_rope_scores_depend_only_on_the_offset():
    rope = positional.RotaryEmbedding(8)
    q, k = torch.randn(2, 8, dtype=torch.float64)
    scores = rope(q.expand(12, 8)) @ rope(k.expand(12, 8)).T
    for offset in range(-11, 12):
        diagonal = torch.diagonal(scores, offset)
        assert torch.allclose(diagonal, diagonal[0].expand_as(diagonal))


def test_extrapolation_as_the_chapter_says():
    """Chapter 5's measurement: learned positions fail beyond the training length, RoPE does
    not; both solve the trained length."""
    task = extrapolation.CopyTask()
    results = {}
    for encoding in ("learned", "rope"):
        model, losses = extrapolation.train_copy_model(encoding, task)
        assert losses[-1] < 0.05
        results[encoding] = extrapolation.extrapolation(model, task, length=48)
    assert results["learned"]["trained length"] > 0.98
    assert results["learned"]["new positions"] < 0.2
    assert results["rope"]["trained length"] > 0.98
    assert results["rope"]["new positions"] > 0.9


def test_accuracy_by_position_and_extrapolation_keys():
    task = extrapolation.CopyTask(train_length=8)
    model = extrapolation.CopyModel(task, "sinusoidal").double()
    accuracy = extrapolation.accuracy_by_position(model, task, 12)
    assert accuracy.shape == (12,)
    assert torch.isnan(accuracy[0]) and not torch.isnan(accuracy[1:]).any()
    result = extrapolation.extrapolation(model, task, length=12)
    assert set(result) == {"trained length", "seen positions", "new positions"}
    assert all(0.0 <= v <= 1.0 for v in result.values())
    with pytest.raises(ValueError, match="must exceed"):
        extrapolation.extrapolation(model, task, length=8)


def test_most_common_guess_follows_its_rule():
    """The guess is each sequence's most common token (ties: the smallest), scored where a
    target exists; on the same sequences as accuracy_by_position."""
    task = extrapolation.CopyTask(vocab_size=3, offset=1, train_length=4)
    tokens, targets = task.sample(40, 9, seed=5)
    hits = []
    for row, target in zip(tokens.tolist(), targets.tolist(), strict=True):
        guess = max(range(3), key=lambda t: (row.count(t), -t))
        hits += [t == guess for t in target[1:]]
    expected = sum(hits) / len(hits)
    assert extrapolation.most_common_guess(task, 9, batch_size=40, seed=5) == pytest.approx(
        expected)


def test_most_common_guess_fades_with_length():
    """Longer sequences spread the counts: guessing the most common token helps less."""
    task = extrapolation.CopyTask()
    short = extrapolation.most_common_guess(task, 16)
    long = extrapolation.most_common_guess(task, 48)
    assert 1 / task.vocab_size < long < short < 0.5


def test_attention_weights_and_attention_on_source():
    task = extrapolation.CopyTask(train_length=8)
    for encoding in extrapolation.ENCODINGS:
        torch.manual_seed(0)
        model = extrapolation.CopyModel(task, encoding).double()
        tokens, _ = task.sample(5, 12, seed=2)
        weights = extrapolation.attention_weights(model, tokens)
        assert weights.shape == (5, 12, 12)
        assert torch.allclose(weights.sum(-1), torch.ones(5, 12, dtype=weights.dtype))
        seen = extrapolation.attention_on_source(model, task, 12, batch_size=5, seed=2)
        top = weights.argmax(-1)
        assert torch.equal(seen["on_source"][:, 1:], top[:, 1:] == torch.arange(11))
        assert not seen["on_source"][:, 0].any() and not seen["correct"][:, 0].any()
        accuracy = extrapolation.accuracy_by_position(model, task, 12, batch_size=5, seed=2)
        assert torch.allclose(seen["correct"][:, 1:].double().mean(0), accuracy[1:])


def test_a_trained_model_is_right_where_it_looks_at_the_source():
    """Chapter 5's explanation of the sinusoidal model's waves: at new positions it is right
    mostly where its largest weight is on the previous token."""
    task = extrapolation.CopyTask()
    model, _ = extrapolation.train_copy_model("sinusoidal", task)
    seen = extrapolation.attention_on_source(model, task, 48)
    on, correct = seen["on_source"][:, 16:], seen["correct"][:, 16:]
    assert 0.1 < on.double().mean() < 0.9  # some waves up, some down
    assert correct[on].double().mean() > 0.7 > 0.3 > correct[~on].double().mean()

"""Teacher forcing against free running, greedy decoding against beam search, and what an
under-trained model gets wrong.

Introduced in chapter 12. The teacher-forcing loss written out (:func:`shift_right`,
:func:`sequence_cross_entropy`); its alternative, free running, where the decoder reads its
own guesses (:func:`free_running_loss`); both trained side by side (:func:`train_decoder`);
exposure bias measured position by position (:func:`position_accuracy`) and what follows a
model's first mistake (:func:`first_mistakes`); beam search's kept
beams step by step (:func:`beam_steps`) and against greedy decoding (:func:`beam_vs_greedy`);
and models trained for only a few steps (:func:`undertrained_outputs`). The training runs take
minutes, so ``benchmarks/teacher_forcing.py`` runs them once and saves JSON into
``src/attnbook/data/measurements/`` for the chapter to plot. Everything is seeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from attnbook import numerals, training
from attnbook import translate as _translate
from attnbook.labs import UNIFORM_DRAWS
from attnbook.layers import keep_weights
from attnbook.model import Transformer, TransformerConfig, greedy_search
from attnbook.training import TrainConfig

__all__ = [
    "beam_steps",
    "beam_vs_greedy",
    "first_mistakes",
    "free_running_inputs",
    "free_running_loss",
    "position_accuracy",
    "sequence_cross_entropy",
    "shift_right",
    "teacher_forced_attention",
    "train_decoder",
    "undertrained_outputs",
]


def shift_right(target: Sequence[int], begin: int = numerals.BEGIN,
                end: int = numerals.END) -> tuple[list[int], list[int]]:
    """The decoder's input and labels for one target under teacher forcing (教师强制).

    Introduced in chapter 12. ``target`` is the answer's token ids without BEGIN and END;
    the input is ``[begin, *target]`` and the labels ``[*target, end]``: at every position
    the decoder reads the ground truth so far and must predict the next token.
    """
    target = [int(t) for t in target]
    return [int(begin), *target], [*target, int(end)]


def sequence_cross_entropy(logits: torch.Tensor, labels: torch.Tensor,
                           pad_id: int = numerals.PAD) -> torch.Tensor:
    """The mean cross-entropy of ``logits [B, T, V]`` against ``labels [B, T]``, padding
    excluded.

    Introduced in chapter 12: the teacher-forcing loss of :meth:`Transformer.loss
    <attnbook.model.Transformer.loss>`, written with PyTorch's ``cross_entropy``.
    """
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=pad_id)


@torch.no_grad()
def free_running_inputs(model: Transformer, src: torch.Tensor, tgt: torch.Tensor,
                        src_mask: torch.Tensor | None = None,
                        memory: torch.Tensor | None = None) -> torch.Tensor:
    """The decoder's input when it reads its own guesses: ``[B, T-1]`` for ``tgt [B, T]``.

    Used in chapter 12 by :func:`free_running_loss`. Starts from BEGIN and appends, step by
    step, the model's most likely next token (never PAD), for as many steps as the targets are
    long; positions where the target is padding are padded too. Costs ``T-1`` decoder passes,
    one after another: the price of not knowing the next input before the previous output. The
    loop is :func:`attnbook.model.greedy_search`, run for a fixed number of steps.
    """
    c = model.config
    if src_mask is None:
        src_mask = model.src_padding_mask(src)
    if memory is None:
        memory = model.encode(src, src_mask)
    ys = greedy_search(lambda ys: model.decode(ys, memory, src_mask)[:, -1],  # (B, V): newest
                       c.bos_id, c.eos_id, tgt.shape[1] - 2, never=[c.pad_id],
                       batch=tgt.shape[0], stop_at_end=False, device=src.device)  # (B, T-1)
    return ys.masked_fill(tgt[:, :-1] == c.pad_id, c.pad_id)  # (B, T-1)


def free_running_loss(model: Transformer, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """The cross-entropy against the ground truth when the decoder reads its own guesses.

    Introduced in chapter 12 (free-running training, the alternative to teacher forcing). The
    guesses come from :func:`free_running_inputs` (no gradient flows through a choice); one
    more decoder pass on them, with gradients, scores every position against ``tgt[:, 1:]``.
    As the decoder is causal, that pass gives each position the output it had when it was
    decoded.
    """
    src_mask = model.src_padding_mask(src)
    memory = model.encode(src, src_mask)
    inputs = free_running_inputs(model, src, tgt, src_mask, memory.detach())
    logits = model.decode(inputs, memory, src_mask)  # (B, T-1, V)
    return sequence_cross_entropy(logits, tgt[:, 1:], model.config.pad_id)


def train_decoder(mode: str = "teacher", max_steps: int = 300, seed: int = 0,
                  batch_size: int = 128, lr: float = 3e-3, warmup_steps: int = 50,
                  eval_every: int = 50, eval_numbers: Sequence[int] | None = None,
                  config: TransformerConfig | None = None) -> tuple[Transformer, dict]:
    """Train the book's model with teacher forcing (``mode='teacher'``) or free running
    (``mode='free'``) and measure it along the way.

    Introduced in chapter 12. Both modes share everything but the decoder's input: the same
    data (:func:`attnbook.translate.make_datasets`), initial weights, optimizer and schedule as
    :func:`attnbook.translate.train` (AdamW, clipping at 1, warm-up then cosine decay; the
    loop is :func:`attnbook.training.train`). Every ``eval_every`` steps the log records the
    teacher-forced loss on a fixed batch of held-out numbers and the greedy exact match on
    ``eval_numbers`` (default: 200 held-out numbers). Returns ``(model, log)``.

    The log also times every training step: drawing the batch, the loss, backward, clipping
    and the update (evaluations excluded). ``log["seconds_per_step"]`` is their mean (what the
    run cost), ``log["median_seconds_per_step"]`` their median, which the first, slower step
    and moments when the machine was busy with other work move less.
    """
    if mode not in ("teacher", "free"):
        raise ValueError(f"mode must be 'teacher' or 'free', got {mode!r}")
    torch.manual_seed(seed)
    model = Transformer(config or _translate.default_config())
    data = _translate.make_datasets(seed, zero_heavy=UNIFORM_DRAWS)
    if eval_numbers is None:
        eval_numbers = data.heldout[::5]
    eval_numbers = list(eval_numbers)
    eval_src, eval_tgt = _translate.make_batch(eval_numbers, device=model.device)
    loss_fn: Callable = model.loss if mode == "teacher" else (
        lambda s, t: free_running_loss(model, s, t))
    settings = TrainConfig(steps=max_steps, lr=lr, optimizer="adamw", betas=(0.9, 0.98),
                           eps=1e-9, warmup_steps=warmup_steps, decay="cosine",
                           min_lr_ratio=0.02, clip=1.0, batch_size=batch_size, seed=seed)
    log: dict = {"mode": mode, "seed": seed, "max_steps": max_steps, "batch_size": batch_size,
                 "lr": lr, "warmup_steps": warmup_steps, "step": [], "train_loss": [],
                 "eval_step": [], "eval_loss": [], "exact_match": []}

    step_times: list[float] = []
    last_end = [0.0]  # when the previous step (or evaluation) ended

    def evaluate(step: int, loss: float | None = None) -> None:
        if step:  # on_step runs right after each step: the time since the last call is its own
            step_times.append(time.perf_counter() - last_end[0])
        if step and step % eval_every and step != max_steps:
            last_end[0] = time.perf_counter()
            return
        model.eval()
        with torch.no_grad():
            log["eval_loss"].append(round(float(model.loss(eval_src, eval_tgt)), 4))
        log["exact_match"].append(_translate.evaluate(model, eval_numbers))
        log["eval_step"].append(step)
        model.train()
        last_end[0] = time.perf_counter()

    def batch_loss() -> torch.Tensor:
        src, tgt = _translate.make_batch(data.sampler.sample(batch_size), device=model.device)
        return loss_fn(src, tgt)

    evaluate(0)
    run = training.train(model, batch_loss, settings, on_step=evaluate)
    log["step"], log["train_loss"] = run["curve"]["step"], run["curve"]["loss"]
    log["seconds_per_step"] = round(run["step_seconds"] / max_steps, 4)
    log["median_seconds_per_step"] = round(float(np.median(step_times)), 4)
    return model, log


@torch.no_grad()
def position_accuracy(model: Transformer, numbers: Sequence[int]) -> dict[str, list[float]]:
    """Token accuracy at each output position, with the true prefix and with the model's own.

    Introduced in chapter 12, to measure exposure bias. ``teacher``: the decoder reads the
    ground truth (as in training) and position t is right when its most likely token is the
    true one. ``free``: the decoder reads its own greedy choices (as when it is used), and
    position t is right when the t-th token it wrote is the true one. ``count`` is how many
    numbers have a position t (END included as the last position).
    """
    src, tgt = _translate.make_batch(numbers, device=model.device)
    labels = tgt[:, 1:]  # (B, T-1)
    real = labels != numerals.PAD
    teacher_out, free_out = _both_outputs(model, src, tgt)
    teacher, free = teacher_out == labels, free_out == labels
    count = real.sum(0)
    keep = count > 0

    def rate(right):
        return [round(x, 4) for x in ((right & real).sum(0) / count.clamp(min=1))[keep].tolist()]

    return {"teacher": rate(teacher), "free": rate(free), "count": count[keep].tolist()}


@torch.no_grad()
def _both_outputs(model: Transformer, src: torch.Tensor,
                  tgt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The most likely token at every label position ``[B, T-1]``, reading the true prefix
    (teacher-forced) and reading the model's own greedy outputs (free running)."""
    was_training = model.training
    model.eval()
    try:
        teacher = model(src, tgt[:, :-1]).argmax(-1)  # (B, T-1)
        free_in = free_running_inputs(model, src, tgt)  # (B, T-1)
        last = model(src, free_in)[:, -1]  # (B, V): the last position's output
        last[:, numerals.PAD] = float("-inf")
        free = torch.cat([free_in[:, 1:], last.argmax(-1, keepdim=True)], dim=1)
    finally:
        model.train(was_training)
    return teacher, free


@torch.no_grad()
def first_mistakes(model: Transformer, numbers: Sequence[int]) -> dict[str, int]:
    """What follows a model's first mistake: do its later mistakes come from the first?

    Introduced in chapter 12, to measure how mistakes compound. The model translates each
    number greedily (reading its own outputs). Up to its first wrong token it has read the
    true prefix, so that token is also its teacher-forced guess; everything after it was
    decoded from a wrong prefix. For the outputs with a mistake, this replaces the first wrong
    token by the true one and lets greedy decoding continue from there.

    Returns counts: ``numbers``; ``wrong``, the outputs with a mistake; ``fixed``, those of
    them that come out entirely right once the first mistake is corrected (their later
    mistakes were caused by the first); and over the label positions after each first
    mistake (END included, position by position as in :func:`position_accuracy`): ``after``,
    how many there are, ``after_own``, how many of them the model's own output gets right,
    and ``after_true``, how many it gets right reading the true prefix (teacher-forced).
    """
    src, tgt = _translate.make_batch(numbers, device=model.device)
    labels = tgt[:, 1:]  # (B, T-1)
    real = labels != numerals.PAD
    teacher, free = _both_outputs(model, src, tgt)
    own_wrong = (free != labels) & real
    wrong = own_wrong.any(1)  # (B,)
    first = own_wrong.int().argmax(1)  # (B,): the first wrong position (0 where none)
    positions = torch.arange(labels.shape[1], device=labels.device)
    after = real & wrong[:, None] & (positions[None] > first[:, None])  # (B, T-1)

    was_training = model.training
    model.eval()
    try:
        src_mask = model.src_padding_mask(src)
        memory = model.encode(src, src_mask)

        def corrected(ys: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, V)
            logits = model.decode(ys, memory, src_mask)[:, -1].clone()
            t = ys.shape[1] - 1  # the label position being decoded
            if t < labels.shape[1]:
                force = wrong & (first == t)  # (B,): here the model made its first mistake
                logits[force] = float("-inf")
                logits[force, labels[force, t]] = 0.0
            return logits

        ys = greedy_search(corrected, numerals.BEGIN, numerals.END, labels.shape[1],
                           never=[numerals.PAD], batch=len(numbers), pad=numerals.PAD,
                           device=src.device)  # (B, 1 + steps)
    finally:
        model.train(was_training)
    fixed = 0
    for i in wrong.nonzero()[:, 0].tolist():
        out = ys[i, 1:].tolist()
        out = out[:out.index(numerals.END)] if numerals.END in out else None
        fixed += out == numerals.target_ids(numbers[i])
    return {"numbers": len(numbers), "wrong": int(wrong.sum()), "fixed": int(fixed),
            "after": int(after.sum()), "after_own": int((after & (free == labels)).sum()),
            "after_true": int((after & (teacher == labels)).sum())}


def beam_steps(model: Transformer, number: int, beam_size: int = 4,
               max_len: int | None = None) -> tuple[list[int], float, list[list[tuple]]]:
    """Beam search (束搜索) for one number, with the beams it kept at every step.

    Introduced in chapter 12. The search is :meth:`Transformer.beam_search
    <attnbook.model.Transformer.beam_search>`: it keeps the ``beam_size`` most probable
    partial outputs (hypotheses); at each step every hypothesis is extended by every token
    (never PAD) and the best extensions are kept, in order of score, until ``beam_size`` open
    hypotheses are found; an extension by END that ranks before then is a finished output. A
    hypothesis's score is the sum of its tokens' log-probabilities, END included. The search
    stops when the best finished output scores at least as high as the best open hypothesis,
    or after ``max_len`` tokens. ``beam_size=1`` is greedy decoding.

    Returns ``(tokens, score, steps)``: the best output's token ids (without BEGIN and END),
    its score, and for each step the list of ``(tokens, score, finished)`` kept at that step.
    """
    # Without the cache each step runs the decoder on the whole prefix, as the notes do (the
    # scores then agree with the chapter's to the last digit).
    (tokens,), (score,), (steps,) = model.beam_search(
        [numerals.source_ids(number)], beam_size, max_len, return_scores=True,
        return_steps=True, use_cache=False)
    return tokens, score, steps


def beam_vs_greedy(model: Transformer, numbers: Sequence[int],
                   beam_sizes: Sequence[int] = (1, 2, 4, 8)) -> dict:
    """Exact match and mean log-probability of the outputs, for each beam size.

    Not used by a chapter: ``benchmarks/teacher_forcing.py`` runs it and chapter 12 shows the
    saved result. Beam size 1 is greedy decoding; the search is :meth:`Transformer.beam_search
    <attnbook.model.Transformer.beam_search>`. For each beam size: the exact match on
    ``numbers``, the mean log-probability of the chosen outputs (END included), how many
    outputs differ from greedy's, and how many of those are right.
    """
    truth = [numerals.to_chinese(n) for n in numbers]
    sources = [numerals.source_ids(n) for n in numbers]
    out = {"numbers": len(numbers), "beam_size": [], "exact_match": [], "mean_log_prob": [],
           "changed": [], "changed_right": []}
    greedy = None
    for k in beam_sizes:
        tokens, scores = model.beam_search(sources, k, return_scores=True, use_cache=False)
        if greedy is None:
            greedy = model.beam_search(sources, 1, use_cache=False) if k != 1 else tokens
        texts = [numerals.decode_target(t) for t in tokens]
        changed = [i for i, t in enumerate(tokens) if t != greedy[i]]
        out["beam_size"].append(k)
        out["exact_match"].append(float(np.mean([a == b for a, b in zip(texts, truth,
                                                                         strict=True)])))
        out["mean_log_prob"].append(round(float(np.mean(scores)), 4))
        out["changed"].append(len(changed))
        out["changed_right"].append(sum(texts[i] == truth[i] for i in changed))
    return out


@torch.no_grad()
def teacher_forced_attention(model: Transformer, number: int) -> np.ndarray:
    """The cross attention of every decoder layer and head on one number, teacher-forced.

    Introduced in chapter 12. The decoder reads BEGIN and the true characters; returns
    ``(layers, heads, characters + 1, digits)``: row t is where the decoder looked to predict
    the token after its t-th input.
    """
    src, tgt = _translate.make_batch([number], device=model.device)
    with keep_weights(model.decoder):
        model(src, tgt[:, :-1])
        maps = [layer.cross_attn.weights[0].double().cpu().numpy() for layer in model.decoder]
    return np.stack(maps)  # (L, h, T, S)


def undertrained_outputs(steps: Sequence[int], numbers: Sequence[int], seed: int = 0,
                         attention_number: int | None = None, eval_numbers: int = 200,
                         beam_sizes: Sequence[int] = (), lr: float = 3e-3) -> dict:
    """Train the book's model for each number of steps in ``steps`` and record what it does.

    Introduced in chapter 12: what an under-trained model gets wrong. Each model is
    :func:`attnbook.translate.train` run for exactly that many steps at learning rate ``lr``
    (its warm-up and cosine decay fitted to the shorter run). Returns a JSON-ready dict: for
    each run its ``steps``, ``final_loss``, the greedy ``outputs`` on ``numbers``, and on
    ``eval_numbers`` held-out numbers (every length alike) the ``exact_match``, the
    :func:`position_accuracy` (exposure bias) and :func:`first_mistakes` (how mistakes
    compound); with ``beam_sizes``, :func:`beam_vs_greedy` on 100 of them; with
    ``attention_number``, the teacher-forced cross attention on it
    (:func:`teacher_forced_attention`, rounded to 3 decimals).
    """
    heldout = _translate.heldout_numbers()
    held = heldout[::max(1, len(heldout) // eval_numbers)][:eval_numbers]
    runs = []
    for n_steps in steps:
        model, log = _translate.train(seconds=None, max_steps=n_steps, seed=seed, lr=lr,
                                      print_fn=None, device="cpu", zero_heavy=UNIFORM_DRAWS)
        run = {"steps": n_steps,
               "final_loss": log["curve"]["loss"][-1] if log["curve"]["loss"] else None,
               "outputs": _translate.translate(model, numbers),
               "exact_match": _translate.evaluate(model, held),
               "position_accuracy": position_accuracy(model, held),
               "first_mistakes": first_mistakes(model, held)}
        if beam_sizes:
            run["beam"] = beam_vs_greedy(model, held[::max(1, len(held) // 100)][:100],
                                         beam_sizes)
        if attention_number is not None:
            run["cross_attention"] = np.round(
                teacher_forced_attention(model, attention_number), 3).tolist()
        runs.append(run)
    return {"numbers": list(numbers), "truth": [numerals.to_chinese(n) for n in numbers],
            "attention_number": attention_number, "eval_numbers": len(held), "lr": lr,
            "runs": runs}

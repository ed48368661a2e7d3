"""The measured experiments of chapters 8, 9 and 12, too long to write in a notebook cell.

Introduced in chapter 8 (the three kinds of output, probed on the trained encoder), chapter 9
(the encoder block traced on real activations; post-LN against pre-LN) and chapter 12
(teacher forcing against free-running training; greedy decoding against beam search; what an
under-trained model gets wrong).

The chapters run the quick parts live, on the model shipped with the package
(:func:`attnbook.translate.load_book_model`). The training sweeps take minutes, so
``benchmarks/ln_stability.py`` and ``benchmarks/teacher_forcing.py`` run them once, with the
functions here, and save JSON into ``src/attnbook/data/measurements/`` for the chapters to plot.
Everything is seeded: the same call gives the same numbers on the same machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from attnbook import numerals
from attnbook import translate as _translate
from attnbook.layers import EncoderLayer, keep_weights
from attnbook.model import Transformer, TransformerConfig, pad_batch

__all__ = [
    "PROBE_TASKS",
    "beam_search",
    "beam_vs_greedy",
    "digit_read_labels",
    "encoder_block_trace",
    "encoder_trace",
    "free_running_inputs",
    "free_running_loss",
    "gradient_norms",
    "ln_stability_run",
    "multilabel_target",
    "position_accuracy",
    "probe_encoder",
    "sequence_cross_entropy",
    "shift_right",
    "teacher_forced_attention",
    "train_decoder",
    "undertrained_outputs",
]

UNIFORM_DRAWS = 0.0
"""The experiments here draw training numbers uniformly by length (``zero_heavy=0`` in
:class:`attnbook.translate.NumberSampler`): the saved measurements of chapters 9 and 12 were
made that way, before the command's sampler added zero-heavy draws, and the benchmark scripts
reproduce them exactly."""


# ------------------------------------------------------------------------------- chapter 8


def multilabel_target(labels: Sequence[str], vocab: Sequence[str], end: str = "END") -> list[int]:
    """A set of labels as a seq2seq target: their ids in vocabulary order, then END's id.

    Introduced in chapter 8 (multi-label classification, 多标签分类, as sequence to
    sequence). ``vocab`` lists every label and ``end``; repeated labels count once. A label
    not in ``vocab`` raises a ``ValueError``.
    """
    index = {name: i for i, name in enumerate(vocab)}
    if end not in index:
        raise ValueError(f"the vocabulary has no end token {end!r}")
    unknown = [x for x in labels if x not in index]
    if unknown:
        raise ValueError(f"labels {unknown} are not in the vocabulary")
    return sorted({index[x] for x in labels}) + [index[end]]


def digit_read_labels(n: int) -> list[int]:
    """For each digit of ``n``: 1 when its digit character (一 … 九) is written in
    ``to_chinese(n)``, else 0.

    Introduced in chapter 8, as the one-label-per-vector task of the encoder probe. Zeros are
    not read as digits, and a leading 1 in a tens place is read 十 without 一 (``15`` →
    十五, ``100000`` → 十万), so the label depends on the digit's place, not only its value.
    """
    digits = str(numerals.check_number(n))
    out = []
    for i, ch in enumerate(digits):
        place = len(digits) - 1 - i  # 0 = ones, 1 = tens, ...
        silent = ch == "0" or (i == 0 and ch == "1" and place % 4 == 1)
        out.append(0 if silent else 1)
    return out


PROBE_TASKS = {
    "digit is read": "one label per vector: is this digit written as a character?",
    "output length": "one label per sequence: how many characters has the numeral?",
}
"""The two probe tasks of chapter 8, besides translation itself."""


@torch.no_grad()
def _memory(model: Transformer, numbers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's output for each number: (vectors of every real digit (N_digits, d),
    one mean vector per number (N, d))."""
    src = pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD)
    mask = src != numerals.PAD  # (B, S)
    memory = model.encode(src).double()  # (B, S, d)
    per_digit = memory[mask].numpy()  # (N_digits, d), digits in reading order
    keep = mask[..., None].double()
    pooled = ((memory * keep).sum(1) / keep.sum(1)).numpy()  # (B, d)
    return per_digit, pooled


def _least_squares_classifier(x: np.ndarray, y: np.ndarray, classes: int,
                              ridge: float = 1e-3) -> np.ndarray:
    """Weights (d + 1, classes) of a linear classifier fit to one-hot targets (ridge)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    target = np.eye(classes)[y]
    gram = xb.T @ xb + ridge * len(x) * np.eye(xb.shape[1])
    return np.linalg.solve(gram, xb.T @ target)


def _predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (np.hstack([x, np.ones((len(x), 1))]) @ w).argmax(1)


def probe_encoder(model: Transformer, train_numbers: Sequence[int],
                  test_numbers: Sequence[int]) -> dict[str, dict[str, float]]:
    """Linear probes on the frozen encoder: the three kinds of output of chapter 1, measured.

    Introduced in chapter 8. Two linear classifiers are fit by least squares to the trained
    encoder's output on ``train_numbers``: one label per digit vector (:func:`digit_read_labels`)
    and one label per number (the numeral's length, from the mean of its vectors). The third
    kind, a sequence whose length the model decides, is the translation itself. Returns
    ``{task: {"train": accuracy, "test": accuracy, "baseline": accuracy}}`` on ``test_numbers``,
    where the baseline is the best constant answer (the commonest label of the test set);
    ``"translation"`` has the decoder's exact match on ``test_numbers``.
    """
    def labels(numbers):
        read = np.array([b for n in numbers for b in digit_read_labels(n)])
        length = np.array([len(numerals.to_chinese(n)) for n in numbers])
        return read, length

    tr_digit, tr_pool = _memory(model, train_numbers)
    te_digit, te_pool = _memory(model, test_numbers)
    tr_read, tr_len = labels(train_numbers)
    te_read, te_len = labels(test_numbers)
    out = {}
    for task, xtr, ytr, xte, yte, classes in [
        ("digit is read", tr_digit, tr_read, te_digit, te_read, 2),
        ("output length", tr_pool, tr_len, te_pool, te_len, numerals.MAX_TARGET_LEN + 1),
    ]:
        w = _least_squares_classifier(xtr, ytr, classes)
        out[task] = {"train": float((_predict(w, xtr) == ytr).mean()),
                     "test": float((_predict(w, xte) == yte).mean()),
                     "baseline": float(np.bincount(yte).max() / len(yte))}
    correct = [t == numerals.to_chinese(n)
               for n, t in zip(test_numbers, _translate.translate(model, test_numbers),
                               strict=True)]
    out["translation"] = {"test": float(np.mean(correct))}
    return out


# ------------------------------------------------------------------------------- chapter 9


def encoder_block_trace(layer: EncoderLayer, x: torch.Tensor,
                        mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Every intermediate vector of one encoder block (编码器), in the order it computes them.

    Introduced in chapter 9. For a post-LN block (``layer.norm_first=False``, the notes):
    ``input``, ``attention`` (the self-attention's output), ``residual 1`` (input +
    attention), ``norm 1``, ``feed forward``, ``residual 2``, ``norm 2`` (the output). For a
    pre-LN block: ``input``, ``norm 1``, ``attention``, ``residual 1``, ``norm 2``,
    ``feed forward``, ``residual 2`` (the output). Each is ``[B, L, d_model]``. The last one
    equals ``layer(x, mask)`` in eval mode (a ``RuntimeError`` says so if not).
    """
    with torch.no_grad():
        def attend(h):
            return layer.self_attn(h, h, h, mask, need_weights=False)[0]

        out: dict[str, torch.Tensor] = {"input": x}
        if layer.norm_first:
            out["norm 1"] = layer.norm1(x)
            out["attention"] = attend(out["norm 1"])
            out["residual 1"] = x + out["attention"]
            out["norm 2"] = layer.norm2(out["residual 1"])
            out["feed forward"] = layer.feed_forward(out["norm 2"])
            out["residual 2"] = out["residual 1"] + out["feed forward"]
            last = out["residual 2"]
        else:
            out["attention"] = attend(x)
            out["residual 1"] = x + out["attention"]
            out["norm 1"] = layer.norm1(out["residual 1"])
            out["feed forward"] = layer.feed_forward(out["norm 1"])
            out["residual 2"] = out["norm 1"] + out["feed forward"]
            out["norm 2"] = layer.norm2(out["residual 2"])
            last = out["norm 2"]
        if not layer.training:
            expected = layer(x, mask)
            if not torch.allclose(last, expected, atol=1e-5, rtol=1e-4):
                raise RuntimeError("the traced block differs from EncoderLayer.forward")
    return out


@torch.no_grad()
def encoder_trace(model: Transformer, number: int) -> list[dict[str, np.ndarray]]:
    """:func:`encoder_block_trace` of every encoder block of ``model`` on one number.

    Introduced in chapter 9. Returns one dict per layer; each value is a NumPy array
    ``(digits, d_model)``. The first layer's ``input`` is the embedded digits plus their
    positional encoding (no dropout: the model is put in eval mode).
    """
    was_training = model.training
    model.eval()
    try:
        src = torch.tensor([numerals.source_ids(number)])  # (1, S)
        mask = model.src_padding_mask(src)
        x = model.src_pos(model.src_embed(src) * math.sqrt(model.config.d_model))  # (1, S, d)
        traces = []
        for layer in model.encoder:
            trace = encoder_block_trace(layer, x, mask)
            traces.append({k: v[0].double().numpy() for k, v in trace.items()})
            x = layer(x, mask)
    finally:
        model.train(was_training)
    return traces


def gradient_norms(norm_first: bool, num_layers: int = 6, seed: int = 0,
                   batch_size: int = 128) -> dict[str, list[float]]:
    """The gradient norm of each block's weights at initialization, for post-LN or pre-LN.

    Introduced in chapter 9. A freshly initialized Transformer of the book's width with
    ``num_layers`` encoder and decoder blocks computes the teacher-forcing loss on one batch
    of the task; returns ``{"encoder": [...], "decoder": [...]}``, the L2 norm of the gradient
    of each block's parameters, first block first. Post-LN blocks near the output get larger
    gradients than those near the input, which is why post-LN needs a learning-rate warm-up
    (Xiong et al., 2020).
    """
    torch.manual_seed(seed)
    config = _translate.default_config(norm_first=norm_first, num_encoder_layers=num_layers,
                                       num_decoder_layers=num_layers)
    model = Transformer(config)
    numbers = _translate.make_datasets(seed, zero_heavy=UNIFORM_DRAWS).sampler.sample(batch_size)
    src, tgt = _translate.make_batch(numbers)
    model.loss(src, tgt).backward()

    def norm(block):
        return float(torch.sqrt(sum((p.grad ** 2).sum() for p in block.parameters())))

    return {"encoder": [norm(b) for b in model.encoder],
            "decoder": [norm(b) for b in model.decoder]}


def ln_stability_run(norm_first: bool, lr: float, warmup_steps: int = 1, max_steps: int = 300,
                     seed: int = 0, num_layers: int = 2, eval_numbers: int = 200) -> dict:
    """Train the book's model with post-LN or pre-LN blocks and return its loss curve.

    Introduced in chapter 9. The training is :func:`attnbook.translate.train` itself (the
    command's loop: AdamW, gradient clipping at 1, cosine decay) for exactly ``max_steps``
    steps, with ``warmup_steps=1`` meaning no warm-up. Returns a JSON-ready dict with the
    settings, ``step`` and ``loss`` (the mean loss of every 10 steps), and ``exact_match``
    on the first ``eval_numbers`` held-out numbers of every length (greedy decoding).
    """
    config = _translate.default_config(norm_first=norm_first, num_encoder_layers=num_layers,
                                       num_decoder_layers=num_layers)
    model, log = _translate.train(config, seconds=None, max_steps=max_steps, seed=seed,
                                  lr=lr, warmup_steps=warmup_steps, print_fn=None,
                                  device="cpu", zero_heavy=UNIFORM_DRAWS)
    heldout = _translate.heldout_numbers()
    step = max(1, len(heldout) // eval_numbers)
    accuracy = _translate.evaluate(model, heldout[::step][:eval_numbers])
    losses = [x if math.isfinite(x) else None for x in log["curve"]["loss"]]
    return {"norm_first": norm_first, "lr": lr, "warmup_steps": warmup_steps,
            "max_steps": max_steps, "seed": seed, "num_layers": num_layers,
            "step": log["curve"]["step"], "loss": losses, "exact_match": accuracy,
            "train_seconds": log["train_seconds"]}


# ------------------------------------------------------------------------------ chapter 12


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

    Introduced in chapter 12. Starts from BEGIN and appends, step by step, the model's most
    likely next token (never PAD), for as many steps as the targets are long; positions where
    the target is padding are padded too. Costs ``T-1`` decoder passes, one after another:
    the price of not knowing the next input before the previous output.
    """
    c = model.config
    if src_mask is None:
        src_mask = model.src_padding_mask(src)
    if memory is None:
        memory = model.encode(src, src_mask)
    ys = tgt[:, :1]  # (B, 1): BEGIN
    for _ in range(tgt.shape[1] - 2):
        logits = model.decode(ys, memory, src_mask)[:, -1]  # (B, V): the newest position
        logits[:, c.pad_id] = float("-inf")  # PAD is never chosen
        choice = logits.argmax(-1)
        ys = torch.cat([ys, choice[:, None]], dim=1)
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
    :func:`attnbook.translate.train` (AdamW, clipping at 1, warm-up then cosine decay). Every
    ``eval_every`` steps the log records the teacher-forced loss on a fixed batch of held-out
    numbers and the greedy exact match on ``eval_numbers`` (default: 200 held-out numbers).
    Returns ``(model, log)``; ``log["seconds_per_step"]`` is the mean training step time.
    """
    if mode not in ("teacher", "free"):
        raise ValueError(f"mode must be 'teacher' or 'free', got {mode!r}")
    torch.manual_seed(seed)
    model = Transformer(config or _translate.default_config())
    data = _translate.make_datasets(seed, zero_heavy=UNIFORM_DRAWS)
    if eval_numbers is None:
        eval_numbers = data.heldout[::5]
    eval_numbers = list(eval_numbers)
    eval_src, eval_tgt = _translate.make_batch(eval_numbers)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9,
                            weight_decay=0.0)
    loss_fn: Callable = model.loss if mode == "teacher" else (
        lambda s, t: free_running_loss(model, s, t))
    log: dict = {"mode": mode, "seed": seed, "max_steps": max_steps, "batch_size": batch_size,
                 "lr": lr, "warmup_steps": warmup_steps, "step": [], "train_loss": [],
                 "eval_step": [], "eval_loss": [], "exact_match": []}

    def evaluate(step):
        model.eval()
        with torch.no_grad():
            log["eval_loss"].append(round(float(model.loss(eval_src, eval_tgt)), 4))
        log["exact_match"].append(_translate.evaluate(model, eval_numbers))
        log["eval_step"].append(step)
        model.train()

    model.train()
    evaluate(0)
    window, seconds = [], 0.0
    for step in range(1, max_steps + 1):
        decay = 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (step - 1) / max_steps))
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, step / warmup_steps) * decay
        src, tgt = _translate.make_batch(data.sampler.sample(batch_size))
        t0 = time.perf_counter()
        loss = loss_fn(src, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        seconds += time.perf_counter() - t0
        window.append(loss.item())
        if step % 10 == 0:
            log["step"].append(step)
            log["train_loss"].append(round(sum(window) / len(window), 4))
            window = []
        if step % eval_every == 0 or step == max_steps:
            evaluate(step)
    model.eval()
    log["seconds_per_step"] = round(seconds / max_steps, 4)
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
    src, tgt = _translate.make_batch(numbers)
    labels = tgt[:, 1:]  # (B, T-1)
    real = labels != numerals.PAD
    was_training = model.training
    model.eval()
    try:
        teacher = model(src, tgt[:, :-1]).argmax(-1) == labels
        free_in = free_running_inputs(model, src, tgt)
        last = model(src, free_in)[:, -1]  # (B, V): the last position's output
        last[:, numerals.PAD] = float("-inf")
        free_out = torch.cat([free_in[:, 1:], last.argmax(-1, keepdim=True)], dim=1)
    finally:
        model.train(was_training)
    free = free_out == labels
    count = real.sum(0)
    keep = count > 0
    def rate(right):
        return [round(x, 4) for x in ((right & real).sum(0) / count.clamp(min=1))[keep].tolist()]

    return {"teacher": rate(teacher), "free": rate(free), "count": count[keep].tolist()}


@torch.no_grad()
def beam_search(model: Transformer, number: int, beam_size: int = 4,
                max_len: int | None = None) -> tuple[list[int], float, list[list[tuple]]]:
    """Beam search (束搜索) for one number, written out, keeping every step's beam.

    Introduced in chapter 12. The search keeps the ``beam_size`` most probable partial outputs
    (hypotheses). At each step every hypothesis is extended by every token (never PAD); of
    all extensions, the best ones are kept, in order of score, until ``beam_size`` open
    hypotheses are found; an extension by END that ranks before then is a finished output.
    A hypothesis's score is the sum of its tokens' log-probabilities, END included (the
    score of :meth:`Transformer.score <attnbook.model.Transformer.score>`). The search stops
    when the best finished output scores at least as high as the best open hypothesis (a
    log-probability is at most 0, so no open one can overtake it), or after ``max_len``
    tokens. ``beam_size=1`` is greedy decoding.

    Returns ``(tokens, score, steps)``: the best output's token ids (without BEGIN and END),
    its score, and for each step the list of ``(tokens, score, finished)`` kept at that step.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be a positive integer, got {beam_size!r}")
    c = model.config
    limit = c.max_len - 1 if max_len is None else max_len
    was_training = model.training
    model.eval()
    try:
        src = torch.tensor([numerals.source_ids(number)])  # (1, S)
        src_mask = model.src_padding_mask(src)
        memory = model.encode(src, src_mask)  # (1, S, d)
        alive: list[tuple[list[int], float]] = [([c.bos_id], 0.0)]
        finished: list[tuple[list[int], float]] = []
        steps = []
        for _ in range(limit):
            n = len(alive)
            ys = torch.tensor([t for t, _ in alive])  # (n, t + 1)
            logp = model.decode(ys, memory.expand(n, -1, -1),
                                src_mask.expand(n, -1, -1))[:, -1].log_softmax(-1)  # (n, V)
            logp[:, c.pad_id] = float("-inf")
            total = torch.tensor([s for _, s in alive])[:, None] + logp  # (n, V)
            values, flat = total.flatten().sort(descending=True)
            kept, new_alive = [], []
            for v, i in zip(values.tolist(), flat.tolist(), strict=True):
                beam, tok = divmod(i, logp.shape[1])
                if tok == c.eos_id:
                    finished.append((alive[beam][0][1:], v))
                    kept.append((alive[beam][0][1:], v, True))
                else:
                    new_alive.append((alive[beam][0] + [tok], v))
                    kept.append((alive[beam][0][1:] + [tok], v, False))
                if len(new_alive) == beam_size:
                    break
            steps.append(kept)
            alive = new_alive
            if finished and max(s for _, s in finished) >= alive[0][1]:
                break
        else:  # the step limit: open hypotheses end here, without END
            finished.extend((t[1:], s) for t, s in alive)
    finally:
        model.train(was_training)
    tokens, score = max(finished, key=lambda item: item[1])
    return tokens, score, steps


def beam_vs_greedy(model: Transformer, numbers: Sequence[int],
                   beam_sizes: Sequence[int] = (1, 2, 4, 8)) -> dict:
    """Exact match and mean log-probability of the outputs, for each beam size.

    Introduced in chapter 12. Beam size 1 is greedy decoding; the search is
    :func:`beam_search`. For each beam size: the exact match on ``numbers``, the mean
    log-probability of the chosen outputs (END included), how many outputs differ from
    greedy's, and how many of those are right.
    """
    truth = [numerals.to_chinese(n) for n in numbers]
    out = {"numbers": len(numbers), "beam_size": [], "exact_match": [], "mean_log_prob": [],
           "changed": [], "changed_right": []}
    greedy = None
    for k in beam_sizes:
        found = [beam_search(model, n, k)[:2] for n in numbers]
        tokens = [t for t, _ in found]
        if greedy is None:
            greedy = [beam_search(model, n, 1)[0] for n in numbers] if k != 1 else tokens
        texts = [numerals.decode_target(t) for t in tokens]
        changed = [i for i, t in enumerate(tokens) if t != greedy[i]]
        out["beam_size"].append(k)
        out["exact_match"].append(float(np.mean([a == b for a, b in zip(texts, truth,
                                                                         strict=True)])))
        out["mean_log_prob"].append(round(float(np.mean([s for _, s in found])), 4))
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
    src, tgt = _translate.make_batch([number])
    with keep_weights(model.decoder):
        model(src, tgt[:, :-1])
        maps = [layer.cross_attn.weights[0].double().numpy() for layer in model.decoder]
    return np.stack(maps)  # (L, h, T, S)


def undertrained_outputs(steps: Sequence[int], numbers: Sequence[int], seed: int = 0,
                         attention_number: int | None = None, eval_numbers: int = 200,
                         beam_sizes: Sequence[int] = (), lr: float = 3e-3) -> dict:
    """Train the book's model for each number of steps in ``steps`` and record what it does.

    Introduced in chapter 12: what an under-trained model gets wrong. Each model is
    :func:`attnbook.translate.train` run for exactly that many steps at learning rate ``lr``
    (its warm-up and cosine decay fitted to the shorter run). Returns a JSON-ready dict: for
    each run its ``steps``,
    ``final_loss``, the greedy ``outputs`` on ``numbers``, and on ``eval_numbers`` held-out
    numbers (every length alike) the ``exact_match`` and the :func:`position_accuracy`
    (exposure bias); with ``beam_sizes``, :func:`beam_vs_greedy` on 100 of them; with
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
               "position_accuracy": position_accuracy(model, held)}
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

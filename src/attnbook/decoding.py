"""Decoding step by step, for the views, and the measurements that set AT against NAT.

Introduced in chapter 10 (autoregressive decoding, 自回归, step by step; AT vs NAT) and used
again in chapter 11 (the cross attention of every step).

- :func:`greedy_loop` is the autoregressive loop on its own, for any function that gives the
  next token's distribution: start from BEGIN, choose, feed the choice back, stop at END.
- :func:`record_decoding` runs the trained :class:`attnbook.model.Transformer` through that
  loop on one number and keeps everything a view needs: each step's input, output
  distribution (概率分布) and choice, and the self-attention and cross-attention weights of
  every layer and head.
- :func:`decoding_view` and :func:`attention_view` turn records into the book's views.
- :func:`compare_at_nat` and :func:`time_decoding` measure the autoregressive (AT) and the
  non-autoregressive (NAT, 非自回归) model on the same numbers: accuracy against the number
  of decoder passes, and time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from attnbook import numerals
from attnbook.layers import keep_weights
from attnbook.model import NATransformer, Transformer, pad_batch

__all__ = [
    "DecodingRecord",
    "attention_view",
    "compare_at_nat",
    "cross_attention_agreement",
    "decoding_view",
    "greedy_loop",
    "median_seconds",
    "nat_passes",
    "plot_at_vs_nat",
    "record_decoding",
    "source_alignment",
    "time_decoding",
]


# ------------------------------------------------------------------------- the loop on its own


def greedy_loop(next_distribution: Callable[[list[int]], Sequence[float]], begin: int,
                end: int, max_len: int, never: Sequence[int] = ()) -> list[int]:
    """Greedy autoregressive decoding with any model: the token ids chosen, without BEGIN/END.

    Introduced in chapter 10. ``next_distribution(prefix)`` gets the decoder's input so far
    (a list of ids that starts with ``begin``) and returns a probability for every token id.
    At each step the most probable token (never one in ``never``, such as PAD) is chosen and
    appended to the input; decoding stops after choosing ``end`` or after ``max_len`` tokens.
    """
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    prefix = [begin]
    for _ in range(max_len):
        probs = np.array(next_distribution(list(prefix)), dtype=np.float64)  # (vocab,)
        if probs.ndim != 1:
            raise ValueError(f"next_distribution must return one number per token, got "
                             f"shape {probs.shape}")
        probs[list(never)] = -np.inf
        choice = int(probs.argmax())
        if choice == end:
            break
        prefix.append(choice)
    return prefix[1:]


# ------------------------------------------------------------------- a trained model, recorded


@dataclass(frozen=True)
class DecodingRecord:
    """Everything one greedy decoding of one source did, step by step.

    Introduced in chapter 10. Step ``t`` (0-based) read ``inputs[:t + 1]`` (BEGIN and the
    tokens chosen before) and chose ``choices[t]`` from the distribution ``probs[t]``. Row
    ``t`` of the attention arrays is the newest position's attention at step ``t``: what the
    decoder looked at to choose ``choices[t]``.
    """

    source: tuple[str, ...]  # the encoder's input tokens, e.g. ('1', '0', '0', '5')
    choices: tuple[int, ...]  # the token id chosen at each step (END last, if it ended)
    probs: np.ndarray  # (steps, tgt_vocab): each step's output distribution
    self_attention: np.ndarray  # (layers, heads, steps, steps): masked self-attention rows
    cross_attention: np.ndarray  # (layers, heads, steps, len(source)): cross-attention rows
    vocab: tuple[str, ...]  # the name of every target token id

    @property
    def steps(self) -> int:
        return len(self.choices)

    @property
    def inputs(self) -> list[str]:
        """The decoder's input tokens of the last step: BEGIN and every choice but the last."""
        return [self.vocab[numerals.BEGIN], *(self.vocab[c] for c in self.choices[:-1])]

    @property
    def outputs(self) -> list[str]:
        """Every chosen token, END included when it was chosen."""
        return [self.vocab[c] for c in self.choices]

    @property
    def text(self) -> str:
        """The decoded output as text (stops at END)."""
        return numerals.decode_target(self.choices)

    @property
    def ended(self) -> bool:
        """True when the decoder chose END (rather than hitting the step limit)."""
        return bool(self.choices) and self.choices[-1] == numerals.END

    def step_maps(self, kind: str = "cross") -> np.ndarray:
        """Attention for a step slider: ``(steps, layers, heads, steps, keys)``.

        Introduced in chapter 11. Map ``s`` shows what the decoder had computed by step
        ``s``: rows ``0..s`` (the steps so far) and zeros below them (not decoded yet).
        ``kind`` is ``'cross'`` (keys: the source tokens) or ``'self'`` (keys: the decoder's
        inputs).
        """
        if kind not in ("cross", "self"):
            raise ValueError(f"kind must be 'cross' or 'self', got {kind!r}")
        w = self.cross_attention if kind == "cross" else self.self_attention  # (L, h, T, K)
        shown = np.tril(np.ones((self.steps, self.steps)))  # (step, row): rows done by step
        return shown[:, None, None, :, None] * w[None]  # (steps, L, h, T, K)


@torch.no_grad()
def record_decoding(model: Transformer, number: int, max_len: int | None = None
                    ) -> DecodingRecord:
    """Greedy decoding of `number` by `model`, with every step's distribution and attention.

    Introduced in chapter 10. The loop is the one of :meth:`Transformer.greedy_decode` (and
    chooses the same tokens), written out so that each step's weights can be kept: at step
    ``t`` the decoder reads BEGIN and the ``t`` tokens chosen so far, and the last position's
    output is the distribution of the next token. Nothing is cached: every step runs the
    decoder on its whole input, as the notes describe it.
    """
    if not isinstance(model, Transformer):
        raise ValueError(f"record_decoding needs an autoregressive Transformer, got "
                         f"{type(model).__name__}")
    c = model.config
    limit = model._max_len(max_len)
    was_training = model.training
    model.eval()
    try:
        src = torch.tensor([numerals.source_ids(number)], device=model.device)  # (1, S)
        src_mask = model.src_padding_mask(src)  # (1, 1, S)
        memory = model.encode(src, src_mask)  # (1, S, d_model)
        ys = [c.bos_id]
        probs, self_rows, cross_rows = [], [], []
        with keep_weights(model.decoder):
            for _ in range(limit):
                tgt_in = torch.tensor([ys], device=model.device)  # (1, t + 1)
                logits = model.decode(tgt_in, memory, src_mask)[0, -1]  # (V,): newest position
                probs.append(logits.softmax(-1).cpu().double().numpy())
                self_rows.append([layer.self_attn.weights[0, :, -1].cpu().double().numpy()
                                  for layer in model.decoder])  # layers × (h, t + 1)
                cross_rows.append([layer.cross_attn.weights[0, :, -1].cpu().double().numpy()
                                   for layer in model.decoder])  # layers × (h, S)
                choice = int(logits.masked_fill(model._never, float("-inf")).argmax())
                ys.append(choice)
                if choice == c.eos_id:
                    break
    finally:
        model.train(was_training)
    steps, n_layers, n_heads = len(probs), len(model.decoder), c.num_heads
    self_w = np.zeros((n_layers, n_heads, steps, steps))  # (L, h, T, T): future stays 0
    for t, rows in enumerate(self_rows):
        for layer, row in enumerate(rows):
            self_w[layer, :, t, :t + 1] = row
    cross_w = np.stack([np.stack(rows) for rows in cross_rows], axis=2)  # (L, h, T, S)
    return DecodingRecord(
        source=tuple(str(number)), choices=tuple(ys[1:]), probs=np.stack(probs),
        self_attention=self_w, cross_attention=cross_w, vocab=tuple(numerals.TARGET_TOKENS),
    )


def decoding_view(records: Sequence[DecodingRecord], title: str = ""):
    """A :class:`~attnbook.widgets.decoding_view.DecodingView` of several records.

    Introduced in chapter 10: one button per number, a slider over its steps. The special
    tokens PAD, BEGIN and MASK get no bar, unless one of them was chosen.
    """
    from attnbook.widgets.decoding_view import DecodingView

    if not records:
        raise ValueError("decoding_view needs at least one record")
    examples = [("".join(r.source), r.probs, r.choices) for r in records]
    vocab = records[0].vocab
    chosen = {vocab[c] for r in records for c in r.choices}
    # PAD, BEGIN and MASK are left out of the bars, unless a (badly trained) model chose one.
    hide = [t for t in ("PAD", "BEGIN", "MASK") if t not in chosen]
    return DecodingView(examples, vocab, title=title, hide_tokens=hide)


def attention_view(record: DecodingRecord, kind: str = "cross", title: str = ""):
    """An :class:`~attnbook.widgets.AttentionMap` of one record with a decoding-step axis.

    Introduced in chapter 11 (``kind='cross'``: rows are the output tokens, columns the
    source digits) and chapter 10 (``kind='self'``: rows and columns the decoder's inputs).
    The axes are step, layer and head.
    """
    from attnbook.widgets import AttentionMap

    maps = record.step_maps(kind)  # (steps, L, h, T, K)
    steps, layers, heads = maps.shape[:3]
    labels = [[f"{t + 1}: {tok}" for t, tok in enumerate(record.outputs)],
              [str(i + 1) for i in range(layers)], [str(i + 1) for i in range(heads)]]
    if kind == "cross":
        return AttentionMap(maps, record.outputs, list(record.source),
                            axes=["step", "layer", "head"], axis_labels=labels, title=title,
                            row_name="output", col_name="digit", vmax=1.0)
    return AttentionMap(maps, record.inputs, axes=["step", "layer", "head"],
                        axis_labels=labels, title=title, row_name="input",
                        col_name="earlier input", vmax=1.0)


# ----------------------------------------------------------------- cross attention, measured


def source_alignment(n: int) -> list[int]:
    """For each character of ``to_chinese(n)``, the position of the digit of ``str(n)`` it
    comes from.

    Introduced in chapter 11, to say which digit cross attention *should* look at. A
    digit's character (一 … 九) and its unit (十 百 千) come from that digit; a 零 from the
    first zero of the run of zeros it stands for; 万 from the last non-zero digit of the
    万 part (三十万: 三, 十 and 万 all come from the 3).
    E.g. ``1005`` → 一千零五 → ``[0, 0, 1, 3]``.
    """
    n = numerals.check_number(n)
    if n == 0:
        return [0]
    length = len(str(n))
    out: list[int] = []

    def pos(place: int) -> int:  # place 0 = ones, 1 = tens, ...
        return length - 1 - place

    def part(value: int, base: int, first: bool) -> int:
        """The same walk as numerals._part, writing positions instead of characters;
        returns the position of the last digit read."""
        started, zero_at, last = False, None, -1
        for k in (3, 2, 1, 0):
            d, place = value // 10 ** k % 10, base + k
            if d == 0:
                if started and zero_at is None:
                    zero_at = place  # the zero that a 零 will stand for
                continue
            if zero_at is not None:
                out.append(pos(zero_at))
                zero_at = None
            out.append(pos(place))  # the digit's character (or a leading 十 on its own)
            if k and not (d == 1 and k == 1 and first and not started):
                out.append(pos(place))  # its unit: 十, 百 or 千
            started, last = True, pos(place)
        return last

    wan, rest = divmod(n, 10_000)
    if wan:
        out.append(part(wan, 4, first=True))  # 万
        if rest and rest < 1000:
            out.append(pos(3))  # the 零 that joins the two parts
        if rest:
            part(rest, 0, first=False)
    else:
        part(rest, 0, first=True)
    return out


_CHARACTER_KINDS = {
    "digits": set(numerals.DIGITS[1:]),  # 一 … 九: each translates one digit
    "units": set("十百千万"),  # say where a digit stands
    "zeros": {"零"},  # stand for a run of zeros
}


@torch.no_grad()
def cross_attention_agreement(model: Transformer, numbers: Sequence[int],
                              characters: str | None = "digits",
                              target: str = "aligned") -> np.ndarray:
    """How often each head's strongest cross attention is on the digit being translated.

    Introduced in chapter 11. For every number, the decoder reads the right characters so
    far (BEGIN and the correct output: one pass shows every step, as the causal mask makes
    each row equal to that step's); for each output character and each (layer, head), the
    source position with the largest weight is compared with :func:`source_alignment`.
    ``characters`` picks the output characters that count: ``'digits'`` (一 … 九, which
    translate one digit each), ``'units'`` (十 百 千 万), ``'zeros'`` (零) or ``None`` (all).
    ``target='last'`` compares with the number's last digit instead of the aligned one, and
    ``target='later'`` counts a hit when the largest weight is on any digit *after* the
    aligned one (to its right).
    Returns ``(layers, heads)``: the fraction of those characters where they agree. A head
    that looked at a random digit would agree about ``1 / digits`` of the time (for
    ``'later'``: the fraction of the digits that lie after the aligned one).
    """
    if target not in ("aligned", "last", "later"):
        raise ValueError(f"target must be 'aligned', 'last' or 'later', got {target!r}")
    if characters is not None and characters not in _CHARACTER_KINDS:
        raise ValueError(f"characters must be one of {sorted(_CHARACTER_KINDS)} or None, "
                         f"got {characters!r}")
    numbers = [numerals.check_number(n) for n in numbers]
    if not numbers:
        raise ValueError("cross_attention_agreement needs at least one number")
    src = _src(numbers)
    tgt_in = pad_batch([[numerals.BEGIN, *numerals.target_ids(n)] for n in numbers],
                       numerals.PAD)  # (B, T): the decoder reads BEGIN and the truth
    was_training = model.training
    model.eval()
    try:
        with keep_weights(model.decoder):
            src_mask = model.src_padding_mask(src)
            model.decode(tgt_in, model.encode(src, src_mask), src_mask)
            weights = torch.stack([layer.cross_attn.weights for layer in model.decoder])
    finally:
        model.train(was_training)
    strongest = weights.argmax(-1)  # (layers, B, heads, T): the digit each row looks at most
    hits = torch.zeros(strongest.shape[0], strongest.shape[2])
    total = 0
    for b, n in enumerate(numbers):
        text = numerals.to_chinese(n)
        where = [len(str(n)) - 1] * len(text) if target == "last" else source_alignment(n)
        goal = torch.tensor(where)  # (chars,): the digit each character should look at
        counted = torch.tensor([characters is None or ch in _CHARACTER_KINDS[characters]
                                for ch in text])  # (chars,)
        rows = strongest[:, b, :, : len(goal)]  # (layers, heads, chars); END's row left out
        agree = rows > goal if target == "later" else rows == goal  # (layers, heads, chars)
        hits += (agree & counted).float().sum(-1)
        total += int(counted.sum())
    if total == 0:
        raise ValueError(f"none of the numbers' outputs has a character of kind {characters!r}")
    return (hits / total).double().numpy()


# ------------------------------------------------------------------------------ AT versus NAT


def nat_passes(model: NATransformer, number: int, iterations: int) -> list[dict]:
    """Mask-predict on one number, pass by pass: what the NAT decoder read and wrote.

    Introduced in chapter 10. One dict per decoder pass: ``'input'`` and ``'output'`` (lists
    of token names; MASK where the input is still unknown) and ``'probs'`` (the confidence
    of each output token, rounded to 3 decimals).
    """
    if not isinstance(model, NATransformer):
        raise ValueError(f"nat_passes needs an NATransformer, got {type(model).__name__}")
    _, steps = model.generate([numerals.source_ids(number)], iterations=iterations,
                              return_steps=True)
    names = numerals.TARGET_TOKENS
    return [{"input": [names[i] for i in s["input"][0].tolist()],
             "output": [names[i] for i in s["tokens"][0].tolist()],
             "probs": [round(p, 3) for p in s["probs"][0].tolist()]} for s in steps]


def _src(numbers: Sequence[int]) -> torch.Tensor:
    return pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD)


def compare_at_nat(at_model: Transformer, nat_model: NATransformer, numbers: Sequence[int],
                   iterations: Sequence[int] = (1, 2, 3, 4, 6, 8)) -> list[dict]:
    """Exact-match accuracy against decoder passes, for AT and NAT on the same numbers.

    Introduced in chapter 10. One dict per method, with ``'method'``, ``'passes'`` (decoder
    passes per number: for AT the output length plus one for END, averaged over the numbers;
    for NAT the mask-predict iterations) and ``'accuracy'`` (the fraction of numbers whose
    whole output is right). NAT rows also give ``'length_accuracy'``: how often the length
    predictor was right, which bounds the NAT's accuracy from above, and
    ``'accuracy_true_length'``: the accuracy when the NAT is given the true length instead.
    """
    numbers = [numerals.check_number(n) for n in numbers]
    if not numbers:
        raise ValueError("compare_at_nat needs at least one number")
    truth = [numerals.target_ids(n) for n in numbers]
    src = _src(numbers)
    at_out = at_model.greedy_decode(src)
    rows = [{
        "method": "AT (greedy)",
        "passes": float(np.mean([len(o) + 1 for o in at_out])),
        "accuracy": float(np.mean([o == t for o, t in zip(at_out, truth, strict=True)])),
    }]
    with torch.no_grad():
        src_mask = nat_model.src_padding_mask(src)
        memory = nat_model.encode(src, src_mask)
        lengths = nat_model.predict_length_logits(memory, src_mask)[:, 1:].argmax(-1) + 1
    length_ok = float(np.mean([int(n) == len(t) for n, t in zip(lengths, truth, strict=True)]))
    true_lengths = [len(t) for t in truth]

    def accuracy(out):
        return float(np.mean([o == t for o, t in zip(out, truth, strict=True)]))

    for k in iterations:
        rows.append({
            "method": f"NAT, {k} pass{'es' if k > 1 else ''}",
            "passes": float(k),
            "accuracy": accuracy(nat_model.generate(src, iterations=int(k))),
            "length_accuracy": length_ok,
            "accuracy_true_length": accuracy(nat_model.generate(src, iterations=int(k),
                                                                lengths=true_lengths)),
        })
    return rows


def median_seconds(fn: Callable[[], object], repeats: int = 7, warmup: int = 1) -> float:
    """The median wall-clock time of ``fn()`` over `repeats` runs, after `warmup` runs.

    Introduced in chapter 10. The median, not the mean, so that one run slowed down by
    another program on the machine does not move the result.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_decoding(at_model: Transformer, nat_model: NATransformer, numbers: Sequence[int],
                  iterations: Sequence[int] = (1, 4), repeats: int = 7,
                  threads: int | None = 1) -> dict[str, float]:
    """Median seconds to decode `numbers` (as one batch): AT greedy, and NAT with k passes.

    Introduced in chapter 10. Returns ``{'AT (greedy)': s, 'NAT, 1 pass': s, ...}``. The
    methods take turns within each repeat, so that a slow moment of the machine slows all of
    them, and PyTorch runs on ``threads`` threads (restored afterwards; ``None`` leaves it as
    it is): one thread makes small models' timings much steadier on a busy machine. Timings
    depend on the machine and on what else runs on it: compare them with each other, never
    with numbers from another machine.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    src = _src([numerals.check_number(n) for n in numbers])
    methods: dict[str, Callable[[], object]] = {
        "AT (greedy)": lambda: at_model.greedy_decode(src)}
    for k in iterations:
        methods[f"NAT, {k} pass{'es' if k > 1 else ''}"] = (
            lambda k=k: nat_model.generate(src, iterations=int(k)))
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        for fn in methods.values():  # warm-up
            fn()
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(repeats):
            for name, fn in methods.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)
    return {name: statistics.median(t) for name, t in times.items()}


def plot_at_vs_nat(rows: Sequence[dict]):
    """Accuracy against decoder passes: one point for AT, a line for NAT's iterations.

    Introduced in chapter 10. `rows` is what :func:`compare_at_nat` returns.
    """
    import matplotlib.pyplot as plt

    from attnbook.figures import STYLE, style_context

    at = [r for r in rows if r["method"].startswith("AT")]
    nat = [r for r in rows if r["method"].startswith("NAT")]
    with style_context():
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        plt.close(fig)
        if nat:
            ax.plot([r["passes"] for r in nat], [r["accuracy"] for r in nat], "o-",
                    color=STYLE.blue, label="NAT (mask-predict)", linewidth=1.8)
            ax.plot([r["passes"] for r in nat], [r["accuracy_true_length"] for r in nat], "^:",
                    color=STYLE.green, label="NAT given the true length", linewidth=1.5)
            ax.axhline(nat[0]["length_accuracy"], color=STYLE.muted, linestyle="--",
                       linewidth=1.0, label="NAT: length predicted right")
        for r in at:
            ax.plot([r["passes"]], [r["accuracy"]], "s", color=STYLE.vermillion,
                    markersize=9, label="AT (greedy): one pass per token + END")
        ax.set_xlabel("decoder passes per number")
        ax.set_ylabel("exact-match accuracy")
        # Zoom on the values shown (they may all be close to 1), in steps of 0.05.
        shown = [r["accuracy"] for r in rows] + [r[k] for r in nat for k in
                                                  ("accuracy_true_length", "length_accuracy")]
        ax.set_ylim(max(0.0, np.floor((min(shown) - 0.06) * 20) / 20), 1.01)
        ax.set_xlim(0, max(r["passes"] for r in rows) + 1)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=STYLE.small,
                  frameon=False, ncols=2)
        fig.tight_layout()
    return fig

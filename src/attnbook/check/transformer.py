"""Checkers of part 2, "The Transformer": the exercises of chapters 8 to 12.

Introduced in chapter 8. Chinese numerals and multi-label targets (chapter 8), layer norm and
the encoder block (9), the causal mask and the greedy loop (10), cross attention (11) and
teacher forcing (12). Each checker's expected answers come from the package's own tested
functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from attnbook import numerals as _numerals
from attnbook.check._core import (
    Case,
    CaseResult,
    CheckResult,
    bool_mask,
    reword,
    run_cases,
    run_equal,
)

# PyTorch and the modules that import it are imported inside the checkers, so that importing
# attnbook.check (in every chapter) does not load PyTorch before a chapter needs it.
# attnbook.numerals is plain Python.


# ----------------------------------------------------------------------------- chapter 8


def chinese_numeral(fn: Callable[[int], Any]) -> CheckResult:
    """Check ``fn(n)`` → the Chinese numeral of ``0 ≤ n ≤ 9999`` as a string.

    Introduced in chapter 8 (exercise: Chinese numerals). The rules are those of
    :func:`attnbook.numerals.to_chinese`, which gives the expected answers.
    """
    inputs = [
        ("zero", 0),
        ("one digit", 7),
        ("ten is 十, not 一十", 10),
        ("a teen", 15),
        ("a round hundred", 300),
        ("a zero between two read digits is 零", 305),
        ("a run of zeros is one 零", 1005),
        ("zeros at the end are silent", 1100),
        ("a 1 in the tens place after 百 is 一十", 110),
        ("2 is always 二", 2026),
        ("two runs of zeros", 1010),
        ("every digit read", 9999),
    ]
    cases = [Case(d, (n,), _numerals.to_chinese(n)) for d, n in inputs]
    return run_equal("chinese_numeral", fn, cases, what="a str")


def multilabel_target(fn: Callable[[Sequence[str], Sequence[str]], Any]) -> CheckResult:
    """Check ``fn(labels, vocab)`` → the label set as a target sequence of ids, END last.

    Introduced in chapter 8 (exercise: multi-label classification as sequence to sequence).
    The ids follow the vocabulary's order, each label once, then the id of ``"END"``; the
    expected answers come from :func:`attnbook.labs.probes.multilabel_target`.
    """
    from attnbook.labs import probes as _probes

    vocab = ["END", "action", "comedy", "drama", "horror", "romance", "sci-fi"]
    inputs = [
        ("one label", ["comedy"]),
        ("two labels, given in vocabulary order", ["comedy", "romance"]),
        ("two labels, given in the other order", ["sci-fi", "action"]),
        ("a label given twice counts once", ["drama", "horror", "drama"]),
        ("no label at all: only END", []),
    ]
    cases = [Case(d, (labels, vocab), _probes.multilabel_target(labels, vocab))
             for d, labels in inputs]

    def as_ids(labels, vocab):
        got = fn(labels, vocab)
        return [int(i) for i in (got.tolist() if hasattr(got, "tolist") else got)]

    return run_equal("multilabel_target", as_ids, cases, what="a list of ids")


# ----------------------------------------------------------------------------- chapter 9


def layer_norm(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(x, gamma, beta, eps=1e-5)`` → layer normalization over the last axis.

    Introduced in chapter 9 (exercise: layer normalization). Each vector (the last axis of
    ``x``) is shifted to mean 0 and scaled to variance 1 (the biased variance, over the
    features, plus ``eps`` under the square root), then multiplied by ``gamma`` and shifted
    by ``beta``. The expected answers come from ``torch.nn.functional.layer_norm``.
    """
    import torch
    import torch.nn.functional as F

    def expected(x, gamma, beta, eps=1e-5):
        t = torch.from_numpy(x)
        return F.layer_norm(t, t.shape[-1:], torch.from_numpy(gamma), torch.from_numpy(beta),
                            eps).numpy()

    rng = np.random.default_rng(9)
    inputs = [
        ("one vector, gamma = 1, beta = 0", (rng.normal(size=4), np.ones(4), np.zeros(4))),
        ("one vector per row of a matrix", (rng.normal(2.0, 3.0, size=(3, 5)), np.ones(5),
                                            np.zeros(5))),
        ("a learned scale and shift", (rng.normal(size=(2, 6)), rng.normal(size=6),
                                       rng.normal(size=6))),
        ("a batch of sequences (B, L, d)", (rng.normal(size=(2, 3, 4)), rng.normal(size=4),
                                            rng.normal(size=4))),
        ("a constant vector: eps keeps the division finite", (np.full(4, 3.0), np.ones(4),
                                                              np.zeros(4))),
    ]
    cases = [Case(d, args, expected(*args)) for d, args in inputs]
    cases.append(Case("a larger eps", inputs[0][1], expected(*inputs[0][1], eps=0.5),
                      kwargs={"eps": 0.5}))
    return run_cases("layer_norm", fn, cases, atol=1e-5, rtol=1e-5)


class _Sublayer:
    """A module of a random encoder block, passed to the reader's function as a callable."""

    def __init__(self, description: str, function: Callable[[Any], Any]):
        self.description = description
        self.function = function

    def __call__(self, x):
        return self.function(x)

    def __repr__(self) -> str:
        return f"<{self.description}>"


def encoder_block(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(x, self_attention, feed_forward, norm1, norm2, norm_first)`` → the output
    of one encoder block.

    Introduced in chapter 9 (exercise: the encoder block). ``x`` is a tensor ``[B, L, d]``;
    the other arguments are the block's sublayers as functions of one tensor, taken from a
    random :class:`attnbook.layers.EncoderLayer`, whose own output is the expected answer.
    ``norm_first=False`` is post-LN (the notes), ``True`` pre-LN.
    """
    import torch

    from attnbook.layers import EncoderLayer

    cases = []
    for i, (norm_first, shape) in enumerate([(False, (1, 4, 8)), (False, (2, 3, 8)),
                                             (True, (1, 4, 8)), (True, (2, 5, 8))]):
        torch.manual_seed(90 + i)
        layer = EncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)
        with torch.no_grad():  # a learned-looking scale and shift, so the norms differ
            for norm in (layer.norm1, layer.norm2):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.normal_(0.0, 0.3)
        layer.eval()
        x = torch.randn(shape)

        def attend(h, layer=layer):
            with torch.no_grad():
                return layer.self_attn(h, h, h, need_weights=False)[0]

        def no_grad(module):
            def call(h):
                with torch.no_grad():
                    return module(h)
            return call

        kind = "pre-LN" if norm_first else "post-LN"
        args = (x, _Sublayer("self-attention", attend),
                _Sublayer("feed forward", no_grad(layer.feed_forward)),
                _Sublayer("layer norm 1", no_grad(layer.norm1)),
                _Sublayer("layer norm 2", no_grad(layer.norm2)), norm_first)
        with torch.no_grad():
            want = layer(x).numpy()
        cases.append(Case(f"a {kind} block on a batch of shape {shape}", args, want))
    return run_cases("encoder_block", fn, cases, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- chapter 10


def causal_mask(fn: Callable[[int], Any]) -> CheckResult:
    """Check ``fn(n)`` → the causal mask, bool ``[n, n]``, True where query i may attend key j.

    Introduced in chapter 10 (exercise: the causal mask). The book's convention: True = may
    attend, so True on and below the diagonal. A mask in the other convention (True =
    blocked, as ``nn.MultiheadAttention`` wants) fails, and so does a mask that is not bool.
    """
    from attnbook import masks as _masks

    inputs = [
        ("one position: it sees itself", 1),
        ("two positions", 2),
        ("four positions", 4),
        ("seven positions", 7),
    ]
    cases = [Case(d, (n,), _masks.causal_mask(n).numpy()) for d, n in inputs]

    def opposite_convention(r: CaseResult) -> str | None:
        # The other convention (True = blocked) is the likeliest mistake: name it.
        if not (r.problem and "differ" in r.problem):
            return None
        got = np.asarray(r.got.detach().cpu() if hasattr(r.got, "detach") else r.got)
        if got.shape == r.case.expected.shape and np.array_equal(got, ~r.case.expected):
            return "this is the opposite convention (True = blocked); here True means 'may attend'"
        return None

    return reword(run_cases("causal_mask", lambda n: bool_mask(fn(n)), cases),
                  opposite_convention)


class _ToyDecoder:
    """A stand-in for a trained decoder: a fixed next-token distribution for each prefix.

    ``spell`` is the sequence it wants to produce; at step t it gives most of the
    probability to ``spell[t]`` (or to END once the sequence is spelt, unless ``endless``),
    and spreads the rest over the other tokens with seeded random numbers.
    """

    def __init__(self, description: str, spell: Sequence[int], vocab: int = 8, end: int = 2,
                 endless: bool = False, seed: int = 0, follow_prefix: bool = False):
        self.description = description
        self.spell = list(spell)
        self.vocab, self.end, self.endless = vocab, end, endless
        self.rng = np.random.default_rng(seed)
        self.noise = self.rng.dirichlet(np.ones(vocab), size=32)  # (steps, vocab)
        self.follow_prefix = follow_prefix  # choose from the last token read, not the step

    def __call__(self, prefix: list[int]) -> np.ndarray:
        t = len(prefix) - 1  # tokens chosen so far
        if self.follow_prefix:
            # The next token is the last one read plus 3 (mod vocab): only a loop that feeds
            # its own choice back produces the right sequence.
            target = (prefix[-1] + 3) % self.vocab
            if target in (0, 1):
                target = self.end
        elif t < len(self.spell):
            target = self.spell[t]
        else:
            target = (3 + t) % self.vocab if self.endless else self.end
            if self.endless and target in (0, 1, self.end):
                target = 4
        probs = 0.4 * self.noise[t % len(self.noise)]
        probs[target] += 0.6
        return probs

    def __repr__(self) -> str:
        return f"<{self.description}>"


def greedy_decode(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(next_distribution, begin, end, max_len)`` → the greedily decoded token ids.

    Introduced in chapter 10 (exercise: the autoregressive loop). ``next_distribution(prefix)``
    returns one probability per token id for the decoder input ``prefix`` (a list of ids that
    starts with ``begin``). The answer is the list of chosen ids, without BEGIN and END.
    """
    from attnbook.model import greedy_search, output_tokens

    begin, end = 1, 2
    decoders = [
        (_ToyDecoder("a decoder that spells 5 7 3 then END", [5, 7, 3], seed=1), 10),
        (_ToyDecoder("a decoder whose first choice is END", [], seed=2), 10),
        (_ToyDecoder("a decoder that never chooses END", [], endless=True, seed=3), 6),
        (_ToyDecoder("a decoder that chooses from the last token it read", [],
                     follow_prefix=True, vocab=11, seed=4), 10),
        (_ToyDecoder("a decoder that would spell 9 tokens, with max_len=4", [3] * 9, vocab=10,
                     seed=5), 4),
    ]

    def expected(dec: _ToyDecoder, max_len: int) -> list[int]:
        # The book's one greedy decoder, fed the toy decoder's distribution for each prefix.
        ys = greedy_search(lambda ys: dec(ys[0].tolist()), begin, end, max_len)  # (1, 1 + steps)
        return output_tokens(ys, end)[0]

    cases = [Case(dec.description, (dec, begin, end, max_len), expected(dec, max_len))
             for dec, max_len in decoders]

    def as_list(*args):
        got = fn(*args)
        if hasattr(got, "tolist"):
            got = got.tolist()
        return [int(t) for t in got]

    def length(r: CaseResult) -> str | None:
        # Lists of different lengths cannot be compared as arrays: say so in words.
        if isinstance(r.got, list) and len(r.got) != len(r.case.expected):
            n, want = len(r.got), len(r.case.expected)
            return (f"{n} token{'s' * (n != 1)} instead of {want} (BEGIN and END are not part "
                    "of the answer)")
        return None

    return reword(run_cases("greedy_decode", as_list, cases), length)


# ----------------------------------------------------------------------------- chapter 11


def cross_attention(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(y, memory, W_q, W_k, W_v)`` → cross attention's output, one row per query.

    Introduced in chapter 11 (exercise: cross attention). ``y`` ``(T, d)`` are the decoder's
    vectors (one per row), ``memory`` ``(S, d)`` the encoder's output. Queries come from
    ``y @ W_q``, keys and values from ``memory @ W_k`` and ``memory @ W_v``; the weights are
    ``softmax(q kᵀ / √d_k)`` over the S encoder positions. The answer is ``(T, d_v)``.
    """
    import torch

    from attnbook.attention import scaled_dot_product_attention

    def expected(y, memory, W_q, W_k, W_v):
        t = [torch.from_numpy(m) for m in (y @ W_q, memory @ W_k, memory @ W_v)]
        return scaled_dot_product_attention(*t)[0].numpy()

    rng = np.random.default_rng(11)

    def draw(T, S, d, d_v):
        return (rng.normal(size=(T, d)), rng.normal(size=(S, d)), rng.normal(size=(d, d)),
                rng.normal(size=(d, d)), rng.normal(size=(d, d_v)))

    inputs = [
        ("one query, three encoder positions", draw(1, 3, 4, 4)),
        ("more queries than encoder positions", draw(5, 2, 4, 4)),
        ("fewer queries than encoder positions, d_v != d", draw(2, 6, 8, 3)),
    ]
    cases = [Case(d, args, expected(*args)) for d, args in inputs]
    return run_cases("cross_attention", fn, cases)


def cross_attention_mask(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(src_lengths, tgt_len, src_len)`` → bool ``[B, tgt_len, src_len]`` mask.

    Introduced in chapter 11 (exercise: cross attention on a padded batch). Source ``b`` has
    ``src_lengths[b]`` real tokens and is padded to ``src_len``; every decoder position may
    attend to the real source tokens of its own example and to no padding (True = may
    attend).
    """
    from attnbook import masks as _masks

    def expected(lengths, tgt_len, src_len):
        m = _masks.padding_mask(lengths, src_len)[:, None, :]  # (B, 1, S)
        return m.expand(len(lengths), tgt_len, src_len).numpy()

    inputs = [
        ("one source, no padding", ([4], 3, 4)),
        ("two sources, the second padded", ([4, 2], 3, 4)),
        ("three sources, one decoder position", ([1, 5, 3], 1, 5)),
    ]
    cases = [Case(d, args, expected(*args)) for d, args in inputs]
    return run_cases("cross_attention_mask", lambda *args: bool_mask(fn(*args)), cases)


# ----------------------------------------------------------------------------- chapter 12


def shift_right(fn: Callable[[Sequence[int]], Any]) -> CheckResult:
    """Check ``fn(target)`` → ``(decoder_input, labels)`` for teacher forcing.

    Introduced in chapter 12 (exercise: the decoder's input and labels). ``target`` holds
    the answer's token ids without BEGIN (id 1) and END (id 2); the expected answers come
    from :func:`attnbook.labs.exposure_bias.shift_right`.
    """
    from attnbook.labs import exposure_bias as _exposure_bias

    inputs = [
        ("305 = 三百零五", _numerals.target_ids(305)),
        ("7 = 七, one token", _numerals.target_ids(7)),
        ("100001 = 十万零一", _numerals.target_ids(100001)),
        ("an empty answer: only BEGIN in, only END out", []),
    ]
    cases = [Case(d, (t,), _exposure_bias.shift_right(t)) for d, t in inputs]

    def as_lists(target):
        got = fn(list(target))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise TypeError("return a pair: (decoder_input, labels)")
        return tuple([int(i) for i in (g.tolist() if hasattr(g, "tolist") else g)]
                     for g in got)

    return run_equal("shift_right", as_lists, cases, what="a pair of lists")


def sequence_cross_entropy(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(logits, labels, pad_id)`` → the mean cross-entropy over the non-padding
    positions.

    Introduced in chapter 12 (exercise: the teacher-forcing loss). ``logits`` is a tensor
    ``[B, T, V]``, ``labels`` ``[B, T]`` token ids, padded with ``pad_id``. The expected
    answers come from :func:`attnbook.labs.exposure_bias.sequence_cross_entropy`.
    """
    import torch

    from attnbook.labs import exposure_bias as _exposure_bias

    g = torch.Generator().manual_seed(12)

    def draw(B, T, V, pad_from=None):
        logits = torch.randn(B, T, V, generator=g) * 2
        labels = torch.randint(1, V, (B, T), generator=g)
        if pad_from is not None:
            for b, start in enumerate(pad_from):
                labels[b, start:] = 0
        return logits, labels, 0

    inputs = [
        ("one sequence, no padding", draw(1, 4, 5)),
        ("a batch, no padding", draw(3, 3, 6)),
        ("a batch with padding: padded positions are not scored", draw(3, 5, 6, [5, 2, 4])),
        ("confident logits", (torch.eye(4)[None] * 20, torch.arange(4)[None] % 3 + 1, 0)),
    ]
    cases = [Case(d, args, float(_exposure_bias.sequence_cross_entropy(*args)))
             for d, args in inputs]

    def as_float(logits, labels, pad_id):
        got = fn(logits.clone(), labels.clone(), pad_id)
        return float(got.detach() if hasattr(got, "detach") else got)

    return run_cases("sequence_cross_entropy", as_float, cases, atol=1e-5, rtol=1e-5)

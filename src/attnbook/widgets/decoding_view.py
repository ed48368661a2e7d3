"""DecodingView: autoregressive decoding step by step, in a live notebook and on the website."""

from __future__ import annotations

from collections.abc import Sequence

import anywidget
import numpy as np
import traitlets

from attnbook.widgets._front_end import as_array, css, esm


class DecodingView(anywidget.AnyWidget):
    """Step through autoregressive decoding: each step's input, distribution and choice.

    Introduced in chapter 10. For each example (a source sequence) the view shows, at the
    step the reader picks with a slider: the decoder's input so far (BEGIN and the tokens
    chosen before), the probability distribution (概率分布) the decoder gave for the next
    token, one bar per token of the vocabulary, and the token chosen, which becomes part of
    the next step's input. The last step of a finished example chooses END. Python computes
    every step up front; the page only draws, so the view works without a kernel.

    Args:
        examples: one ``(source, probs, choices)`` per example: ``source`` a string (shown
            as the input, e.g. ``"1005"``), ``probs`` array-like ``(steps, len(vocab))`` of
            finite, non-negative numbers (one distribution per step), ``choices`` the token
            id chosen at each step.
        vocab: the name of every token id.
        title: shown above the view.
        hide_tokens: tokens left out of the bar chart (they are never chosen), by name.
        begin: the name of the decoder's first input.
        end: the token that ends decoding.
        decimals: decimals kept in the page (and shown next to the bars).

    Raises:
        ValueError: when an example's probabilities, choices and vocabulary do not fit.
    """

    _esm = esm("decoding_view")
    _css = css("decoding_view")

    vocab = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # The token ids drawn as bars, in vocabulary order.
    shown = traitlets.List(traitlets.Int()).tag(sync=True)
    # One dict per example: source (str), probs ([steps][len(shown)]), choices ([steps]).
    examples = traitlets.List(traitlets.Dict()).tag(sync=True)
    begin = traitlets.Unicode("BEGIN").tag(sync=True)
    end = traitlets.Unicode("END").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    decimals = traitlets.Int(3).tag(sync=True)
    # The example and the step shown; set by the page when the reader clicks or slides.
    example = traitlets.Int(0).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        examples: Sequence[tuple[str, object, Sequence[int]]],
        vocab: Sequence[str],
        *,
        title: str = "",
        hide_tokens: Sequence[str] = ("PAD", "BEGIN", "MASK"),
        begin: str = "BEGIN",
        end: str = "END",
        decimals: int = 3,
    ) -> None:
        if isinstance(vocab, str):
            raise ValueError("vocab must be a list of token names, not one string")
        vocab = [str(t) for t in vocab]
        if not vocab:
            raise ValueError("vocab is empty")
        if not 0 <= decimals <= 8:
            raise ValueError(f"decimals={decimals} must be between 0 and 8")
        unknown = [t for t in hide_tokens if t not in vocab]
        if unknown:
            raise ValueError(f"hide_tokens {unknown} are not in the vocabulary")
        shown = [i for i, t in enumerate(vocab) if t not in set(hide_tokens)]
        if not shown:
            raise ValueError("every token is hidden: nothing to draw")
        if not examples:
            raise ValueError("examples is empty: give at least one (source, probs, choices)")
        sent = []
        for n, example in enumerate(examples):
            try:
                source, probs, choices = example
            except (TypeError, ValueError):
                raise ValueError(f"example {n} must be (source, probs, choices)") from None
            p = as_array(probs, f"example {n}: probs")
            if p.ndim != 2 or p.shape[1] != len(vocab) or p.shape[0] < 1:
                raise ValueError(f"example {n}: probs has shape {p.shape}, expected "
                                 f"(steps, {len(vocab)}) for a vocabulary of {len(vocab)}")
            if not np.isfinite(p).all() or (p < 0).any():
                raise ValueError(f"example {n}: probs must be finite and non-negative")
            choices = [int(c) for c in choices]
            if len(choices) != p.shape[0]:
                raise ValueError(f"example {n}: {len(choices)} choices for {p.shape[0]} steps")
            bad = [c for c in choices if c not in shown]
            if bad:
                raise ValueError(f"example {n}: choices {bad} are hidden or not token ids of "
                                 f"the vocabulary")
            sent.append({
                "source": str(source),
                "probs": np.round(p[:, shown], decimals).tolist(),  # (steps, len(shown))
                "choices": choices,
            })
        super().__init__(vocab=vocab, shown=shown, examples=sent, begin=str(begin),
                         end=str(end), title=str(title), decimals=decimals)

    @classmethod
    def from_records(cls, records: Sequence, title: str = "") -> DecodingView:
        """A view of recorded greedy decodings: one button per record, a slider over its steps.

        Introduced in chapter 10. Each record is read by its attributes only (as
        :class:`attnbook.labs.decoding_steps.DecodingRecord` has them): ``source`` (the
        encoder's input tokens), ``probs`` ``(steps, len(vocab))``, ``choices`` (the token id
        chosen at each step) and ``vocab`` (the name of every token id). The special tokens
        PAD, BEGIN and MASK get no bar, unless one of them was chosen.

        >>> from types import SimpleNamespace
        >>> vocab = ("PAD", "BEGIN", "END", "MASK", "一")
        >>> record = SimpleNamespace(source=("1",), choices=(4, 2), vocab=vocab,
        ...                          probs=[[0, 0, 0.1, 0, 0.9], [0, 0, 0.8, 0, 0.2]])
        >>> DecodingView.from_records([record])
        DecodingView(1 examples, steps [2], 2 tokens shown)
        """
        if not records:
            raise ValueError("from_records needs at least one record")
        examples = [("".join(r.source), r.probs, r.choices) for r in records]
        vocab = records[0].vocab
        chosen = {vocab[c] for r in records for c in r.choices}
        # PAD, BEGIN and MASK are left out of the bars, unless a (badly trained) model chose one.
        hide = [t for t in ("PAD", "BEGIN", "MASK") if t in vocab and t not in chosen]
        return cls(examples, vocab, title=title, hide_tokens=hide)

    @traitlets.validate("example")
    def _check_example(self, proposal):
        value = proposal["value"]
        if not 0 <= value < max(1, len(self.examples)):
            raise traitlets.TraitError(f"example={value} is not one of the "
                                       f"{len(self.examples)} examples")
        return value

    @traitlets.validate("step")
    def _check_step(self, proposal):
        value = proposal["value"]
        if self.examples:
            n = len(self.examples[self.example]["choices"])
            if not 0 <= value < n:
                raise traitlets.TraitError(f"step={value} is not one of the {n} steps of "
                                           f"example {self.example}")
        return value

    def inputs(self, example: int, step: int) -> list[str]:
        """The decoder's input at `step` of `example`: BEGIN and the tokens chosen before."""
        choices = self.examples[example]["choices"]
        return [self.begin, *(self.vocab[c] for c in choices[:step])]

    def output(self, example: int) -> list[str]:
        """Every token `example` chose, END included when it was chosen."""
        return [self.vocab[c] for c in self.examples[example]["choices"]]

    def __repr__(self) -> str:
        steps = [len(e["choices"]) for e in self.examples]
        return (f"DecodingView({len(self.examples)} examples, steps {steps}, "
                f"{len(self.shown)} tokens shown)")

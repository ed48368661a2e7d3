"""Autoregressive decoding (自回归) step by step, recorded for the views.

Introduced in chapter 10 and used again in chapter 11 (the cross attention of every step).
:func:`record_decoding` runs the trained :class:`attnbook.model.Transformer`'s greedy decoder
(:meth:`~attnbook.model.Transformer.greedy_decode`) on one number and keeps everything a view
needs: each step's input, output distribution (概率分布) and choice, and the self-attention
and cross-attention weights of every layer and head. :func:`attnbook.widgets.decoding_view`
and :func:`attnbook.widgets.attention_view` turn records into the book's views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from attnbook import numerals
from attnbook.layers import keep_weights
from attnbook.model import Transformer

__all__ = ["DecodingRecord", "record_decoding"]


@dataclass(frozen=True)
class DecodingRecord:
    """Everything one greedy decoding of one source did, step by step.

    Used in chapter 10 by :func:`record_decoding`. Step ``t`` (0-based) read ``inputs[:t + 1]``
    (BEGIN and the tokens chosen before) and chose ``choices[t]`` from the distribution
    ``probs[t]``. Row ``t`` of the attention arrays is the newest position's attention at step
    ``t``: what the decoder looked at to choose ``choices[t]``.
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

    Introduced in chapter 10. The loop is :meth:`Transformer.greedy_decode
    <attnbook.model.Transformer.greedy_decode>` itself (so it chooses the same tokens); its
    ``on_step`` hook keeps each step's weights: at step ``t`` the decoder reads BEGIN and the
    ``t`` tokens chosen so far, and the last position's output is the distribution of the
    next token. Nothing is cached (``use_cache=False``): every step runs the decoder on its
    whole input, as the notes describe it.
    """
    if not isinstance(model, Transformer):
        raise ValueError(f"record_decoding needs an autoregressive Transformer, got "
                         f"{type(model).__name__}")
    src = torch.tensor([numerals.source_ids(number)], device=model.device)  # (1, S)
    probs, choices, self_rows, cross_rows = [], [], [], []

    def record(step: int, logits: torch.Tensor, ys: torch.Tensor) -> None:
        probs.append(logits[0].softmax(-1).cpu().double().numpy())  # (V,): newest position
        choices.append(int(ys[0, -1]))
        self_rows.append([layer.self_attn.weights[0, :, -1].cpu().double().numpy()
                          for layer in model.decoder])  # layers × (h, t + 1)
        cross_rows.append([layer.cross_attn.weights[0, :, -1].cpu().double().numpy()
                           for layer in model.decoder])  # layers × (h, S)

    was_training = model.training
    model.eval()
    try:
        with keep_weights(model.decoder):
            model.greedy_decode(src, max_len, use_cache=False, on_step=record)
    finally:
        model.train(was_training)
    steps, n_layers, n_heads = len(probs), len(model.decoder), model.config.num_heads
    self_w = np.zeros((n_layers, n_heads, steps, steps))  # (L, h, T, T): future stays 0
    for t, rows in enumerate(self_rows):
        for layer, row in enumerate(rows):
            self_w[layer, :, t, :t + 1] = row
    cross_w = np.stack([np.stack(rows) for rows in cross_rows], axis=2)  # (L, h, T, S)
    return DecodingRecord(
        source=tuple(str(number)), choices=tuple(choices), probs=np.stack(probs),
        self_attention=self_w, cross_attention=cross_w, vocab=tuple(numerals.TARGET_TOKENS),
    )

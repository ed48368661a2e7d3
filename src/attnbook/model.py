"""The book's encoder–decoder Transformer, and its non-autoregressive sibling.

Introduced in chapters 8–12: the whole model in chapters 8 and 9 (:class:`Transformer`,
built from :class:`attnbook.layers.EncoderLayer` and :class:`attnbook.layers.DecoderLayer`),
decoding step by step in chapter 10 (:meth:`Transformer.greedy_decode`), AT vs NAT in chapter
10 (:class:`NATransformer`, with mask-predict refinement), cross attention in chapter 11, the
teacher-forcing loss in chapter 12 (:meth:`Transformer.loss`) and beam search in chapter 12
(:meth:`Transformer.beam_search`).

The book's one greedy decoder and one beam search are here too, written for any step function:
:func:`greedy_search` (with :func:`output_tokens`) and :func:`beam_search`. The model's methods,
the views' recorders and the chapters' experiments and exercises all call them.

Conventions: batch first; token ids are ``LongTensor [B, L]``, right-padded with
``config.pad_id``; every mask is bool with **True = may attend** (see :mod:`attnbook.masks`).
The code never names a device: it runs on whatever device the model's parameters are on.

Saving is with safetensors only (:func:`save_model`, :func:`load_model`): the weights, and the
config as JSON in the file's metadata, so one file is a whole model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from attnbook.layers import DecoderCache, DecoderLayer, EncoderLayer
from attnbook.masks import causal_mask
from attnbook.positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding

__all__ = [
    "MaxLengthNAT",
    "NATransformer",
    "Transformer",
    "TransformerConfig",
    "beam_search",
    "greedy_search",
    "load_model",
    "output_tokens",
    "pad_batch",
    "save_model",
]


@dataclass
class TransformerConfig:
    """Every size and choice of a :class:`Transformer` or :class:`NATransformer`.

    Used in chapter 8 by :func:`~attnbook.translate.load_book_model`. The defaults are the
    book's small model (2 + 2 layers, d_model 64). ``__post_init__`` checks the values and
    raises a ``ValueError`` naming any bad one.
    """

    src_vocab_size: int  # number of source (encoder input) tokens, special tokens included
    tgt_vocab_size: int  # number of target (decoder output) tokens, special tokens included
    d_model: int = 64  # width of every token vector
    num_heads: int = 4  # attention heads per attention layer (d_model must divide by it)
    num_encoder_layers: int = 2  # encoder blocks stacked
    num_decoder_layers: int = 2  # decoder blocks stacked
    dim_feedforward: int = 256  # hidden width of each block's fully connected network
    dropout: float = 0.1  # dropout probability while training (0 = none)
    max_len: int = 64  # longest source or target sequence the positional encoding covers
    norm_first: bool = False  # False: post-LN blocks (the notes); True: pre-LN
    activation: str = "relu"  # of the fully connected network: 'relu' or 'gelu'
    positional: str = "sinusoidal"  # positional encoding: 'sinusoidal' (fixed) or 'learned'
    pad_id: int = 0  # padding token, in both vocabularies; never attended to
    bos_id: int = 1  # BEGIN: the decoder's first input
    eos_id: int = 2  # END: the decoder says it is done
    mask_id: int = 3  # [MASK]: the NAT decoder's input where a token is still unknown
    max_target_len: int = 16  # NAT only: the length predictor chooses among 0..max_target_len

    def __post_init__(self):
        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "num_heads",
                     "num_encoder_layers", "num_decoder_layers", "dim_feedforward", "max_len",
                     "max_target_len"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by "
                             f"num_heads={self.num_heads}")
        if self.positional == "sinusoidal" and self.d_model % 2:
            raise ValueError(f"the sinusoidal encoding needs an even d_model, got {self.d_model}")
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.activation not in ("relu", "gelu"):
            raise ValueError(f"activation must be 'relu' or 'gelu', got {self.activation!r}")
        if self.positional not in ("sinusoidal", "learned"):
            raise ValueError(f"positional must be 'sinusoidal' or 'learned', "
                             f"got {self.positional!r}")
        if not isinstance(self.norm_first, bool):
            raise ValueError(f"norm_first must be True or False, got {self.norm_first!r}")
        ids = {"pad_id": self.pad_id, "bos_id": self.bos_id, "eos_id": self.eos_id,
               "mask_id": self.mask_id}
        for name, value in ids.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
            if value >= self.tgt_vocab_size:
                raise ValueError(f"{name}={value} is not a token of the target vocabulary "
                                 f"(tgt_vocab_size={self.tgt_vocab_size})")
        if len(set(ids.values())) != len(ids):
            raise ValueError(f"the special tokens must have different ids, got {ids}")
        if self.pad_id >= self.src_vocab_size:
            raise ValueError(f"pad_id={self.pad_id} is not a token of the source vocabulary "
                             f"(src_vocab_size={self.src_vocab_size})")
        if self.max_target_len + 2 > self.max_len:
            raise ValueError(f"max_target_len={self.max_target_len} plus BEGIN and END does not "
                             f"fit max_len={self.max_len}")

    def to_dict(self) -> dict:
        """The config as a plain dict (JSON-ready). Introduced in chapter 8."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TransformerConfig:
        """The inverse of :meth:`to_dict`; unknown keys raise a ``ValueError``.

        Introduced in chapter 8.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TransformerConfig fields: {unknown}")
        return cls(**d)


def _positional(config: TransformerConfig) -> nn.Module:
    if config.positional == "learned":
        return LearnedPositionalEncoding(config.d_model, config.max_len)
    return SinusoidalPositionalEncoding(config.d_model, config.max_len)


class _Seq2Seq(nn.Module):
    """What the AT and NAT models share: embeddings, positions, the encoder, the projection."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        c = config
        self.config = c
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_model)
        self.src_pos = _positional(c)
        self.tgt_pos = _positional(c)
        self.dropout = nn.Dropout(c.dropout)
        layer_args = dict(d_model=c.d_model, num_heads=c.num_heads,
                          dim_feedforward=c.dim_feedforward, dropout=c.dropout,
                          activation=c.activation, norm_first=c.norm_first)
        self.encoder = nn.ModuleList([EncoderLayer(**layer_args)
                                      for _ in range(c.num_encoder_layers)])
        self.decoder = nn.ModuleList([DecoderLayer(**layer_args)
                                      for _ in range(c.num_decoder_layers)])
        # Pre-LN blocks leave their output un-normalized: one last layer norm per stack.
        self.encoder_norm = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.decoder_norm = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.out_proj = nn.Linear(c.d_model, c.tgt_vocab_size)
        # Embeddings start small (std 1/sqrt(d)), so that after the sqrt(d) scaling they are
        # about as large as the positional encoding.
        for emb in (self.src_embed, self.tgt_embed):
            nn.init.normal_(emb.weight, std=c.d_model ** -0.5)

    @property
    def device(self) -> torch.device:
        """The device of the model's parameters. Introduced in chapter 8."""
        return self.out_proj.weight.device

    def src_padding_mask(self, src: torch.Tensor) -> torch.Tensor:
        """Bool ``[B, 1, S]``, True at real source tokens: the mask every query uses on them.

        Introduced in chapter 11 (the cross attention's mask; the encoder uses it from chapter 9).
        """
        return (src != self.config.pad_id)[:, None, :]  # (B, 1, S)

    def _check_ids(self, ids: torch.Tensor, vocab: int, what: str) -> None:
        if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.dtype != torch.long:
            got = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise ValueError(f"{what} must be a LongTensor [batch, length] of token ids, "
                             f"got {got}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab):
            raise ValueError(f"{what} holds ids outside 0..{vocab - 1}")
        if ids.shape[1] > self.config.max_len:
            raise ValueError(f"{what} has {ids.shape[1]} positions, more than "
                             f"max_len={self.config.max_len}")

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Source ids ``[B, S]`` → memory ``[B, S, d_model]`` (the encoder's output).

        Introduced in chapter 9. ``src_mask`` defaults to :meth:`src_padding_mask`.
        """
        self._check_ids(src, self.config.src_vocab_size, "src")
        if src_mask is None:
            src_mask = self.src_padding_mask(src)
        x = self.src_embed(src) * math.sqrt(self.config.d_model)  # (B, S, d_model)
        x = self.dropout(self.src_pos(x))
        for layer in self.encoder:
            x = layer(x, src_mask)
        return self.encoder_norm(x)

    def _decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor,
                self_mask: torch.Tensor | None,
                cache: list[DecoderCache] | None = None) -> torch.Tensor:
        # With a cache (one per decoder layer), tgt_in holds only the new positions.
        self._check_ids(tgt_in, self.config.tgt_vocab_size, "tgt_in")
        offset = 0 if cache is None else len(cache[0])  # positions decoded before
        y = self.tgt_embed(tgt_in) * math.sqrt(self.config.d_model)  # (B, T, d_model)
        y = self.dropout(self.tgt_pos(y, offset=offset))
        for i, layer in enumerate(self.decoder):
            y = layer(y, memory, self_mask=self_mask, cross_mask=src_mask,
                      cache=None if cache is None else cache[i])
        return self.out_proj(self.decoder_norm(y))  # (B, T, tgt_vocab)

    @torch.no_grad()
    def _prepare(self, src):
        """Source ids (tensor or list of lists) → (src on the model's device, mask, memory)."""
        if not isinstance(src, torch.Tensor):
            src = pad_batch(src, self.config.pad_id)
        src = src.to(self.device)
        src_mask = self.src_padding_mask(src)
        return src, src_mask, self.encode(src, src_mask)


def pad_batch(seqs, pad_id: int = 0, device=None) -> torch.Tensor:
    """A list of id lists → a right-padded ``LongTensor [B, longest]``.

    Used in chapter 8 by :meth:`Transformer.greedy_decode`.
    """
    seqs = [list(s) for s in seqs]
    if not seqs or min(len(s) for s in seqs) == 0:
        raise ValueError("pad_batch needs at least one sequence, and no empty ones")
    out = torch.full((len(seqs), max(len(s) for s in seqs)), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out.to(device) if device is not None else out


class Transformer(_Seq2Seq):
    """The encoder–decoder Transformer (编码器–解码器) of Vaswani et al. (2017), autoregressive.

    Used in chapter 8 by :func:`~attnbook.translate.load_book_model` (taken apart in chapters 9-12).
    Source tokens are embedded (times ``sqrt(d_model)``), given positions, and encoded by
    ``num_encoder_layers`` :class:`~attnbook.layers.EncoderLayer`; the decoder embeds its
    input (BEGIN and the tokens so far), runs ``num_decoder_layers``
    :class:`~attnbook.layers.DecoderLayer` with the causal mask on its self-attention and the
    source padding mask on its cross attention, and projects to one score per target token.

    ``forward(src [B, S], tgt_in [B, T])`` → logits ``[B, T, tgt_vocab_size]``: position ``t``
    scores the token that follows ``tgt_in[:, :t+1]``.
    """

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor,
               src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Decoder input ids ``[B, T]`` + memory ``[B, S, d]`` → logits ``[B, T, tgt_vocab]``.

        Introduced in chapter 10. The self-attention is causal (掩码自注意力): position t sees
        positions 0..t only. ``src_mask`` (``[B, 1, S]``, True = real source token) hides the
        source padding from the cross attention; ``None`` lets every position be seen.
        Target padding needs no mask of its own: it only ever comes after the real tokens,
        which the causal mask already keeps from looking at it.
        """
        self_mask = causal_mask(tgt_in.shape[1], device=tgt_in.device)  # (T, T)
        return self._decode(tgt_in, memory, src_mask, self_mask)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T, tgt_vocab]`` for source ``[B, S]`` and decoder input ``[B, T]``.

        Introduced in chapter 8: ``decode(tgt_in, encode(src))`` with the padding masks.
        """
        src_mask = self.src_padding_mask(src)
        return self.decode(tgt_in, self.encode(src, src_mask), src_mask)

    def loss(self, src: torch.Tensor, tgt: torch.Tensor,
             label_smoothing: float = 0.0) -> torch.Tensor:
        """The teacher-forcing (教师强制) cross-entropy for targets ``tgt = [BEGIN, y…, END]``.

        Introduced in chapter 12. The decoder reads the ground truth ``tgt[:, :-1]`` (not its
        own guesses) and is scored against the next token ``tgt[:, 1:]``, every position at
        once; padding is not scored. Returns the mean loss over the scored tokens.
        """
        logits = self(src, tgt[:, :-1])  # (B, T-1, V)
        return F.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(),
                               ignore_index=self.config.pad_id,
                               label_smoothing=label_smoothing)

    @property
    def never_chosen(self) -> torch.Tensor:
        """Bool ``[tgt_vocab]``, True at the tokens decoding never chooses (PAD).

        Introduced in chapter 10: PAD is not a word, so no decoder step may output it.
        """
        never = torch.zeros(self.config.tgt_vocab_size, dtype=torch.bool, device=self.device)
        never[self.config.pad_id] = True
        return never

    def max_decode_len(self, max_len: int | None = None) -> int:
        """The number of decoding steps allowed: ``max_len``, checked, or the most that fit.

        Introduced in chapter 10. BEGIN takes one of the ``config.max_len`` positions, so at
        most ``config.max_len - 1`` tokens can be decoded; ``None`` means that many.
        """
        limit = self.config.max_len - 1  # BEGIN takes one position
        if max_len is None:
            return limit
        if max_len < 1 or max_len > limit:
            raise ValueError(f"max_len must be in 1..{limit} (config.max_len - 1), "
                             f"got {max_len}")
        return max_len

    def decode_next(self, last: torch.Tensor, memory: torch.Tensor,
                    src_mask: torch.Tensor | None = None,
                    cache: list[DecoderCache] | None = None
                    ) -> tuple[torch.Tensor, list[DecoderCache]]:
        """One decoding step with a cache: logits ``[B, V]`` for the token after ``last [B]``.

        Introduced in chapter 10. Thanks to the causal mask, the keys and values of the earlier
        positions never change once computed, so only the newest position needs computing:
        its query attends to the keys and values each decoder layer kept (``cache``, one
        :class:`~attnbook.layers.DecoderCache` per layer, ``None`` at the first step). Returns
        the logits and the cache, grown by one position. The result equals :meth:`decode`'s
        last position (up to rounding), at a cost that grows with t instead of t².
        """
        if cache is None:
            cache = [DecoderCache() for _ in self.decoder]
        return self._decode(last[:, None], memory, src_mask, None, cache)[:, 0], cache  # (B, V)

    @torch.no_grad()
    def greedy_decode(self, src, max_len: int | None = None, return_steps: bool = False,
                      use_cache: bool = True, on_step: Callable | None = None):
        """Greedy autoregressive decoding (自回归) of a batch: the most likely token each step.

        Introduced in chapter 8 (step by step in chapter 10). ``src`` is ``[B, S]`` ids (or a
        list of id lists). The decoder starts from BEGIN, appends its own choice at each step
        and feeds it back, and a sequence stops at END (or after ``max_len`` tokens); the batch
        stops when all have.
        PAD is never chosen. Returns one list of token ids per source, **without** BEGIN and
        END. ``use_cache=False`` runs the whole decoder on the whole prefix at every step
        (:meth:`decode`) instead of only the newest position (:meth:`decode_next`): the same
        tokens, more slowly. The loop is :func:`greedy_search`.

        With ``return_steps=True`` it returns ``(tokens, probs)`` where ``probs`` is a CPU
        tensor ``[B, steps, tgt_vocab]``: the probability distribution (概率分布) the decoder
        gave at each step (sequence ``b`` uses its first ``len(tokens[b]) + 1`` steps, the
        last one being the step that chose END, if it ended).

        ``on_step(step, logits, ys)`` is called after each step with the step's logits
        ``[B, V]`` and the decoder's ids so far ``[B, step + 2]`` (BEGIN, …, the new choice);
        inside :func:`attnbook.layers.keep_weights` the attention modules then hold that
        step's weights (the newest query's row is ``weights[:, :, -1]``).
        """
        was_training = self.training
        self.eval()
        try:
            src, src_mask, memory = self._prepare(src)
            c = self.config
            cache = None

            def next_logits(ys: torch.Tensor) -> torch.Tensor:
                nonlocal cache
                if use_cache:
                    logits, cache = self.decode_next(ys[:, -1], memory, src_mask, cache)
                    return logits
                return self.decode(ys, memory, src_mask)[:, -1]  # (B, V): newest step

            probs = []

            def record(step: int, logits: torch.Tensor, ys: torch.Tensor) -> None:
                if return_steps:
                    probs.append(logits.softmax(-1))
                if on_step is not None:
                    on_step(step, logits, ys)

            # A finished sequence is padded: its later choices are never read.
            ys = greedy_search(next_logits, c.bos_id, c.eos_id, self.max_decode_len(max_len),
                               never=self.never_chosen, batch=src.shape[0], on_step=record,
                               pad=c.pad_id, device=src.device)
        finally:
            self.train(was_training)
        tokens = output_tokens(ys, c.eos_id, c.pad_id)
        if return_steps:
            return tokens, torch.stack(probs, dim=1).cpu()
        return tokens

    @torch.no_grad()
    def score(self, src, outputs) -> list[float]:
        """The log-probability the model gives each output: ``Σ_t log p(y_t | y_<t, src)``.

        Introduced in chapter 12. ``outputs`` are token-id lists without BEGIN and END; END
        is scored after each one, as decoding would need to choose it. This is the score
        :meth:`beam_search` maximizes (with ``length_penalty=0``).
        """
        was_training = self.training
        self.eval()
        try:
            src, src_mask, memory = self._prepare(src)
            c = self.config
            tgt = pad_batch([[c.bos_id, *o, c.eos_id] for o in outputs], c.pad_id, src.device)
            logp = self.decode(tgt[:, :-1], memory, src_mask).log_softmax(-1)  # (B, T-1, V)
            picked = logp.gather(-1, tgt[:, 1:, None])[..., 0]  # (B, T-1)
            picked = picked.masked_fill(tgt[:, 1:] == c.pad_id, 0.0)
            return picked.sum(-1).tolist()
        finally:
            self.train(was_training)

    @torch.no_grad()
    def beam_search(self, src, beam_size: int = 4, max_len: int | None = None,
                    length_penalty: float = 0.0, return_scores: bool = False,
                    return_steps: bool = False, use_cache: bool = True):
        """Beam search (束搜索): keep the ``beam_size`` best partial outputs at every step.

        Introduced in chapter 12. Each source in ``src`` (``[B, S]`` ids or a list of id
        lists) is searched on its own by :func:`beam_search`, its beams as one batch. A
        hypothesis's score is the sum of the log-probabilities of its tokens, END included
        (the same as :meth:`score`); **not length-normalised** by default, so it prefers
        shorter outputs a little, as the probabilities multiply. With ``length_penalty=α > 0``
        the finished hypotheses are ranked by ``score / len^α`` instead (``len`` counting END),
        as in Wu et al. (2016). ``beam_size=1`` is greedy decoding.

        Returns one list of ids per source, without BEGIN and END; with ``return_scores=True``
        also the raw log-probability sums, ``(tokens, scores)``; with ``return_steps=True``
        also, per source, the hypotheses kept at each step (see :func:`beam_search`):
        ``(tokens, steps)`` or ``(tokens, scores, steps)``. ``use_cache=False`` runs the
        decoder on whole prefixes (:meth:`decode`) instead of :meth:`decode_next`.
        """
        limit = self.max_decode_len(max_len)
        c = self.config
        was_training = self.training
        self.eval()
        try:
            src, src_mask, memory = self._prepare(src)
            results = []
            for b in range(src.shape[0]):
                step = self._beam_step(memory[b:b + 1], src_mask[b:b + 1], use_cache)
                results.append(beam_search(step, c.bos_id, c.eos_id, beam_size, limit,
                                           never=self.never_chosen,
                                           length_penalty=length_penalty, keep_steps=True,
                                           device=src.device))
        finally:
            self.train(was_training)
        out = [r[0] for r in results]
        if not (return_scores or return_steps):
            return out
        out = (out, [r[1] for r in results]) if return_scores else (out,)
        return (*out, [r[2] for r in results]) if return_steps else out

    def _beam_step(self, memory: torch.Tensor, src_mask: torch.Tensor, use_cache: bool):
        """The step function :func:`beam_search` calls for one source (memory ``[1, S, d]``)."""
        cache = None

        def next_logits(ys: torch.Tensor, parents: torch.Tensor | None) -> torch.Tensor:
            nonlocal cache
            n = ys.shape[0]  # open hypotheses, one batch row each
            mem, mask = memory.expand(n, -1, -1), src_mask.expand(n, -1, -1)  # (n, S, d)
            if not use_cache:
                return self.decode(ys, mem, mask)[:, -1]  # (n, V)
            if cache is not None and parents is not None:
                for layer_cache in cache:  # each hypothesis continues its parent's cache
                    layer_cache.select(parents)
            logits, cache = self.decode_next(ys[:, -1], mem, mask, cache)
            return logits

        return next_logits


def _never_mask(never, vocab: int, device) -> torch.Tensor:
    """Bool ``[vocab]`` from token ids (or a bool mask already)."""
    if isinstance(never, torch.Tensor) and never.dtype == torch.bool:
        return never.to(device)
    mask = torch.zeros(vocab, dtype=torch.bool, device=device)
    mask[list(never)] = True
    return mask


def _scores(out, rows: int) -> torch.Tensor:
    """A step function's answer as a float tensor ``[rows, V]``."""
    if not isinstance(out, torch.Tensor):
        out = torch.as_tensor(out, dtype=torch.float64)  # lists, NumPy arrays
    elif not out.dtype.is_floating_point:
        out = out.double()
    if out.dim() == 1 and rows == 1:
        out = out[None]  # (1, V)
    if out.dim() != 2 or out.shape[0] != rows:
        raise ValueError(f"the step function must return one score per token for each of the "
                         f"{rows} sequences, got shape {tuple(out.shape)}")
    return out


def greedy_search(next_logits: Callable[[torch.Tensor], torch.Tensor], begin: int, end: int,
                  max_len: int, never=(), batch: int = 1, on_step: Callable | None = None, *,
                  pad: int | None = None, stop_at_end: bool = True,
                  device=None) -> torch.Tensor:
    """Greedy autoregressive decoding (自回归) with any step function: ``[batch, 1 + steps]``.

    Used in chapter 10 by :meth:`Transformer.greedy_decode`. ``next_logits(ys)`` gets the
    decoder's input so far (``LongTensor [batch, t]`` on ``device``, starting with ``begin``)
    and returns a score per token for each sequence (logits or probabilities: only the largest
    counts; a 1-D list or array will do when ``batch`` is 1). At each step the best token
    (never one in ``never``: token ids, or a bool mask) is appended; a sequence that chose
    ``end`` is done and gets ``pad`` (default: ``end``) from then on, and the loop stops when
    all are done or after ``max_len`` steps. With ``stop_at_end=False`` it always runs
    ``max_len`` steps and keeps choosing (free running: the decoder reads its own guesses).
    ``on_step(step, logits, ys)`` is called after each step with that step's scores and the ids
    so far. Returns ``ys``, BEGIN first; :func:`output_tokens` turns it into token lists.

    >>> def spell(ys):  # a toy decoder that spells 5, 7, 3, then END (2)
    ...     scores = torch.zeros(1, 9)
    ...     scores[0, [5, 7, 3, 2][min(ys.shape[1] - 1, 3)]] = 1.0
    ...     return scores
    >>> greedy_search(spell, begin=1, end=2, max_len=10).tolist()
    [[1, 5, 7, 3, 2]]
    >>> output_tokens(greedy_search(spell, 1, 2, max_len=10), end=2)
    [[5, 7, 3]]
    """
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    ys = torch.full((batch, 1), begin, dtype=torch.long, device=device)  # (batch, 1): BEGIN
    done = torch.zeros(batch, dtype=torch.bool, device=ys.device)
    mask = None
    for step in range(max_len):
        logits = _scores(next_logits(ys), batch)  # (batch, V)
        if mask is None:
            mask = _never_mask(never, logits.shape[-1], logits.device)
        choice = logits.masked_fill(mask, float("-inf")).argmax(-1).to(ys.device)  # (batch,)
        if stop_at_end:
            choice = choice.masked_fill(done, end if pad is None else pad)
        ys = torch.cat([ys, choice[:, None]], dim=1)  # (batch, step + 2)
        if on_step is not None:
            on_step(step, logits, ys)
        if stop_at_end:
            done |= choice == end
            if bool(done.all()):
                break
    return ys


def output_tokens(ys: torch.Tensor, end: int, pad: int | None = None) -> list[list[int]]:
    """Each row of ``ys`` without its first token (BEGIN), cut at ``end``, ``pad`` dropped.

    Used in chapter 10 by :meth:`Transformer.greedy_decode`: what :func:`greedy_search`
    decoded, as lists of token ids.
    """
    out = []
    for row in ys[:, 1:].tolist():
        tokens = []
        for t in row:
            if t == end:
                break
            if t != pad:
                tokens.append(t)
        out.append(tokens)
    return out


def beam_search(next_logits: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
                begin: int, end: int, beam_size: int, max_len: int, never=(),
                length_penalty: float = 0.0, keep_steps: bool = False, device=None):
    """Beam search (束搜索) for one input with any step function: ``(tokens, score)``.

    Used in chapter 12 by :func:`~attnbook.labs.exposure_bias.beam_steps`. The search keeps the
    ``beam_size`` most probable partial outputs
    (hypotheses). ``next_logits(ys, parents)`` gets the open hypotheses (``LongTensor [n, t]``
    on ``device``, ``begin`` first) and returns logits ``[n, V]``; ``parents[i]`` is the row
    of the previous call that hypothesis ``i`` extends (``None`` at the first call), so that
    a cache can follow its hypotheses. At each step every hypothesis is extended by every
    token (never one in ``never``); of all extensions, the best ones are kept, in order of
    score, until ``beam_size`` open hypotheses are found; an extension by ``end`` that ranks
    before then is a finished output. A hypothesis's score is the sum of its tokens'
    log-probabilities, END included. With ``length_penalty=α > 0`` finished outputs are
    ranked by ``score / len^α`` (``len`` counting END; Wu et al., 2016).

    The search stops when no open hypothesis can overtake the best finished one (a
    log-probability is at most 0, so open scores only fall; normalised, one can at best be
    divided by the longest length allowed), or after ``max_len`` tokens (the open hypotheses
    then count as finished, without END). ``beam_size=1`` is greedy decoding.

    Returns ``(tokens, score)``: the best output's ids (without BEGIN and END) and its raw
    score; with ``keep_steps=True`` ``(tokens, score, steps)``, ``steps`` holding for each step
    the list of ``(tokens, score, finished)`` kept at that step, best first.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be a positive integer, got {beam_size!r}")
    if length_penalty < 0:
        raise ValueError(f"length_penalty must be >= 0, got {length_penalty}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    k, alpha = beam_size, length_penalty
    alive: list[tuple[list[int], float]] = [([begin], 0.0)]  # (ids with BEGIN, score)
    finished: list[tuple[list[int], float]] = []  # (ids without BEGIN/END, score)
    steps: list[list[tuple[list[int], float, bool]]] = []
    parents: torch.Tensor | None = None
    mask = None

    def rank(item):  # the score used to choose among finished hypotheses
        toks, s = item
        return s / (len(toks) + 1) ** alpha if alpha else s

    for _ in range(max_len):
        ys = torch.tensor([t for t, _ in alive], dtype=torch.long, device=device)  # (n, t)
        logp = _scores(next_logits(ys, parents), len(alive)).log_softmax(-1)  # (n, V)
        if mask is None:
            mask = _never_mask(never, logp.shape[-1], logp.device)
        logp = logp.masked_fill(mask, float("-inf"))
        total = torch.tensor([s for _, s in alive], device=logp.device)[:, None] + logp
        # At most one extension per hypothesis is END, so the best 2k hold k open ones.
        values, flat = total.flatten().topk(min(2 * k, total.numel()))
        kept, new_alive, new_parents = [], [], []
        for v, i in zip(values.tolist(), flat.tolist(), strict=True):
            beam, tok = divmod(i, logp.shape[1])
            if tok == end:
                finished.append((alive[beam][0][1:], v))
                kept.append((alive[beam][0][1:], v, True))
            else:
                new_alive.append((alive[beam][0] + [tok], v))
                new_parents.append(beam)
                kept.append((alive[beam][0][1:] + [tok], v, False))
            if len(new_alive) == k:
                break
        if keep_steps:
            steps.append(kept)
        alive = new_alive
        if not alive:
            break
        parents = torch.tensor(new_parents, dtype=torch.long, device=device)  # (n,)
        bound = alive[0][1] / (max_len + 1) ** alpha if alpha else alive[0][1]
        if finished and max(map(rank, finished)) >= bound:
            break
    else:  # reached max_len: the open hypotheses count as finished, without END
        finished.extend((t[1:], s) for t, s in alive)
    tokens, score = max(finished, key=rank)
    return (tokens, score, steps) if keep_steps else (tokens, score)


class NATransformer(_Seq2Seq):
    """A non-autoregressive (非自回归, NAT) Transformer: the whole output in one decoder pass.

    Used in chapter 10 by :func:`~attnbook.translate.load_book_model`, to set against the
    autoregressive :class:`Transformer` (AT). The encoder is the same. Since no END token will
    tell when to stop, a **length predictor** (a small classifier over the mean of the
    encoder's output at the real source tokens) chooses the output length ``0..max_target_len``
    first. The decoder then reads that many ``[MASK]`` tokens (plus positions), with **no
    causal mask** — every position sees every other — and predicts all tokens at once.

    Mask-predict (Ghazvininejad et al., 2019) refines this: :meth:`generate` with
    ``iterations=k`` re-masks the least confident tokens and predicts them again, ``k``
    decoder passes in all. It is trained as a conditional masked language model:
    :meth:`loss` masks a random number of target tokens and scores the predictions there,
    plus the length predictor's cross-entropy.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__(config)
        # A small classifier (one hidden layer) over the pooled encoder output.
        self.length_head = nn.Sequential(nn.Linear(config.d_model, config.d_model), nn.ReLU(),
                                         nn.Linear(config.d_model, config.max_target_len + 1))

    def predict_length_logits(self, memory: torch.Tensor,
                              src_mask: torch.Tensor) -> torch.Tensor:
        """Memory ``[B, S, d]`` → scores ``[B, max_target_len + 1]`` for each output length.

        Introduced in chapter 10. Pools the memory over the real source tokens (mean).
        """
        keep = src_mask[:, 0, :, None].to(memory.dtype)  # (B, S, 1)
        pooled = (memory * keep).sum(1) / keep.sum(1).clamp(min=1.0)  # (B, d)
        return self.length_head(pooled)

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor,
               src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Decoder input ``[B, T]`` (tokens or MASK, right-padded) → logits ``[B, T, V]``.

        Introduced in chapter 10. No causal mask: each position attends to every non-padding
        position of the target, and (cross attention) to every real source token.
        """
        keep = tgt_in != self.config.pad_id  # (B, T)
        self_mask = keep[:, None, :] | ~keep[:, :, None]  # (B, T, T): padding queries see all
        return self._decode(tgt_in, memory, src_mask, self_mask)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(token logits [B, T, V], length logits [B, max_target_len + 1])``.

        Introduced in chapter 10.
        """
        src_mask = self.src_padding_mask(src)
        memory = self.encode(src, src_mask)
        return (self.decode(tgt_in, memory, src_mask),
                self.predict_length_logits(memory, src_mask))

    def loss(self, src: torch.Tensor, tgt: torch.Tensor, generator: torch.Generator | None = None,
             full_mask_prob: float = 0.0, length_weight: float = 1.0
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mask-predict training loss for targets ``tgt [B, T]`` (no BEGIN/END, padded).

        Introduced in chapter 10. Per sequence of length L, a number of tokens drawn uniformly
        from 1..L (or all L, with probability ``full_mask_prob``: the one-pass case) is
        replaced by MASK; the loss is the cross-entropy at the masked positions plus
        ``length_weight`` times the length predictor's cross-entropy. Returns
        ``(total, token_loss, length_loss)``.
        """
        c = self.config
        keep = tgt != c.pad_id  # (B, T)
        lengths = keep.sum(1)  # (B,)
        if int(lengths.max()) > c.max_target_len:
            raise ValueError(f"a target of {int(lengths.max())} tokens is longer than "
                             f"max_target_len={c.max_target_len}")
        logits, len_logits, masked = self._masked_logits(src, tgt, keep, generator,
                                                         full_mask_prob)
        token_loss = F.cross_entropy(logits[masked], tgt[masked])
        length_loss = F.cross_entropy(len_logits, lengths)
        return token_loss + length_weight * length_loss, token_loss, length_loss

    def _masked_logits(self, src, tgt, keep, generator, full_mask_prob):
        """Mask a random number 1..L of each target's ``keep`` positions; run the model."""
        c = self.config
        lengths = keep.sum(1)  # (B,)
        dev = tgt.device
        u = torch.rand(tgt.shape, generator=generator, device="cpu").to(dev)
        u = u.masked_fill(~keep, 2.0)  # padding is never masked
        n_mask = (torch.rand(len(tgt), generator=generator, device="cpu").to(dev)
                  * lengths).long() + 1  # (B,) in 1..L
        full = torch.rand(len(tgt), generator=generator, device="cpu").to(dev) < full_mask_prob
        n_mask = torch.where(full, lengths, n_mask)
        order = u.argsort(1).argsort(1)  # rank of each position's random number
        masked = (order < n_mask[:, None]) & keep  # (B, T)
        tgt_in = tgt.masked_fill(masked, c.mask_id)
        logits, len_logits = self(src, tgt_in)
        return logits, len_logits, masked

    @torch.no_grad()
    def generate(self, src, iterations: int = 1, lengths=None, return_steps: bool = False):
        """Decode with ``iterations`` decoder passes (mask-predict; 1 = plain one-pass NAT).

        Introduced in chapter 10. First the length predictor picks each output's length L
        (or use ``lengths``), then pass 1 predicts every position from L ``[MASK]`` inputs.
        Pass ``t+1`` (of ``k``) re-masks the ``L·(k−t)/k`` (rounded down) tokens with the lowest
        probability and predicts those again; the others keep their tokens and probabilities.

        Returns one list of token ids per source. With ``return_steps=True``:
        ``(tokens, steps)``, ``steps`` a list with one dict per pass: ``'input'`` (the
        decoder's input ids ``[B, L]``, MASK where unknown), ``'tokens'`` and ``'probs'``
        (``[B, L]``, after the pass), all CPU tensors, padded with ``pad_id`` / 0, and
        ``'dist'`` (``[B, L, V]``: the distribution each position's current token was chosen
        from, in the pass that last predicted it).
        """
        _check_iterations(iterations)
        was_training = self.training
        self.eval()
        try:
            src, src_mask, memory = self._prepare(src)
            lengths = self._lengths(memory, src_mask, lengths)
            return self._mask_predict(memory, src_mask, lengths, iterations, return_steps)
        finally:
            self.train(was_training)

    @torch.no_grad()
    def generate_each(self, src, iterations) -> dict[int, list[list[int]]]:
        """:meth:`generate` for several numbers of passes: ``{k: outputs}``, one per ``k``.

        Used in chapter 10 by :func:`~attnbook.labs.at_vs_nat.mistakes_by_passes`. The same
        outputs as ``generate(src, iterations=k)`` for each ``k``, computed with the encoder,
        the length predictor and the first pass run once (every ``k`` starts with the same
        pass), so that comparing ``k`` costs fewer decoder passes.
        """
        ks = [_check_iterations(k) for k in iterations]
        if not ks:
            raise ValueError("generate_each needs at least one number of passes")
        was_training = self.training
        self.eval()
        try:
            src, src_mask, memory = self._prepare(src)
            lengths = self._lengths(memory, src_mask, None)
            first = self._first_pass(memory, src_mask, lengths)
            return {k: self._mask_predict(memory, src_mask, lengths, k, first=first)
                    for k in ks}
        finally:
            self.train(was_training)

    def _lengths(self, memory, src_mask, lengths):
        """The output lengths ``[B]``: the length predictor's, or ``lengths`` checked."""
        c = self.config
        B = memory.shape[0]
        if lengths is None:
            # A length of 0 cannot be decoded; at least one token is produced.
            return self.predict_length_logits(memory, src_mask)[:, 1:].argmax(-1) + 1
        lengths = torch.as_tensor(lengths, dtype=torch.long, device=memory.device)
        if lengths.shape != (B,) or int(lengths.min()) < 1 or \
                int(lengths.max()) > c.max_target_len:
            raise ValueError(f"lengths must be {B} integers in 1..{c.max_target_len}")
        return lengths

    def _first_pass(self, memory, src_mask, lengths):
        """Pass 1 of mask-predict: every position from MASK. ``(tokens, probs, dist)``."""
        c = self.config
        T = int(lengths.max())
        keep = torch.arange(T, device=memory.device)[None, :] < lengths[:, None]  # (B, T)
        tgt_in = torch.full(keep.shape, c.mask_id, dtype=torch.long, device=memory.device)
        tgt_in = tgt_in.masked_fill(~keep, c.pad_id)
        dist = self.decode(tgt_in, memory, src_mask).softmax(-1)  # (B, T, V)
        probs, tokens = dist.max(-1)  # (B, T) each
        return tokens.masked_fill(~keep, c.pad_id), probs.masked_fill(~keep, 0.0), dist

    def _mask_predict(self, memory, src_mask, lengths, k, return_steps=False, first=None):
        c = self.config
        T = int(lengths.max())
        keep = torch.arange(T, device=memory.device)[None, :] < lengths[:, None]  # (B, T)
        masked = keep.clone()  # positions to (re)predict
        steps = []
        for t in range(k):
            if t == 0:
                tgt_in = torch.full(keep.shape, c.mask_id, dtype=torch.long,
                                    device=memory.device).masked_fill(~keep, c.pad_id)
                tokens, probs, dist = (first if first is not None
                                       else self._first_pass(memory, src_mask, lengths))
            else:
                tgt_in = tokens.masked_fill(masked, c.mask_id)
                new = self.decode(tgt_in, memory, src_mask).softmax(-1)  # (B, T, V)
                p, pred = new.max(-1)  # (B, T) each
                tokens = torch.where(masked, pred, tokens)
                probs = torch.where(masked, p, probs)
                dist = torch.where(masked[..., None], new, dist)
            if return_steps:
                steps.append({"input": tgt_in.cpu(), "tokens": tokens.cpu(),
                              "probs": probs.masked_fill(~keep, 0.0).cpu(),
                              "dist": dist.masked_fill(~keep[..., None], 0.0).cpu()})
            if t == k - 1:
                break
            n_mask = (lengths * (k - 1 - t)) // k  # (B,)
            rank = probs.masked_fill(~keep, 2.0).argsort(1).argsort(1)  # 0 = least confident
            masked = (rank < n_mask[:, None]) & keep
        out = self._outputs(tokens, lengths)
        return (out, steps) if return_steps else out

    def _outputs(self, tokens, lengths) -> list[list[int]]:
        return [row[:n] for row, n in zip(tokens.tolist(), lengths.tolist(), strict=True)]


def _check_iterations(k) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"iterations must be a positive integer, got {k!r}")
    return k


class MaxLengthNAT(NATransformer):
    """A NAT that decodes to a fixed maximum length and cuts its output at END.

    Introduced in chapter 10: the lecture's second way for a NAT to fix the output's length,
    beside the length predictor of :class:`NATransformer`. The decoder always reads
    ``config.max_target_len`` MASK tokens; it is trained to write the characters, then END,
    then PAD up to that length, and the output is everything before the first END (all
    of it, if it writes no END). The length predictor is kept (so the weights have the same
    shapes) but neither trained nor used; ``lengths`` cannot be given. Mask-predict works as
    for :class:`NATransformer`, over all ``max_target_len`` positions; a PAD it wrote is read
    back as padding.
    """

    def loss(self, src: torch.Tensor, tgt: torch.Tensor, generator: torch.Generator | None = None,
             full_mask_prob: float = 0.0, length_weight: float = 0.0
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The loss for targets ``tgt [B, T]`` (characters only, padded), made full-length.

        Introduced in chapter 10. Each target becomes its characters, END and PAD up to
        ``max_target_len`` positions; a random number 1..max_target_len of them (all, with
        probability ``full_mask_prob``) is masked and the cross-entropy is taken there.
        ``length_weight`` is ignored (there is no length to predict). Returns
        ``(total, token_loss, length_loss)`` with ``length_loss`` 0.
        """
        c = self.config
        lengths = (tgt != c.pad_id).sum(1)  # (B,)
        if int(lengths.max()) >= c.max_target_len:
            raise ValueError(f"a target of {int(lengths.max())} tokens leaves no room for END "
                             f"in max_target_len={c.max_target_len}")
        full = torch.full((len(tgt), c.max_target_len), c.pad_id, dtype=torch.long,
                          device=tgt.device)
        full[:, :tgt.shape[1]] = tgt
        full[torch.arange(len(tgt), device=tgt.device), lengths] = c.eos_id
        keep = torch.ones_like(full, dtype=torch.bool)  # every position is predicted
        logits, _, masked = self._masked_logits(src, full, keep, generator, full_mask_prob)
        token_loss = F.cross_entropy(logits[masked], full[masked])
        zero = token_loss.new_zeros(())
        return token_loss, token_loss, zero

    def _lengths(self, memory, src_mask, lengths):
        if lengths is not None:
            raise ValueError("a MaxLengthNAT always decodes max_target_len positions: "
                             "lengths cannot be given")
        return torch.full((memory.shape[0],), self.config.max_target_len, dtype=torch.long,
                          device=memory.device)

    def _outputs(self, tokens, lengths) -> list[list[int]]:
        end = self.config.eos_id
        return [row[:row.index(end)] if end in row else row for row in tokens.tolist()]


def save_model(model: _Seq2Seq, path, metadata: dict | None = None) -> Path:
    """Save the model's weights and config to one ``.safetensors`` file; returns the path.

    Used in chapter 8 by :func:`~attnbook.translate.train`. The config is stored as JSON in the
    file's metadata (key ``config``), with the model's class (``kind``: ``Transformer`` or
    ``NATransformer``). ``metadata`` adds string entries of your own. The folder is created
    when missing. Never pickle: a safetensors file holds only tensors and text, so loading it
    runs no code.
    """
    from safetensors.torch import save_file

    if not isinstance(model, _Seq2Seq):
        raise ValueError(f"save_model saves a Transformer or NATransformer, "
                         f"got {type(model).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta.update(format="attnbook", kind=type(model).__name__,
                config=json.dumps(model.config.to_dict()))
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata=meta)
    return path


def load_model(path, device=None) -> _Seq2Seq:
    """A model saved by :func:`save_model`, in eval mode, on ``device`` (default: the CPU).

    Introduced in chapter 8.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != "attnbook" or "config" not in meta:
        raise ValueError(f"{path} was not saved by attnbook.model.save_model")
    classes = {"Transformer": Transformer, "NATransformer": NATransformer,
               "MaxLengthNAT": MaxLengthNAT}
    if meta.get("kind") not in classes:
        raise ValueError(f"{path}: unknown model kind {meta.get('kind')!r}")
    model = classes[meta["kind"]](TransformerConfig.from_dict(json.loads(meta["config"])))
    model.load_state_dict(load_file(str(path)))
    return model.to(device or "cpu").eval()

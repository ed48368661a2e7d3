"""Sequences as input: words and sounds as rows of vectors, and what a fully connected window costs.

Introduced in chapter 1. Everything here is NumPy and deterministic: the book's numbers must be
the same on every run, so nothing is downloaded and every random draw takes a seed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "TINY_CORPUS",
    "audio_frames",
    "build_vocab",
    "embed",
    "fully_connected_window_parameters",
    "log_spectrum_features",
    "one_hot",
    "ppmi_svd_embeddings",
    "self_attention_parameters",
    "sliding_windows",
    "synthesize_sound",
    "tokenize",
    "visibility_matrix",
]

# A tiny corpus with a few clear topics (pets, food, weather, travel), so that words used in the
# same kind of sentence end up with similar vectors after PPMI + SVD. Written for this book.
TINY_CORPUS: tuple[str, ...] = (
    "the cat chased the mouse",
    "the dog chased the cat",
    "the cat sat on the mat",
    "the dog sat on the rug",
    "a small cat slept on the mat",
    "a big dog slept on the rug",
    "the mouse ran from the cat",
    "the cat ate the fish",
    "the dog ate the meat",
    "the dog barked at the cat",
    "my cat and my dog play together",
    "the mouse ate the cheese",
    "we ate bread and cheese",
    "we ate rice and fish",
    "she cooked rice and fish for dinner",
    "he cooked bread and soup for lunch",
    "the soup was hot and the bread was fresh",
    "they ate soup for dinner",
    "the rain fell all day",
    "the sun was hot all day",
    "the wind and the rain were cold",
    "the sun and the wind were warm",
    "cold rain fell on the city",
    "warm sun shone on the city",
    "we took the train to the city",
    "she took the bus to the city",
    "the train was late in the rain",
    "the bus was late in the wind",
    "he drove the car to the station",
    "we drove the car to the city",
)
"""A tiny corpus written for this book, with a few clear topics. Introduced in chapter 1."""


def tokenize(text: str) -> list[str]:
    """Split a sentence into lower-case words (letters, digits and apostrophes).

    Introduced in chapter 1. Deliberately simple: real models use sub-word tokenizers, but
    a word per token keeps the sequences readable.
    """
    if not isinstance(text, str):
        raise ValueError(f"tokenize expects a string, got {type(text).__name__}")
    return re.findall(r"[a-z0-9']+", text.lower())


def build_vocab(sentences: Iterable[str | Sequence[str]]) -> dict[str, int]:
    """Map every distinct word of `sentences` to an index, in alphabetical order.

    Introduced in chapter 1. Sorting makes the indices the same on every run (a set's order
    would depend on string hashing). Each sentence may be a string or a list of tokens.
    """
    words: set[str] = set()
    for sentence in sentences:
        words.update(tokenize(sentence) if isinstance(sentence, str) else sentence)
    if not words:
        raise ValueError("build_vocab got no words: the vocabulary would be empty")
    return {word: i for i, word in enumerate(sorted(words))}


def one_hot(tokens: Sequence[str], vocab: dict[str, int]) -> np.ndarray:
    """The tokens as one-hot row vectors: shape ``(len(tokens), len(vocab))``.

    Introduced in chapter 1. Row ``t`` is all zeros except a 1 at ``vocab[tokens[t]]``, so a
    sentence of L words becomes an L × V matrix: a sequence of vectors whose length is L.
    """
    if isinstance(tokens, str):
        raise ValueError("one_hot expects a list of tokens, not one string; use tokenize() first")
    unknown = [t for t in tokens if t not in vocab]
    if unknown:
        raise ValueError(
            f"one_hot: {len(unknown)} token(s) not in the vocabulary of {len(vocab)} words: "
            f"{unknown[:5]}"
        )
    out = np.zeros((len(tokens), len(vocab)))  # (L, V)
    out[np.arange(len(tokens)), [vocab[t] for t in tokens]] = 1.0
    return out


def ppmi_svd_embeddings(
    sentences: Iterable[str], dim: int = 8, window: int = 2
) -> tuple[dict[str, int], np.ndarray]:
    """Word vectors from co-occurrence counts: positive PMI, then a truncated SVD.

    Introduced in chapter 1. Returns ``(vocab, E)`` with ``E`` of shape ``(len(vocab), dim)``;
    ``E[vocab[w]]`` is the vector of word ``w``. Words that occur in similar contexts get
    similar vectors, which is what trained embedding layers learn too, without any download.
    Each row is scaled to unit length so that a dot product between two rows is a cosine.
    """
    if dim < 1:
        raise ValueError(f"dim={dim} must be at least 1")
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    token_lists = [tokenize(s) for s in sentences]
    vocab = build_vocab(token_lists)
    if dim > len(vocab):
        raise ValueError(f"dim={dim} is larger than the vocabulary ({len(vocab)} words)")
    counts = np.zeros((len(vocab), len(vocab)))  # (V, V): how often word j is near word i
    for tokens in token_lists:
        for i, word in enumerate(tokens):
            for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
                if j != i:
                    counts[vocab[word], vocab[tokens[j]]] += 1.0
    total = counts.sum()
    row = counts.sum(axis=1, keepdims=True)
    col = counts.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        # PMI = log p(i, j) / (p(i) p(j)); pairs never seen together give -inf, clipped to 0.
        pmi = np.log(counts * total / (row * col))
    ppmi = np.where(np.isfinite(pmi), np.maximum(pmi, 0.0), 0.0)
    u, s, _ = np.linalg.svd(ppmi)
    vectors = u[:, :dim] * np.sqrt(s[:dim])  # (V, dim)
    # An SVD fixes each singular vector only up to its sign; pick the sign that makes the
    # largest entry positive so that the vectors are the same on every machine.
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(dim)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vocab, vectors / np.where(norms == 0, 1.0, norms)


def embed(tokens: Sequence[str], vocab: dict[str, int], table: np.ndarray) -> np.ndarray:
    """Look the tokens up in an embedding table: shape ``(len(tokens), table.shape[1])``.

    Introduced in chapter 1. Equal to ``one_hot(tokens, vocab) @ table``: an embedding layer is
    a fully connected layer applied to one-hot vectors, computed as a lookup.
    """
    table = np.asarray(table, dtype=float)
    if table.ndim != 2 or table.shape[0] != len(vocab):
        raise ValueError(
            f"the embedding table has shape {table.shape}; expected ({len(vocab)}, dim) for a "
            f"vocabulary of {len(vocab)} words"
        )
    rows = one_hot(tokens, vocab).argmax(axis=1)  # validates the tokens, then (L,) indices
    return table[rows]


def synthesize_sound(duration_s: float, sample_rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """A vowel-like test signal: a few harmonics whose pitch glides, plus a little noise.

    Introduced in chapter 1. It stands in for recorded speech (nothing is downloaded); what
    matters for the book is that a longer sound has more samples and so more frames.
    """
    if duration_s <= 0:
        raise ValueError(f"duration_s={duration_s} must be positive")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate={sample_rate} must be positive")
    t = np.arange(int(round(duration_s * sample_rate))) / sample_rate
    pitch = 120.0 + 40.0 * t / duration_s  # Hz: the voice rises over the utterance
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    signal = sum(np.sin(h * phase) / h for h in (1, 2, 3, 4))
    rng = np.random.default_rng(seed)
    return 0.5 * signal + 0.01 * rng.standard_normal(t.size)


def audio_frames(
    signal: np.ndarray, sample_rate: int, window_ms: float = 25.0, hop_ms: float = 10.0
) -> np.ndarray:
    """Cut a sound into overlapping frames: shape ``(n_frames, window_samples)``.

    Introduced in chapter 1. Speech front ends look at the signal through a short window
    (25 ms) moved in small steps (10 ms); each window becomes one vector. The number of frames
    is ``1 + (n_samples - window) // hop``, so it grows with the sound's duration.
    """
    signal = np.asarray(signal, dtype=float)
    if signal.ndim != 1:
        raise ValueError(f"signal must be 1-D (samples); got shape {signal.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate={sample_rate} must be positive")
    window = int(round(window_ms * sample_rate / 1000))
    hop = int(round(hop_ms * sample_rate / 1000))
    if window < 1 or hop < 1:
        raise ValueError(
            f"window_ms={window_ms} and hop_ms={hop_ms} at {sample_rate} Hz give a window of "
            f"{window} and a hop of {hop} samples; both must be at least 1"
        )
    if signal.size < window:
        raise ValueError(
            f"the signal has {signal.size} samples, fewer than one window of {window} samples "
            f"({window_ms} ms at {sample_rate} Hz)"
        )
    n_frames = 1 + (signal.size - window) // hop
    starts = hop * np.arange(n_frames)  # (n_frames,)
    return signal[starts[:, None] + np.arange(window)]  # (n_frames, window)


def log_spectrum_features(frames: np.ndarray, n_bands: int = 40) -> np.ndarray:
    """A short vector per frame: log energy in `n_bands` equal-width frequency bands.

    Introduced in chapter 1. A simplified cousin of the classic filter-bank and MFCC features:
    it turns a frame of hundreds of samples into a few dozen numbers. Shape
    ``(n_frames, n_bands)``.
    """
    frames = np.asarray(frames, dtype=float)
    if frames.ndim != 2:
        raise ValueError(f"frames must be 2-D (n_frames, samples); got shape {frames.shape}")
    n_bins = frames.shape[1] // 2 + 1
    if not 1 <= n_bands <= n_bins:
        raise ValueError(f"n_bands={n_bands} must be between 1 and {n_bins} (the frequency "
                         f"bins of a {frames.shape[1]}-sample frame)")
    # A Hann window tapers each frame's edges, so the cut does not add false high frequencies.
    power = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[1]), axis=1)) ** 2  # (F, bins)
    edges = np.linspace(0, n_bins, n_bands + 1).astype(int)
    bands = np.stack([power[:, lo:hi].sum(axis=1) for lo, hi in zip(edges[:-1], edges[1:],
                                                                        strict=True)], axis=1)
    return np.log(bands + 1e-10)  # (n_frames, n_bands); the floor keeps silence finite


def visibility_matrix(length: int, window: int | None) -> np.ndarray:
    """Which inputs each output position sees: a ``(length, length)`` NumPy array of 0 and 1.

    Introduced in chapter 1. ``window`` is the (odd) full width of a fully connected window
    centred on each position; ``None`` means self-attention, where every output sees every
    input. (The attention mask of a window is :func:`attnbook.masks.window_mask`: a bool
    tensor whose ``radius`` is half this width.)

    >>> visibility_matrix(4, 3)
    array([[1., 1., 0., 0.],
           [1., 1., 1., 0.],
           [0., 1., 1., 1.],
           [0., 0., 1., 1.]])
    """
    if length < 1:
        raise ValueError(f"length={length} must be at least 1")
    if window is None:
        return np.ones((length, length))
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window={window} must be a positive odd number (centred on a token)")
    offsets = np.arange(length)[None, :] - np.arange(length)[:, None]  # (L, L): j - i
    return (np.abs(offsets) <= window // 2).astype(float)


def sliding_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Each position's window of neighbours, concatenated: ``(L, d)`` → ``(L, window * d)``.

    Introduced in chapter 1. This is the input of a fully connected layer that looks at a
    window: positions past either end are zero-padded, so every row has the same size.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (length, dim); got shape {x.shape}")
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window={window} must be a positive odd number (centred on a token)")
    half = window // 2
    padded = np.pad(x, ((half, half), (0, 0)))  # (L + window - 1, d)
    rows = np.arange(x.shape[0])[:, None] + np.arange(window)  # (L, window) indices into padded
    return padded[rows].reshape(x.shape[0], window * x.shape[1])  # (L, window * d)


def fully_connected_window_parameters(
    window: int, d_in: int, d_out: int, bias: bool = True
) -> int:
    """Parameters of a fully connected layer that reads `window` vectors of size `d_in`.

    Introduced in chapter 1. The layer sees ``window * d_in`` numbers and produces ``d_out``,
    so it has ``window * d_in * d_out`` weights (plus ``d_out`` biases): the count grows with
    the window, and a window that covers a whole sentence must be as long as the longest one.
    """
    for name, value in (("window", window), ("d_in", d_in), ("d_out", d_out)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}={value} must be a positive integer")
    return int(window * d_in * d_out + (d_out if bias else 0))


def self_attention_parameters(
    d_in: int, d_k: int, d_v: int | None = None, bias: bool = False
) -> int:
    """Parameters of one self-attention layer: the matrices Wq, Wk (d_k × d_in), Wv (d_v × d_in).

    Introduced in chapter 1 (the layer itself is chapter 2's subject). The count does not
    depend on the sequence length: the same three matrices are used at every position.
    """
    d_v = d_k if d_v is None else d_v
    for name, value in (("d_in", d_in), ("d_k", d_k), ("d_v", d_v)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}={value} must be a positive integer")
    weights = 2 * d_k * d_in + d_v * d_in
    return int(weights + ((2 * d_k + d_v) if bias else 0))

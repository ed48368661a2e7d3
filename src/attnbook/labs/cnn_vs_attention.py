"""A convolution is self-attention restricted to a window; a small CNN against a small ViT.

Introduced in chapter 6. Two of the chapter's three comparisons (the third, an RNN's
sequential steps, is :mod:`attnbook.labs.rnn_vs_attention`), each with the code that
measures it:

- a convolution is self-attention restricted to a window: :func:`influence_mask` finds which
  inputs each output depends on, and :class:`RelativePositionSelfAttention` is a multi-head
  self-attention layer that :meth:`~RelativePositionSelfAttention.from_conv1d` turns into an
  exact copy of any 1-D convolution (after Cordonnier et al., 2020);
- which learns more from few images: :class:`SmallCNN` and :class:`SmallViT` trained on
  scikit-learn's bundled digits at several training-set sizes (:func:`data_size_sweep`);
- where self-attention overtakes the CNN as the training set grows, on a task built so that a
  CPU reaches the crossover (:func:`near_far_task`, :class:`WindowCNN`,
  :class:`SmallSelfAttention`, :func:`crossover_sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from attnbook import training
from attnbook.layers import EncoderLayer
from attnbook.measure import num_threads
from attnbook.training import TrainConfig

__all__ = [
    "CLASSIFIER_TRAINING",
    "CROSSOVER_TRAINING",
    "RelativePositionSelfAttention",
    "SmallCNN",
    "SmallSelfAttention",
    "SmallViT",
    "WindowCNN",
    "accuracy",
    "conv1d_as_attention",
    "conv_receptive_field",
    "crossover_sweep",
    "data_size_sweep",
    "digits_split",
    "influence_mask",
    "near_far_task",
    "shift_weights",
    "stratified_subset",
    "train_classifier",
]


# --------------------------------------------------------------------------------------------
# A convolution is attention restricted to a window
# --------------------------------------------------------------------------------------------


def influence_mask(layer: Callable[[torch.Tensor], torch.Tensor], n: int, d: int,
                   seed: int = 0) -> torch.Tensor:
    """Bool ``[n, n]``: True where output ``i`` of ``layer`` depends on input ``j``.

    Introduced in chapter 6, to measure a layer's receptive field (感受野). ``layer`` maps
    ``[1, n, d]`` to ``[1, n, d_out]``; the answer is read from the Jacobian at a random input
    (``seed``): an entry that is exactly zero for every feature means "no dependence".
    """
    x = torch.randn(1, n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda t: layer(t)[0], x)  # (n, d_out, 1, n, d)
    return jac.abs().sum(dim=(1, 2, 4)) > 0


class _ConvStack(nn.Module):
    """``num_layers`` 1-D convolutions (same padding) on ``[B, L, d]`` inputs."""

    def __init__(self, d: int, kernel_size: int, num_layers: int):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(d, d, kernel_size, padding=kernel_size // 2)
                                   for _ in range(num_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)  # (B, d, L): Conv1d wants channels first
        for i, conv in enumerate(self.convs):
            x = conv(x) if i == 0 else conv(torch.tanh(x))
        return x.transpose(1, 2)  # (B, L, d)


def conv_receptive_field(n: int, kernel_size: int, num_layers: int = 1, d: int = 2,
                         seed: int = 0) -> torch.Tensor:
    """Bool ``[n, n]``: which inputs each output of a stack of 1-D convolutions can see.

    Introduced in chapter 6. Measured with :func:`influence_mask` on a randomly initialized
    stack of ``num_layers`` convolutions of odd ``kernel_size`` (same padding); it equals
    ``attnbook.masks.window_mask(n, num_layers * (kernel_size // 2))``.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    torch.manual_seed(seed)
    stack = _ConvStack(d, kernel_size, num_layers).double()
    return influence_mask(stack, n, d, seed)


def shift_weights(n: int, shift: int, padding: int = 0) -> torch.Tensor:
    """``[n, n + 2·padding]`` attention weights that copy token ``i + shift`` to position ``i``.

    Used in chapter 6 by :class:`RelativePositionSelfAttention`: the weights of one head of a
    convolution written as attention. Column ``c`` is token ``c − padding`` (the first and last
    ``padding`` columns are the zero tokens a convolution pads with). A row whose target lies
    outside has all-zero weights.
    """
    i = torch.arange(n)[:, None]
    c = torch.arange(n + 2 * padding)[None, :]
    return (c - padding == i + shift).double()


class RelativePositionSelfAttention(nn.Module):
    """Multi-head self-attention with relative-position scores (after Cordonnier et al., 2020).

    Introduced in chapter 6. The score of query ``i`` for key ``j`` in head ``h`` is a content
    term plus a position term, ``qᵢ·kⱼ/√d_key + u_h · r(j − i)`` with ``r(δ) = (δ², δ)``; each
    head has its own ``u_h``, so it can prefer a relative offset. The keys and values are the
    inputs with ``padding`` zero tokens added at both ends, as a convolution pads.
    :meth:`from_conv1d` sets ``u_h = −α (1, −2Δ_h)``: the score is ``−α (δ − Δ_h)² + const``,
    so for large ``α`` head ``h`` puts all its weight on the token at offset ``Δ_h``, and the
    output projection applies the convolution's kernel column for that offset.

    ``forward(x [B, L, d_in])`` returns ``(out [B, L, d_out], weights [B, h, L, L + 2·padding])``.
    """

    def __init__(self, d_in: int, d_out: int, num_heads: int, d_head: int | None = None,
                 d_key: int = 8, padding: int = 0):
        super().__init__()
        if min(d_in, d_out, num_heads, d_key) < 1 or padding < 0:
            raise ValueError(f"d_in={d_in}, d_out={d_out}, num_heads={num_heads} and "
                             f"d_key={d_key} must be positive and padding={padding} >= 0")
        self.num_heads = num_heads  # heads that attend independently
        self.d_head = d_in if d_head is None else d_head  # width of one head's values
        self.d_key = d_key  # width of one head's content queries and keys
        self.padding = padding  # zero tokens added at each end of the keys and values
        self.q_proj = nn.Linear(d_in, num_heads * d_key, bias=False)  # content queries
        self.k_proj = nn.Linear(d_in, num_heads * d_key, bias=False)  # content keys
        self.position_query = nn.Parameter(torch.zeros(num_heads, 2))  # u_h, one per head
        self.v_proj = nn.Linear(d_in, num_heads * self.d_head, bias=False)
        self.out_proj = nn.Linear(num_heads * self.d_head, d_out)  # merges the heads

    def relative_positions(self, n: int) -> torch.Tensor:
        """``[n, n + 2·padding, 2]``: ``r(δ) = (δ², δ)`` for every query and (padded) key."""
        i = torch.arange(n)[:, None]
        j = torch.arange(-self.padding, n + self.padding)[None, :]
        delta = (j - i).to(self.position_query.dtype)  # (n, n + 2p): key minus query
        return torch.stack([delta ** 2, delta], dim=-1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, _ = x.shape
        h, p = self.num_heads, self.padding
        xk = F.pad(x, (0, 0, p, p))  # (B, n + 2p, d_in): zero tokens at both ends
        q = self.q_proj(x).view(B, n, h, self.d_key).transpose(1, 2)  # (B, h, n, d_key)
        k = self.k_proj(xk).view(B, n + 2 * p, h, self.d_key).transpose(1, 2)
        v = self.v_proj(xk).view(B, n + 2 * p, h, self.d_head).transpose(1, 2)
        content = q @ k.transpose(-2, -1) / math.sqrt(self.d_key)  # (B, h, n, n + 2p)
        position = torch.einsum("hc,ijc->hij", self.position_query,
                                self.relative_positions(n))  # (h, n, n + 2p)
        weights = torch.softmax(content + position, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(B, n, h * self.d_head)  # (B, n, h·d_head)
        return self.out_proj(out), weights

    @classmethod
    def from_conv1d(cls, conv: nn.Conv1d, alpha: float = 200.0) -> RelativePositionSelfAttention:
        """A layer that computes exactly what ``conv`` computes (on ``[B, L, C]`` inputs).

        Introduced in chapter 6. One head per kernel position: head ``h`` looks at offset
        ``Δ_h = h − padding`` with ``u_h = −α (1, −2Δ_h)``; the content queries and keys are
        zero; each head's values are the inputs themselves, and the output projection holds
        the kernel, ``W_o = [W_{Δ_1} … W_{Δ_K}]``, with the convolution's bias. With the default
        ``α = 200`` the other offsets get weight ``exp(−200) ≈ 1e−87`` at most: exactly 0 in
        float32, and far below float64's rounding of the output.
        """
        (kernel,) = conv.kernel_size
        (padding,) = conv.padding if isinstance(conv.padding, tuple) else (conv.padding,)
        if (conv.stride, conv.dilation, conv.groups) != ((1,), (1,), 1):
            raise ValueError("from_conv1d needs stride 1, dilation 1 and groups 1")
        if kernel % 2 == 0 or padding != kernel // 2 or conv.padding_mode != "zeros":
            raise ValueError(f"from_conv1d needs an odd kernel with 'same' zero padding "
                             f"(padding = kernel_size // 2); got kernel_size={kernel}, "
                             f"padding={conv.padding}, padding_mode={conv.padding_mode!r}")
        d_out, d_in, _ = conv.weight.shape
        layer = cls(d_in, d_out, num_heads=kernel, d_head=d_in, padding=padding)
        layer = layer.to(conv.weight.dtype)
        with torch.no_grad():
            layer.q_proj.weight.zero_()
            layer.k_proj.weight.zero_()
            shifts = torch.arange(kernel, dtype=conv.weight.dtype) - padding  # Δ_h
            layer.position_query.copy_(-alpha * torch.stack(
                [torch.ones_like(shifts), -2 * shifts], dim=-1))
            layer.v_proj.weight.copy_(torch.eye(d_in, dtype=conv.weight.dtype).repeat(kernel, 1))
            # Head h's output block multiplies the token at offset Δ_h by the kernel's column
            # for that offset: W[:, :, h] is (d_out, d_in).
            layer.out_proj.weight.copy_(conv.weight.permute(0, 2, 1).reshape(d_out, kernel * d_in))
            if conv.bias is None:
                layer.out_proj.bias.zero_()
            else:
                layer.out_proj.bias.copy_(conv.bias)
        return layer


def conv1d_as_attention(x: torch.Tensor, weight: torch.Tensor,
                        bias: torch.Tensor | None = None) -> torch.Tensor:
    """A 1-D convolution (same zero padding) computed as a sum of attention heads.

    Introduced in chapter 6. ``x [L, d_in]``, ``weight [d_out, d_in, K]`` (``K`` odd, the
    layout of ``nn.Conv1d``), ``bias [d_out]``; returns ``[L, d_out]``. Head ``h`` has the
    fixed weights ``shift_weights(L, h − K//2, K//2)``: output ``i`` is
    ``Σ_h (Aₕ x̃)ᵢ W[:, :, h]ᵀ + b``, where ``x̃`` is ``x`` padded with zero tokens.
    """
    d_out, d_in, kernel = weight.shape
    n, p = x.shape[0], kernel // 2
    padded = F.pad(x, (0, 0, p, p))  # (n + 2p, d_in)
    out = torch.zeros(n, d_out, dtype=x.dtype)
    for h in range(kernel):
        attn = shift_weights(n, h - p, p).to(x.dtype)  # (n, n + 2p): one-hot rows
        out = out + (attn @ padded) @ weight[:, :, h].T
    return out if bias is None else out + bias


# --------------------------------------------------------------------------------------------
# Images: a small CNN and a small ViT on scikit-learn's digits
# --------------------------------------------------------------------------------------------


def digits_split(test_size: int = 497, seed: int = 0
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits (1797 images of 8 × 8 pixels, no download), split once.

    Used in chapter 6 by :func:`data_size_sweep`. Returns ``(X_pool, y_pool, X_test, y_test)``:
    images as float32 ``[N, 1, 8, 8]`` scaled to ``[0, 1]``, labels as int64. The test set is
    stratified (every digit in proportion) and the same for every training-set size; training
    sets are drawn from the pool with :func:`stratified_subset`.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.images.astype(np.float32)[:, None] / 16.0  # (N, 1, 8, 8)
    y = digits.target.astype(np.int64)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed)
    return (torch.from_numpy(X_pool), torch.from_numpy(y_pool), torch.from_numpy(X_test),
            torch.from_numpy(y_test))


def stratified_subset(y: torch.Tensor, size: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``size`` examples with the classes as balanced as possible.

    Used in chapter 6 by :func:`data_size_sweep`. Deterministic for a ``seed``; the subsets of
    one seed are nested (a smaller training set is part of every larger one), so sizes compare
    fairly.
    """
    classes = torch.unique(y)
    if not 0 < size <= len(y):
        raise ValueError(f"size={size} must be between 1 and the {len(y)} examples")
    g = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(y == c).flatten() for c in classes]
    per_class = [idx[torch.randperm(len(idx), generator=g)] for idx in per_class]
    # Deal the classes round-robin: position r of each class's shuffled list, class by class.
    order = []
    for r in range(max(len(idx) for idx in per_class)):
        order.extend(int(idx[r]) for idx in per_class if r < len(idx))
    return torch.tensor(order[:size])


class SmallCNN(nn.Module):
    """A small convolutional network for 8 × 8 images: two 3 × 3 convolutions, then a linear
    classifier.

    Introduced in chapter 6. Each convolution only sees a 3 × 3 neighbourhood: locality is
    built in, which is a strong prior for images.
    """

    def __init__(self, channels: int = 8, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.head = nn.Linear(2 * channels * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))  # (B, c, 8, 8)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (B, 2c, 4, 4)
        return self.head(x.flatten(1))


class SmallViT(nn.Module):
    """A small Vision Transformer for 8 × 8 images: patches, positional encoding, encoder
    layers, mean pooling, a linear classifier.

    Introduced in chapter 6, after Dosovitskiy et al. (2021). The image is cut into
    ``patch × patch`` patches (16 tokens of 4 pixels for ``patch=2``), each embedded by one
    linear map; a learned positional encoding tells the layers where each patch is, since
    self-attention alone ignores order. Every token may attend to every other: no locality
    is built in; it must be learned from the data. No dropout by default: the book's runs are
    short, and dropout's random masks would make each step slower on a CPU.
    """

    def __init__(self, patch: int = 2, d_model: int = 32, num_heads: int = 4,
                 num_layers: int = 2, dim_feedforward: int = 64, dropout: float = 0.0,
                 num_classes: int = 10, image_size: int = 8):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"patch={patch} does not divide image_size={image_size}")
        self.patch = patch  # side of a square patch, in pixels
        num_tokens = (image_size // patch) ** 2
        self.embed = nn.Linear(patch * patch, d_model)  # one patch → one token vector
        self.position = nn.Parameter(0.02 * torch.randn(num_tokens, d_model))  # learned
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, dim_feedforward, dropout, norm_first=True)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1, H, W]`` → ``[B, (H/p)·(W/p), p·p]``: the patches in reading order."""
        B, _, H, W = x.shape
        p = self.patch
        x = x.reshape(B, H // p, p, W // p, p).permute(0, 1, 3, 2, 4)  # (B, H/p, W/p, p, p)
        return x.reshape(B, (H // p) * (W // p), p * p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(self.patches(x)) + self.position  # (B, T, d_model)
        for layer in self.layers:
            tokens = layer(tokens)
        return self.head(self.norm(tokens).mean(dim=1))


CLASSIFIER_TRAINING = TrainConfig(steps=200, batch_size=64, lr=3e-3, optimizer="adamw",
                                  weight_decay=1e-4, seed=0, threads=1)
"""How :func:`train_classifier` trains by default: AdamW at a constant rate with a little
weight decay, 200 steps of 64 images whatever the training-set size, on one CPU thread (these
models are too small to gain from more, and the result then does not depend on how many cores
the machine has). Introduced in chapter 6."""


def train_classifier(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                     config: TrainConfig = CLASSIFIER_TRAINING) -> nn.Module:
    """Train ``model`` on ``(X, y)`` with cross-entropy; returns it in eval mode.

    Used in chapter 6 by :func:`data_size_sweep`. The loop is :func:`attnbook.training.train`
    (by default :data:`CLASSIFIER_TRAINING`); each step draws ``config.batch_size`` examples at
    random (with replacement, from a generator seeded with ``config.seed``). The number of
    steps is fixed, so a small training set is seen many times over (and can be overfitted,
    过拟合) while a large one is seen fewer times.
    """
    g = torch.Generator().manual_seed(config.seed)
    batch = min(config.batch_size, len(X))

    def loss_fn() -> torch.Tensor:
        idx = torch.randint(len(X), (batch,), generator=g)
        return F.cross_entropy(model(X[idx]), y[idx])

    training.train(model, loss_fn, config)
    return model


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of ``X`` that ``model`` classifies correctly. Introduced in chapter 6."""
    model.eval()
    with num_threads(1):
        return float((model(X).argmax(dim=-1) == y).float().mean())


def data_size_sweep(sizes: Sequence[int], seeds: Sequence[int] = (0,),
                    config: TrainConfig = CLASSIFIER_TRAINING,
                    models: dict[str, Callable[[], nn.Module]] | None = None,
                    ) -> dict[str, object]:
    """Test accuracy of each model trained on each training-set size, for each seed.

    Introduced in chapter 6. ``models`` maps a name to a function that builds a fresh model
    (default: ``{"CNN": SmallCNN, "ViT": SmallViT}``). Returns ``{"sizes": [...],
    "seeds": [...], "accuracy": {name: [[acc per seed] per size]}, "parameters": {name: n},
    "test_size": n}``. Seed ``s`` fixes the subset, the initialization and the batches
    (``config`` with its ``seed`` replaced).
    """
    models = models or {"CNN": SmallCNN, "ViT": SmallViT}
    X_pool, y_pool, X_test, y_test = digits_split()
    result: dict[str, object] = {
        "sizes": [int(s) for s in sizes], "seeds": [int(s) for s in seeds],
        "test_size": len(y_test), "accuracy": {name: [] for name in models},
        "parameters": {name: sum(p.numel() for p in build().parameters())
                       for name, build in models.items()},
    }
    for size in sizes:
        for name in models:
            result["accuracy"][name].append([])
        for seed in seeds:
            idx = stratified_subset(y_pool, size, seed)
            for name, build in models.items():
                torch.manual_seed(seed)
                model = train_classifier(build(), X_pool[idx], y_pool[idx],
                                         replace(config, seed=seed))
                result["accuracy"][name][-1].append(accuracy(model, X_test, y_test))
    return result


# --------------------------------------------------------------------------------------------
# Sequences: a task where the crossover fits on a CPU
# --------------------------------------------------------------------------------------------


def near_far_task(n: int, seed: int = 0, length: int = 32, near: int = 1, far: int = 16
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` examples of the near/far task: ``(X [n, length, 4], y [n], is_far [n])``.

    Introduced in chapter 6. Each example is ``length`` random bits with one position ``p``
    marked by one of two kinds of mark, drawn with equal chance: a *near* mark asks whether
    bit ``p`` equals bit ``p + near``, a *far* mark whether it equals bit ``p + far``. The
    label ``y`` is 1 for "equal" (half of the examples; the partner bit is set to make it so)
    and ``is_far`` says which question was asked. ``X`` holds per position the bit, one-hot
    (features 0 and 1), and the mark (feature 2: near, feature 3: far; zero where unmarked).
    Deterministic for a ``seed``, and nested: the first ``m`` examples of ``n`` are the ``m``
    examples drawn with the same seed (each example takes its own row of uniform numbers).
    """
    if not 0 < near < far < length:
        raise ValueError(f"need 0 < near={near} < far={far} < length={length}")
    u = torch.rand(n, length + 3, generator=torch.Generator().manual_seed(seed))
    bits = (u[:, :length] < 0.5).long()
    is_far = u[:, length] < 0.5
    offset = torch.where(is_far, far, near)
    p = (u[:, length + 1] * (length - offset)).long()  # the partner fits
    y = u[:, length + 2] < 0.5
    rows = torch.arange(n)
    bits[rows, p + offset] = torch.where(y, bits[rows, p], 1 - bits[rows, p])
    mark = torch.zeros(n, length, 2)
    mark[rows, p, is_far.long()] = 1.0
    X = torch.cat([F.one_hot(bits, 2).float(), mark], dim=-1)
    return X, y.long(), is_far


def _at_mark(h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``h [B, L, d]`` read at the marked position of ``x`` (its last two features)."""
    return (h * x[..., -2:].sum(dim=-1, keepdim=True)).sum(dim=1)


class WindowCNN(nn.Module):
    """A small 1-D CNN for :func:`near_far_task`: ``num_layers`` convolutions of width
    ``kernel_size`` with ReLU, then a linear classifier of the features at the marked position.

    Introduced in chapter 6. With the defaults its receptive field reaches 2 positions to each
    side (:func:`conv_receptive_field`): a near partner is in view, a far one never is,
    however long it trains.
    """

    def __init__(self, channels: int = 32, kernel_size: int = 3, num_layers: int = 2,
                 in_features: int = 4):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(in_features if i == 0 else channels, channels, kernel_size,
                      padding=kernel_size // 2) for i in range(num_layers))
        self.head = nn.Linear(channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)  # (B, features, L): Conv1d wants channels first
        for conv in self.convs:
            h = F.relu(conv(h))
        return self.head(_at_mark(h.transpose(1, 2), x))


class _OffsetBiasLayer(nn.Module):
    """A pre-LN encoder block whose attention scores get a learned bias per head and offset."""

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int, max_len: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)  # Wq, Wk, Wv of all heads, stacked
        self.out = nn.Linear(d_model, d_model)
        self.offset_bias = nn.Parameter(torch.zeros(num_heads, 2 * max_len - 1))  # b_h(j − i)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(nn.Linear(d_model, dim_feedforward), nn.ReLU(),
                                          nn.Linear(dim_feedforward, d_model))
        self.max_len = max_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, n, d = x.shape
        h = self.num_heads
        q, k, v = self.qkv(self.norm1(x)).view(B, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        pos = torch.arange(n, device=x.device)
        offset = pos[None, :] - pos[:, None] + self.max_len - 1  # (n, n): j − i, shifted
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // h) + self.offset_bias[:, offset]
        out = torch.softmax(scores, dim=-1) @ v  # (B, h, n, d/h)
        x = x + self.out(out.transpose(1, 2).reshape(B, n, d))
        return x + self.feed_forward(self.norm2(x))


class SmallSelfAttention(nn.Module):
    """A small self-attention classifier for :func:`near_far_task`: a linear embedding, one
    pre-LN encoder block, a linear classifier of the output at the marked position.

    Introduced in chapter 6. Each head's score of query ``i`` for key ``j`` is
    ``qᵢ·kⱼ/√d_head + b_h(j − i)``, with a learned bias for every offset (relative position,
    after Shaw et al., 2018). All biases start at zero: every offset is equally in view, and
    which ones matter the model must learn from the data. Like the CNN it treats every
    position alike; unlike the CNN it can look at any distance.
    """

    def __init__(self, d_model: int = 32, num_heads: int = 2, dim_feedforward: int = 64,
                 in_features: int = 4, max_len: int = 32):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.embed = nn.Linear(in_features, d_model)
        self.block = _OffsetBiasLayer(d_model, num_heads, dim_feedforward, max_len)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block(self.embed(x))
        return self.head(_at_mark(self.norm(h), x))


CROSSOVER_TRAINING = replace(CLASSIFIER_TRAINING, steps=1000)
"""How :func:`crossover_sweep` trains by default: as :data:`CLASSIFIER_TRAINING` (AdamW,
batches of 64, one CPU thread) but 1000 steps, whatever the training-set size. Introduced in
chapter 6."""


def crossover_sweep(sizes: Sequence[int], seeds: Sequence[int] = (0,),
                    config: TrainConfig = CROSSOVER_TRAINING,
                    models: dict[str, Callable[[], nn.Module]] | None = None,
                    test_size: int = 2000) -> dict[str, object]:
    """Accuracy of each model trained on each training-set size of :func:`near_far_task`.

    Introduced in chapter 6. ``models`` maps a name to a function that builds a fresh model
    (default: ``{"CNN": WindowCNN, "attention": SmallSelfAttention}``). The test set (seed
    1000) is the same for every run. Seed ``s`` draws the training pool (a size uses its first
    examples, so the sets are nested), the initialization and the batches. Returns
    ``{"sizes", "seeds", "test_size", "parameters", "accuracy", "near", "far"}``; the last three
    map a name to ``[[accuracy per seed] per size]``: on the whole test set, on its near half
    and on its far half.
    """
    models = models or {"CNN": WindowCNN, "attention": SmallSelfAttention}
    X_test, y_test, far_test = near_far_task(test_size, seed=1000)
    result: dict[str, object] = {
        "sizes": [int(s) for s in sizes], "seeds": [int(s) for s in seeds],
        "test_size": int(test_size),
        "parameters": {name: sum(p.numel() for p in build().parameters())
                       for name, build in models.items()},
    }
    parts = {"accuracy": slice(None), "near": ~far_test, "far": far_test}
    for key in parts:
        result[key] = {name: [[] for _ in sizes] for name in models}
    for seed in seeds:
        X, y, _ = near_far_task(max(sizes), seed=seed)
        for i, size in enumerate(sizes):
            for name, build in models.items():
                torch.manual_seed(seed)
                model = train_classifier(build(), X[:size], y[:size],
                                         replace(config, seed=seed))
                for key, part in parts.items():
                    acc = accuracy(model, X_test[part], y_test[part])
                    result[key][name][i].append(round(acc, 4))
    return result

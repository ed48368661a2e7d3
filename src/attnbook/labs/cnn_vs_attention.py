"""A convolution is self-attention restricted to a window; a small CNN against a small ViT.

Introduced in chapter 6. Two of the chapter's three comparisons (the third, an RNN's
sequential steps, is :mod:`attnbook.labs.rnn_vs_attention`), each with the code that
measures it:

- a convolution is self-attention restricted to a window: :func:`influence_mask` finds which
  inputs each output depends on, and :class:`RelativePositionSelfAttention` is a multi-head
  self-attention layer that :meth:`~RelativePositionSelfAttention.from_conv1d` turns into an
  exact copy of any 1-D convolution (after Cordonnier et al., 2020);
- which learns more from few images: :class:`SmallCNN` and :class:`SmallViT` trained on
  scikit-learn's bundled digits at several training-set sizes (:func:`data_size_sweep`).
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
    "RelativePositionSelfAttention",
    "SmallCNN",
    "SmallViT",
    "accuracy",
    "conv1d_as_attention",
    "conv_receptive_field",
    "data_size_sweep",
    "digits_split",
    "influence_mask",
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

    Introduced in chapter 6, to measure a layer's receptive field (感知区域). ``layer`` maps
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

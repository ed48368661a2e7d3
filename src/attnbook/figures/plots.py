"""Every plot of the chapters' own measurements, in the book's one style.

Not numbered figures (those are F1–F19, drawn from seeded examples): each function here takes
numbers a chapter has just measured (or loaded from a saved sweep) and returns a
`matplotlib.figure.Figure`, closed in pyplot so that a notebook shows it once, as the cell's
value. All of them use :data:`attnbook.figures.style.STYLE`: Okabe-Ito colours (each curve also
told apart by its marker or line style), dark text on an opaque white card (readable in the
website's light and dark modes), and one sequential colormap for every heatmap, viridis, the
colormap of the interactive attention views.

==========================  =======  ==================================================
plot                        chapter  what it shows
==========================  =======  ==================================================
saturation_plot             3        score variance and weight entropy against d_k
head_maps_plot              4        one attention map per head of a layer
encoding_similarity_plot    5        eⁱ · eʲ against the distance |i - j|
accuracy_by_position_plot   5        accuracy at each position of long sequences
receptive_field_plot        6        which inputs each output sees (bool masks)
data_size_plot              6        CNN vs ViT accuracy against training-set size
rnn_timing_plot             6        RNN / attention time, gradient against distance
cost_plot                   7        time and peak memory against n, per method
at_vs_nat_plot              10       AT vs NAT: accuracy against decoder passes
head_grid_plot              13       a statistic per layer and head, as heatmaps
sentence_similarity_plot    13       cosine similarity of every pair of sentences
==========================  =======  ==================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from attnbook.figures.primitives import fmt, plot_figure, style_axes
from attnbook.figures.style import STYLE, style_context

__all__ = [
    "METHOD_STYLE",
    "accuracy_by_position_plot",
    "at_vs_nat_plot",
    "cost_plot",
    "crossover_plot",
    "data_size_plot",
    "encoding_similarity_plot",
    "head_grid_plot",
    "head_maps_plot",
    "receptive_field_plot",
    "rnn_timing_plot",
    "saturation_plot",
    "sentence_similarity_plot",
]


# --------------------------------------------------------------------------------------------
# Chapters 3–5: the scale of the scores, heads, positions
# --------------------------------------------------------------------------------------------


def saturation_plot(d_k: Sequence[int], variance: Mapping[str, Sequence[float]],
                    entropy: Mapping[str, Sequence[float]], max_entropy: float) -> Figure:
    """Two panels against d_k: the variance of the scores, and the entropy of the weights.

    Introduced in chapter 3 (why divide by √d_k). `variance` and `entropy` map a curve's
    label (e.g. ``"q·k"`` and ``"q·k / √d_k"``) to one value per d_k; `max_entropy` is the
    entropy of uniform weights, drawn as a dashed line.
    """
    with style_context():
        fig, (left, right) = plot_figure(8.4, 3.2, ncols=2)
        colors = [STYLE.vermillion, STYLE.blue, STYLE.green]
        markers = ["o", "s", "^"]
        for (label, values), color, marker in zip(variance.items(), colors, markers,
                                                   strict=False):
            left.plot(d_k, values, marker=marker, color=color, label=label, linewidth=1.6)
        left.set_xscale("log", base=2)
        left.set_yscale("log", base=2)
        left.set_xlabel("$d_k$")
        left.set_title("variance of the scores", fontsize=STYLE.fontsize)
        for (label, values), color, marker in zip(entropy.items(), colors, markers,
                                                  strict=False):
            right.plot(d_k, values, marker=marker, color=color, label=label, linewidth=1.6)
        right.axhline(max_entropy, color=STYLE.muted, linestyle="--", linewidth=1.2,
                      label="uniform weights")
        right.set_xscale("log", base=2)
        right.set_ylim(0, max_entropy * 1.1)
        right.set_xlabel("$d_k$")
        right.set_title("entropy of the weights (nats)", fontsize=STYLE.fontsize)
        for ax in (left, right):
            style_axes(ax)
        right.legend(fontsize=STYLE.small, frameon=False, loc="lower left")
        fig.tight_layout()
    return fig


def head_maps_plot(weights: np.ndarray, tokens: Sequence[str],
                   titles: Sequence[str]) -> Figure:
    """Every head of a layer side by side: one heatmap per head (rows: queries, columns: keys).

    Introduced in chapter 4. `weights` is ``(heads, L, L)``; one colour scale for all heads
    (the style's sequential colormap, as in the interactive view).
    """
    weights = np.asarray(weights, dtype=float)
    h = weights.shape[0]
    if len(titles) != h:
        raise ValueError(f"{len(titles)} titles for {h} heads")
    with style_context():
        fig, axes = plot_figure(2.25 * h + 0.6, 3.0, ncols=h)
        vmax = float(weights.max())
        for ax, w, title in zip(axes, weights, titles, strict=True):
            image = ax.imshow(w, cmap=STYLE.sequential, vmin=0, vmax=vmax, interpolation="nearest")
            ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
            ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
            ax.set_title(title, fontsize=STYLE.small)
            ax.tick_params(length=0)
        axes[0].set_ylabel("query", fontsize=STYLE.small)
        for ax in axes:
            ax.set_xlabel("key", fontsize=STYLE.small)
        fig.tight_layout()
        bar = fig.colorbar(image, ax=axes, fraction=0.02, pad=0.02)
        bar.ax.tick_params(labelsize=8)
    return fig


def encoding_similarity_plot(distance: np.ndarray, curves: Mapping[str, np.ndarray],
                             ylabel: str = "$e^i \\cdot e^j$ / $(d/2)$") -> Figure:
    """Dot product of two positions' encodings against their distance, one curve per label.

    Introduced in chapter 5.
    """
    with style_context():
        fig, (ax,) = plot_figure(8.0, 3.0)
        colors = [STYLE.blue, STYLE.vermillion, STYLE.green, STYLE.purple]
        styles = ["-", "--", "-.", ":"]
        for (label, values), color, style in zip(curves.items(), colors, styles, strict=False):
            ax.plot(distance, values, style, color=color, label=label, linewidth=1.8)
        ax.axhline(0, color=STYLE.muted, linewidth=0.8)
        ax.set_xlabel("distance $|i - j|$ between the positions")
        ax.set_ylabel(ylabel)
        style_axes(ax)
        ax.legend(fontsize=STYLE.small, frameon=False, loc="upper right")
        fig.tight_layout()
    return fig


def accuracy_by_position_plot(accuracy: Mapping[str, np.ndarray], train_length: int,
                              chance: float) -> Figure:
    """Accuracy at each position of long test sequences, one curve per positional encoding.

    Introduced in chapter 5. A vertical line marks the end of the training length.
    """
    with style_context():
        fig, (ax,) = plot_figure(8.0, 3.2)
        colors = [STYLE.muted, STYLE.vermillion, STYLE.blue, STYLE.green]
        markers = ["x", "o", "s", "^"]
        for (label, values), color, marker in zip(accuracy.items(), colors, markers,
                                                  strict=False):
            positions = np.arange(len(values))
            ax.plot(positions, values, marker=marker, markersize=3.5, color=color, label=label,
                    linewidth=1.4)
        ax.axvline(train_length - 0.5, color=STYLE.text, linestyle="--", linewidth=1.0)
        ax.text(train_length - 0.8, 0.5, "positions seen\nin training", ha="right",
                fontsize=STYLE.small, color=STYLE.text, va="center")
        ax.axhline(chance, color=STYLE.muted, linestyle=":", linewidth=1.0)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("position in the test sequence")
        ax.set_ylabel("accuracy")
        style_axes(ax)
        ax.legend(fontsize=STYLE.small, frameon=False, loc="center left",
                  bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Chapters 6–7: against CNNs and RNNs, and the cost of attention
# --------------------------------------------------------------------------------------------


METHOD_STYLE: dict[str, dict] = {
    "full": {"color": STYLE.vermillion, "marker": "o", "linestyle": "-", "label": "full"},
    "local": {"color": STYLE.blue, "marker": "s", "linestyle": "--", "label": "local (window 32)"},
    "linear": {"color": STYLE.green, "marker": "^", "linestyle": "-.", "label": "linear (elu + 1)"},
    "tiled": {"color": STYLE.orange, "marker": "D", "linestyle": ":", "label": "tiled (block 128)"},
}
"""Colour, marker and line style of each attention method in chapter 7's plots."""


def receptive_field_plot(panels: Mapping[str, np.ndarray]) -> Figure:
    """Bool ``[n, n]`` masks side by side: which inputs (columns) each output (row) sees.

    Introduced in chapter 6, to set a convolution's measured receptive field beside a
    window mask. Allowed cells are dark, the others white.
    """
    with style_context():
        fig, axes = plot_figure(8.4, 3.1, ncols=len(panels))
        for ax, (title, mask) in zip(axes, panels.items(), strict=True):
            mask = np.asarray(mask, dtype=float)
            ax.imshow(mask, cmap=STYLE.binary, vmin=0, vmax=1.25, interpolation="nearest")
            ax.set_title(title, fontsize=STYLE.small)
            ax.set_xlabel("input (key) position", fontsize=STYLE.small)
            ax.tick_params(labelsize=8, length=0)
        axes[0].set_ylabel("output (query) position", fontsize=STYLE.small)
        fig.tight_layout()
    return fig


def data_size_plot(sizes: Sequence[int], accuracy: Mapping[str, np.ndarray],
                   live: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                   ) -> Figure:
    """Test accuracy against training-set size, one curve per model (mean over seeds, with
    the range of the seeds as a band); ``live`` adds this run's own points as open markers.

    Introduced in chapter 6. ``accuracy[name]`` is ``[len(sizes), n_seeds]``.
    """
    colors = {"CNN": STYLE.blue, "ViT": STYLE.vermillion}
    markers = {"CNN": "s", "ViT": "o"}
    with style_context():
        fig, (ax,) = plot_figure(8.0, 3.3)
        for name, acc in accuracy.items():
            acc = np.asarray(acc, dtype=float)
            color = colors.get(name, STYLE.green)
            ax.fill_between(sizes, acc.min(axis=1), acc.max(axis=1), color=color, alpha=0.15,
                            linewidth=0)
            ax.plot(sizes, acc.mean(axis=1), marker=markers.get(name, "^"), color=color,
                    linewidth=1.8, label=f"{name} (saved sweep, mean of {acc.shape[1]} seeds)")
        for name, (xs, ys) in (live or {}).items():
            ax.plot(xs, ys, linestyle="none", marker=markers.get(name, "^"), markersize=9,
                    markerfacecolor="none", markeredgewidth=1.6,
                    color=colors.get(name, STYLE.green), label=f"{name} (this run)")
        ax.axhline(0.1, color=STYLE.muted, linestyle=":", linewidth=1.0)
        ax.text(sizes[0], 0.12, "chance", ha="left", fontsize=STYLE.small, color=STYLE.text)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.minorticks_off()
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("training images")
        ax.set_ylabel("test accuracy")
        style_axes(ax)
        ax.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower right")
        fig.tight_layout()
    return fig


def rnn_timing_plot(lengths: Sequence[int], ratio: Sequence[float],
                    distances: np.ndarray, gradients: Mapping[str, np.ndarray],
                    saved: tuple[Sequence[int], Sequence[float]] | None = None,
                    label: str = "this run") -> Figure:
    """Left: RNN time / attention time against the sequence length. Right: how strongly the
    last output depends on each input, against the distance between them.

    Introduced in chapter 6. ``saved`` adds the ratio of the saved, longer sweep; ``label``
    names the main line (chapter 6 draws the saved sweep there, since a run's own times differ
    on every run and strict nbval compares the plot).
    """
    with style_context():
        fig, (left, right) = plot_figure(8.4, 3.3, ncols=2)
        if saved is not None:
            left.plot(saved[0], saved[1], marker="s", color=STYLE.muted, linestyle="--",
                      linewidth=1.4, label="saved sweep")
        left.plot(lengths, ratio, marker="o", color=STYLE.vermillion, linewidth=1.8,
                  label=label)
        left.axhline(1.0, color=STYLE.text, linewidth=0.9)
        left.text(lengths[0], 1.08, "equal time", fontsize=STYLE.small, color=STYLE.text,
                  va="bottom")
        left.set_xscale("log", base=2)
        left.set_yscale("log")
        left.set_xlabel("sequence length n")
        left.set_ylabel("RNN time / attention time")
        left.set_title("above 1: attention is faster", fontsize=STYLE.small)
        left.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower left")
        styles = {"RNN": (STYLE.blue, "s", "-"), "self-attention": (STYLE.vermillion, "o", "--")}
        for name, values in gradients.items():
            color, marker, line = styles.get(name, (STYLE.green, "^", "-."))
            right.plot(distances, values, marker=marker, markersize=3.5, color=color,
                       linestyle=line, linewidth=1.5, label=name)
        right.set_yscale("log")
        right.set_xlabel("distance from the last position")
        right.set_ylabel(r"$\|\partial b^n / \partial a^{n-k}\|$")
        right.set_title("gradient of the last output", fontsize=STYLE.small)
        right.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower left")
        for ax in (left, right):
            style_axes(ax)
        fig.tight_layout()
    return fig


def cost_plot(results: Mapping[str, Mapping[str, Sequence[float]]],
              saved: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> Figure:
    """Time (left) and peak memory (right) against n, one curve per attention method.

    Introduced in chapter 7. ``results[method]`` has ``"n"``, ``"seconds"`` and
    ``"peak_bytes"`` (:func:`attnbook.labs.cost.cost_sweep`); ``saved``, the same for the
    saved longer sweep, is drawn thinner, without markers, behind this run's points.
    """
    with style_context():
        fig, (left, right) = plot_figure(8.4, 3.4, ncols=2)
        for method, style in METHOD_STYLE.items():
            for source, thin in ((saved or {}, True), (results, False)):
                row = source.get(method)
                if not row or not row.get("n"):
                    continue
                kw = {"color": style["color"], "linestyle": style["linestyle"]}
                if thin:
                    kw.update(linewidth=1.0, alpha=0.6)
                else:
                    kw.update(marker=style["marker"], markersize=4.5, linewidth=1.8,
                              label=style["label"])
                left.plot(row["n"], row["seconds"], **kw)
                if row.get("peak_bytes"):
                    right.plot(row["n"], np.asarray(row["peak_bytes"]) / 2**20, **kw)
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length n")
            style_axes(ax)
        left.set_ylabel("seconds (median)")
        right.set_ylabel("peak memory (MiB)")
        left.set_title("time", fontsize=STYLE.small)
        right.set_title("memory", fontsize=STYLE.small)
        right.legend(fontsize=STYLE.small - 1, frameon=False, loc="upper left")
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Chapter 10: autoregressive against non-autoregressive decoding
# --------------------------------------------------------------------------------------------


def at_vs_nat_plot(rows: Sequence[dict]) -> Figure:
    """Accuracy against decoder passes: one point for AT, a line for NAT's iterations.

    Introduced in chapter 10. `rows` is what :func:`attnbook.labs.at_vs_nat.compare_at_nat`
    returns: dicts with ``"method"`` (starting with "AT" or "NAT"), ``"passes"`` and
    ``"accuracy"``; the NAT rows also ``"accuracy_true_length"`` and ``"length_accuracy"``.
    """
    at = [r for r in rows if r["method"].startswith("AT")]
    nat = [r for r in rows if r["method"].startswith("NAT")]
    with style_context():
        fig, (ax,) = plot_figure(6.4, 3.8)
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
        style_axes(ax)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=STYLE.small,
                  frameon=False, ncols=2)
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Chapter 13: a pretrained model's heads and sentence vectors
# --------------------------------------------------------------------------------------------


def _array(values) -> np.ndarray:
    """A float64 NumPy array from an array, a list or a (CPU or GPU) torch tensor."""
    if hasattr(values, "detach"):  # a torch tensor, without importing torch here
        values = values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


def _annotated_heatmap(ax, values: np.ndarray, low: float, top: float, decimals: int):
    """`values` as a heatmap in the style's sequential colormap, every cell printed with its
    value in a colour that reads on the cell; returns the image (for a colour bar)."""
    image = ax.imshow(values, cmap=STYLE.sequential, vmin=low, vmax=top, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        shade = image.cmap(min(max((v - low) / (top - low), 0.0), 1.0) if top > low else 0.0)
        ax.text(j, i, fmt(v, decimals), ha="center", va="center", fontsize=STYLE.small,
                color=STYLE.text_on(shade))
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return image


def head_grid_plot(panels: Sequence[tuple[str, np.ndarray]], *, label: str,
                   vmin: float | None = 0.0, vmax: float | None = None,
                   decimals: int = 2) -> Figure:
    """A column of layer × head heatmaps, one per ``(title, values [layers, heads])`` panel.

    Introduced in chapter 13. All panels share one colour scale from `vmin` to `vmax` (None:
    the panels' minimum or maximum), which `label` names; each cell is printed with its value.
    """
    panels = [(str(t), _array(v)) for t, v in panels]
    if not panels or any(v.ndim != 2 for _, v in panels):
        raise ValueError("panels must be a non-empty list of (title, [layers, heads]) arrays")
    top = max(float(v.max()) for _, v in panels) if vmax is None else vmax
    low = min(float(v.min()) for _, v in panels) if vmin is None else vmin
    n_layers, n_heads = panels[0][1].shape
    with style_context():
        fig, axes = plot_figure(8.0, 0.42 * n_layers * len(panels) + 0.9 * len(panels) + 0.2,
                                nrows=len(panels), layout="constrained")
        for ax, (title, values) in zip(axes, panels, strict=True):
            image = _annotated_heatmap(ax, values, low, top, decimals)
            ax.set_title(title, fontsize=STYLE.fontsize)
            ax.set_xticks(range(n_heads), [str(h) for h in range(n_heads)],
                          fontsize=STYLE.small)
            ax.set_yticks(range(n_layers), [str(layer) for layer in range(n_layers)],
                          fontsize=STYLE.small)
            ax.set_xlabel("head", fontsize=STYLE.small)
            ax.set_ylabel("layer", fontsize=STYLE.small)
        bar = fig.colorbar(image, ax=axes, shrink=0.9, pad=0.02)
        bar.set_label(label, fontsize=STYLE.small)
        bar.ax.tick_params(labelsize=STYLE.small)
    return fig


def sentence_similarity_plot(labels: Sequence[str], similarity) -> Figure:
    """A heatmap of the cosine similarity of every pair of sentences, each cell labelled.

    Introduced in chapter 13. `similarity` is ``[n, n]`` (an array or a tensor); `labels`
    names the n sentences. The colour scale runs from 0 to 1.
    """
    s = _array(similarity)
    labels = [str(x) for x in labels]
    if s.ndim != 2 or s.shape != (len(labels), len(labels)):
        raise ValueError(f"similarity must be [{len(labels)}, {len(labels)}] for "
                         f"{len(labels)} labels, got {s.shape}")
    n = len(labels)
    with style_context():
        fig, (ax,) = plot_figure(8.0, 0.45 * n + 0.9, layout="constrained")
        image = _annotated_heatmap(ax, s, 0.0, 1.0, 2)
        ax.set_xticks(range(n), [str(i + 1) for i in range(n)], fontsize=STYLE.small)
        ax.set_yticks(range(n), [f"{label}  {i + 1}" for i, label in enumerate(labels)],
                      fontsize=STYLE.small)
        bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.02)
        bar.set_label("cosine similarity", fontsize=STYLE.small)
        bar.ax.tick_params(labelsize=STYLE.small)
    return fig


def crossover_plot(sizes: Sequence[int], accuracy: Mapping[str, np.ndarray],
                   near: Mapping[str, np.ndarray], far: Mapping[str, np.ndarray],
                   live: Mapping[str, tuple[int, float]] | None = None) -> Figure:
    """Left: test accuracy against training-set size, one curve per model (mean over seeds,
    the seeds' range as a band); ``live`` adds this run's point per model as an open marker.
    Right: the same models on the near half (solid) and the far half (dashed) of the test set.

    Introduced in chapter 6 (the near/far task of :mod:`attnbook.labs.crossover`). Every
    ``accuracy[name]``, ``near[name]`` and ``far[name]`` is ``[len(sizes), n_seeds]``.
    """
    palette = [(STYLE.blue, "s"), (STYLE.vermillion, "o"), (STYLE.green, "^")]
    with style_context():
        fig, (left, right) = plot_figure(8.4, 3.4, ncols=2)
        for (name, acc), (color, marker) in zip(accuracy.items(), palette, strict=False):
            acc = np.asarray(acc, dtype=float)
            left.fill_between(sizes, acc.min(axis=1), acc.max(axis=1), color=color,
                              alpha=0.15, linewidth=0)
            left.plot(sizes, acc.mean(axis=1), marker=marker, color=color, linewidth=1.8,
                      label=f"{name} (mean of {acc.shape[1]} seeds)")
            if live and name in live:
                left.plot(*live[name], linestyle="none", marker=marker, markersize=10,
                          markerfacecolor="none", markeredgewidth=1.6, color=color,
                          label=f"{name} (this run)")
            for part, line in ((near, "-"), (far, "--")):
                values = np.asarray(part[name], dtype=float).mean(axis=1)
                right.plot(sizes, values, marker=marker, markersize=4, color=color,
                           linestyle=line, linewidth=1.5,
                           label=f"{name}, {'near' if part is near else 'far'} half")
        for ax, title in ((left, "whole test set"), (right, "near and far halves")):
            ax.axhline(0.5, color=STYLE.muted, linestyle=":", linewidth=1.0)
            ax.set_xscale("log")
            ax.set_xticks(sizes, [str(s) for s in sizes])
            ax.minorticks_off()
            ax.set_ylim(0.4, 1.02)
            ax.set_xlabel("training examples")
            ax.set_title(title, fontsize=STYLE.small)
            style_axes(ax)
            ax.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower right")
        left.set_ylabel("test accuracy")
        left.text(sizes[0], 0.52, "chance", ha="left", fontsize=STYLE.small,
                  color=STYLE.text)
        fig.tight_layout()
    return fig

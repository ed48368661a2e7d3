"""The encoder block traced on real activations, and post-LN against pre-LN in training.

Introduced in chapter 9. :func:`encoder_block_trace` keeps every intermediate vector of one
encoder block (编码器) in the order it computes them, for both placements of layer
normalization; :func:`norm_input` gives what a layer norm of the trained encoder receives for a
batch of numbers, to set layer norm beside batch norm; :func:`ln_stability_run` trains the
book's model with post-LN or pre-LN blocks at a given learning rate, with or without a warm-up.
The training sweeps take minutes, so ``benchmarks/ln_stability.py`` runs them once and saves
JSON into ``src/attnbook/data/measurements/`` for the chapter to plot.
Everything is seeded: the same call gives the same numbers on the same machine.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from attnbook import numerals
from attnbook import translate as _translate
from attnbook.labs import UNIFORM_DRAWS
from attnbook.layers import EncoderLayer
from attnbook.model import Transformer, pad_batch

__all__ = ["encoder_block_trace", "encoder_trace", "ln_stability_run", "norm_input"]


def encoder_block_trace(layer: EncoderLayer, x: torch.Tensor,
                        mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Every intermediate vector of one encoder block (编码器), in the order it computes them.

    Introduced in chapter 9. For a post-LN block (``layer.norm_first=False``, the notes):
    ``input``, ``attention`` (the self-attention's output), ``residual 1`` (input +
    attention), ``norm 1``, ``feed forward``, ``residual 2``, ``norm 2`` (the output). For a
    pre-LN block: ``input``, ``norm 1``, ``attention``, ``residual 1``, ``norm 2``,
    ``feed forward``, ``residual 2`` (the output). Each is ``[B, L, d_model]``. The last one
    equals ``layer(x, mask)`` in eval mode (a ``RuntimeError`` says so if not).
    """
    with torch.no_grad():
        def attend(h):
            return layer.self_attn(h, h, h, mask, need_weights=False)[0]

        out: dict[str, torch.Tensor] = {"input": x}
        if layer.norm_first:
            out["norm 1"] = layer.norm1(x)
            out["attention"] = attend(out["norm 1"])
            out["residual 1"] = x + out["attention"]
            out["norm 2"] = layer.norm2(out["residual 1"])
            out["feed forward"] = layer.feed_forward(out["norm 2"])
            out["residual 2"] = out["residual 1"] + out["feed forward"]
            last = out["residual 2"]
        else:
            out["attention"] = attend(x)
            out["residual 1"] = x + out["attention"]
            out["norm 1"] = layer.norm1(out["residual 1"])
            out["feed forward"] = layer.feed_forward(out["norm 1"])
            out["residual 2"] = out["norm 1"] + out["feed forward"]
            out["norm 2"] = layer.norm2(out["residual 2"])
            last = out["norm 2"]
        if not layer.training:
            expected = layer(x, mask)
            if not torch.allclose(last, expected, atol=1e-5, rtol=1e-4):
                raise RuntimeError("the traced block differs from EncoderLayer.forward")
    return out


def _embedded(model: Transformer, src: torch.Tensor) -> torch.Tensor:
    """The encoder's input: embedded source tokens (scaled by √d) plus their positions."""
    return model.src_pos(model.src_embed(src) * math.sqrt(model.config.d_model))


@torch.no_grad()
def norm_input(model: Transformer, numbers, layer: int = 0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """What the first layer norm of encoder block ``layer`` receives, for a batch of numbers.

    Introduced in chapter 9 (layer norm beside batch norm, on real activations). The numbers
    are padded to the longest, as in training, and run through the encoder in eval mode.
    Returns ``(h, real)``: ``h`` is ``[B, L, d_model]``, the input of the block's ``norm1``
    (``x + attention`` in a post-LN block, the block's input ``x`` in a pre-LN one), at every
    position, padding included; ``real`` is a bool ``[B, L]``, True at digits and False at
    padding.
    """
    if not 0 <= layer < len(model.encoder):
        raise ValueError(f"layer must be in 0..{len(model.encoder) - 1}, got {layer}")
    was_training = model.training
    model.eval()
    try:
        src = pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD,
                        model.device)  # (B, L)
        mask = model.src_padding_mask(src)  # (B, 1, L)
        x = _embedded(model, src)
        for block in model.encoder[:layer]:
            x = block(x, mask)
        block = model.encoder[layer]
        trace = encoder_block_trace(block, x, mask)
        h = trace["input" if block.norm_first else "residual 1"]
    finally:
        model.train(was_training)
    return h, src != numerals.PAD


@torch.no_grad()
def encoder_trace(model: Transformer, number: int) -> list[dict[str, np.ndarray]]:
    """:func:`encoder_block_trace` of every encoder block of ``model`` on one number.

    Introduced in chapter 9. Returns one dict per layer; each value is a NumPy array
    ``(digits, d_model)``. The first layer's ``input`` is the embedded digits plus their
    positional encoding (no dropout: the model is put in eval mode).
    """
    was_training = model.training
    model.eval()
    try:
        src = torch.tensor([numerals.source_ids(number)], device=model.device)  # (1, S)
        mask = model.src_padding_mask(src)
        x = _embedded(model, src)  # (1, S, d)
        traces = []
        for layer in model.encoder:
            trace = encoder_block_trace(layer, x, mask)
            traces.append({k: v[0].double().cpu().numpy() for k, v in trace.items()})
            x = layer(x, mask)
    finally:
        model.train(was_training)
    return traces


def ln_stability_run(norm_first: bool, lr: float, warmup_steps: int = 1, max_steps: int = 300,
                     seed: int = 0, num_layers: int = 2, eval_numbers: int = 200) -> dict:
    """Train the book's model with post-LN or pre-LN blocks and return its loss curve.

    Not used by a chapter: ``benchmarks/ln_stability.py`` runs it and chapter 9 shows the saved
    result. The training is :func:`attnbook.translate.train` itself (the command's loop: AdamW,
    gradient clipping at 1, cosine decay) for exactly ``max_steps`` steps, with
    ``warmup_steps=1`` meaning no warm-up. Returns a JSON-ready dict with the settings,
    ``step`` and ``loss`` (the mean loss of every 10 steps), and ``exact_match`` on the first
    ``eval_numbers`` held-out numbers of every length (greedy decoding).
    """
    config = _translate.default_config(norm_first=norm_first, num_encoder_layers=num_layers,
                                       num_decoder_layers=num_layers)
    model, log = _translate.train(config, seconds=None, max_steps=max_steps, seed=seed,
                                  lr=lr, warmup_steps=warmup_steps, print_fn=None,
                                  device="cpu", zero_heavy=UNIFORM_DRAWS)
    heldout = _translate.heldout_numbers()
    step = max(1, len(heldout) // eval_numbers)
    accuracy = _translate.evaluate(model, heldout[::step][:eval_numbers])
    losses = [x if math.isfinite(x) else None for x in log["curve"]["loss"]]
    return {"norm_first": norm_first, "lr": lr, "warmup_steps": warmup_steps,
            "max_steps": max_steps, "seed": seed, "num_layers": num_layers,
            "step": log["curve"]["step"], "loss": losses, "exact_match": accuracy,
            "train_seconds": log["train_seconds"]}

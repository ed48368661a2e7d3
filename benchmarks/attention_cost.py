"""The larger sweeps behind chapters 6 and 7, saved as JSON that the chapters load.

The chapters measure small versions of everything themselves, on the reader's machine, in
seconds. This script runs the same code (attnbook.labs.cost, attnbook.labs.cnn_vs_attention,
attnbook.labs.rnn_vs_attention) further: longer
sequences, more training-set sizes, several seeds. Regenerate the data with

    .venv/bin/python benchmarks/attention_cost.py            # all three sweeps (a few minutes)
    .venv/bin/python benchmarks/attention_cost.py --only cost

It writes, into src/attnbook/data/measurements/ (where attnbook.measure.load_sweep finds them),
attention_cost.json (chapter 7: time and peak memory of full, local, linear and tiled attention
against n), rnn_vs_attention.json (chapter 6: an RNN against one self-attention step) and
data_size.json (chapter 6: a small CNN and a small ViT against training-set size). Each file
records the machine, the PyTorch version and the settings. Timings use one CPU thread unless
--threads says otherwise; on a machine with a GPU, --device cuda measures there (memory then
comes from the CUDA allocator's counters).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from attnbook import efficient
from attnbook.labs import cnn_vs_attention, cost, rnn_vs_attention
from attnbook.measure import machine_info, num_threads, save_sweep

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "attnbook" / "data" / "measurements"

COST_NS = [256, 512, 1024, 2048, 4096, 8192, 16384]
# Full attention at 16384 needs 2 GiB for its scores alone; tiled attention's Python loop
# over 65,536 tiles takes minutes. Both stop at 8192.
COST_MAX_N = {"full": 8192, "tiled": 8192}
RNN_LENGTHS = [32, 64, 128, 256, 512, 1024, 2048, 4096]
DATA_SIZES = [25, 50, 100, 200, 400, 800, 1300]
DATA_SEEDS = [0, 1, 2]


def machine(device: str) -> dict:
    """What the numbers were measured on."""
    return machine_info(device)


def save(name: str, data: dict, out: Path) -> Path:
    return save_sweep(name.removesuffix(".json"), data, out)


def run_cost(args) -> Path:
    ns = COST_NS[:2] if args.quick else COST_NS
    x = torch.randn(1, 1024, 64, generator=torch.Generator().manual_seed(1)).to(args.device)
    full = efficient.full_attention(x, x, x)
    tiled = efficient.tiled_attention(x, x, x)
    sweep = cost.cost_sweep(ns, d=64, window=32, block_size=128, repeats=3,
                                 max_n=COST_MAX_N, device=args.device)
    return save("attention_cost.json", {
        "description": "time (median of 3, seconds) and peak memory (bytes) of self-attention "
                       "over n tokens, d = 64, batch 1; peak_bytes measured, model_bytes "
                       "counted on paper (attnbook.labs.cost.memory_model)",
        "settings": {"d": 64, "batch": 1, "window": 32, "block_size": 128, "repeats": 3,
                     "memory_counter": "cuda" if args.device == "cuda" else "tensors"},
        "machine": machine(args.device),
        "tiled_minus_full_max_abs": float((tiled - full).abs().max()),
        "methods": sweep,
    }, args.out)


def run_rnn(args) -> Path:
    lengths = RNN_LENGTHS[:2] if args.quick else RNN_LENGTHS
    times = rnn_vs_attention.time_rnn_and_attention(lengths, d_model=64, batch=8, repeats=5)
    return save("rnn_vs_attention.json", {
        "description": "median seconds (5 runs) of torch.nn.RNN over n steps and of one "
                       "scaled dot-product self-attention over n positions; d = 64, batch 8",
        "settings": {"d_model": 64, "batch": 8, "repeats": 5},
        "machine": machine("cpu"),
        **times,
    }, args.out)


def run_data_size(args) -> Path:
    sizes = DATA_SIZES[:1] if args.quick else DATA_SIZES
    seeds = DATA_SEEDS[:1] if args.quick else DATA_SEEDS
    config = cnn_vs_attention.CLASSIFIER_TRAINING
    start = time.perf_counter()
    sweep = cnn_vs_attention.data_size_sweep(sizes, seeds, config)
    return save("data_size.json", {
        "description": "test accuracy on scikit-learn's digits (497 test images) of a small "
                       "CNN and a small ViT trained on each training-set size, per seed",
        "settings": {k: getattr(config, k)
                     for k in ("steps", "batch_size", "lr", "weight_decay", "seed")},
        "machine": machine("cpu"),
        "seconds": round(time.perf_counter() - start, 1),
        **sweep,
    }, args.out)


SWEEPS = {"cost": run_cost, "rnn": run_rnn, "data-size": run_data_size}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SWEEPS), action="append",
                        help="run only this sweep (repeatable); default: all")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="a tiny version, to test the script")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the JSON files "
                        "(default src/attnbook/data/measurements)")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no GPU here")
    with num_threads(args.threads):
        for name in args.only or list(SWEEPS):
            start = time.perf_counter()
            path = SWEEPS[name](args)
            print(f"{name}: wrote {path} in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()

"""The crossover sweep behind chapter 6: a small CNN against small self-attention on the
near/far task, at several training-set sizes and seeds, saved as JSON that the chapter loads.

On the digits a small CNN beats a small ViT at every size a CPU affords. The near/far task
(attnbook.labs.cnn_vs_attention.near_far_task) is built so that the crossover the lecture
describes is reached in minutes: the CNN's window sees the near half of the questions and
never the far half; self-attention can see both but must learn where to look. Regenerate with

    .venv/bin/python benchmarks/crossover.py            # about 5 minutes on one CPU thread
    .venv/bin/python benchmarks/crossover.py --quick    # a tiny version, to test the script

It writes src/attnbook/data/measurements/crossover.json (where attnbook.measure.load_sweep
finds it), with the machine, the PyTorch version and the settings.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from attnbook.labs import cnn_vs_attention
from attnbook.measure import machine_info, num_threads, save_sweep

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "attnbook" / "data" / "measurements"

SIZES = [50, 100, 200, 400, 1000, 3000]
SEEDS = [0, 1, 2]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny version, to test the script")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the JSON file "
                        "(default src/attnbook/data/measurements)")
    args = parser.parse_args(argv)
    config = cnn_vs_attention.CROSSOVER_TRAINING
    sizes, seeds = (SIZES[:2], SEEDS[:1]) if args.quick else (SIZES, SEEDS)
    if args.quick:
        config = replace(config, steps=5)
    start = time.perf_counter()
    with num_threads(1):
        sweep = cnn_vs_attention.crossover_sweep(sizes, seeds, config)
    seconds = round(time.perf_counter() - start, 1)
    path = save_sweep("crossover", {
        "description": "test accuracy on the near/far task (2000 test sequences) of a small "
                       "CNN (WindowCNN) and small self-attention (SmallSelfAttention) trained "
                       "on each training-set size, per seed; 'near' and 'far' are the two "
                       "halves of the test set",
        "settings": {k: getattr(config, k)
                     for k in ("steps", "batch_size", "lr", "weight_decay", "threads")},
        "machine": machine_info("cpu"),
        "seconds": seconds,
        **sweep,
    }, args.out)
    print(f"crossover: wrote {path} in {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()

"""Post-LN against pre-LN at high learning rates without warm-up (chapter 9).

Run: ``.venv/bin/python benchmarks/ln_stability.py`` (10 to 20 minutes on one CPU core;
options ``--steps``, ``--seeds``, ``--lrs``, ``--out``). It trains the book's model
(:func:`attnbook.translate.train`, the command's training loop) with post-LN and with pre-LN
blocks for every learning rate and seed, with no warm-up (``warmup_steps=1``), and at the
largest learning rate once more with a warm-up of 50 steps. Every run is
:func:`attnbook.labs.ln_placement.ln_stability_run`. The result is saved as JSON in
``src/attnbook/data/measurements/ln_stability.json``, which chapter 9 plots.

Training is seeded, so a rerun on the same machine gives the same curves; another CPU may
differ in the last digits, and the chapter only relies on the gap between the two kinds of
block, which is large.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from attnbook.labs import ln_placement
from attnbook.measure import num_threads, save_sweep

ROOT = Path(__file__).resolve().parent.parent


MEASUREMENTS = ROOT / "src" / "attnbook" / "data" / "measurements"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--lrs", type=float, nargs="+", default=[3e-3, 1e-2, 3e-2])
    parser.add_argument("--warmup", type=int, default=50, help="warm-up steps of the extra runs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path,
                        default=MEASUREMENTS / "ln_stability.json")
    args = parser.parse_args(argv)
    settings = [(nf, lr, 1) for lr in args.lrs for nf in (False, True)]
    settings += [(nf, max(args.lrs), args.warmup) for nf in (False, True)]
    runs = []
    start = time.perf_counter()
    with num_threads(args.threads):
        for norm_first, lr, warmup in settings:
            for seed in args.seeds:
                run = ln_placement.ln_stability_run(norm_first, lr, warmup_steps=warmup,
                                                    max_steps=args.steps, seed=seed)
                runs.append(run)
                name = "pre-LN " if norm_first else "post-LN"
                print(f"{name} lr={lr:g} warmup={warmup:3d} seed={seed}: final loss "
                      f"{run['loss'][-1]}, exact match {run['exact_match']:.3f}, "
                      f"{run['train_seconds']:.0f} s", flush=True)
    result = {
        "description": "The book's model (2 + 2 layers, d_model 64) trained with "
                       "attnbook.translate.train for max_steps steps; warmup_steps=1 is no "
                       "warm-up. loss: the mean training loss of every 10 steps; exact_match: "
                       "greedy decoding on 200 held-out numbers.",
        "command": "python benchmarks/ln_stability.py",
        "machine": f"{platform.machine()}, {args.threads} thread(s), torch {torch.__version__}",
        "seconds": round(time.perf_counter() - start),
        "runs": runs,
    }
    path = save_sweep(args.out.stem, result, args.out.parent)
    print(f"saved {path}")


if __name__ == "__main__":
    main()

"""Teacher forcing against free running, and under-trained models (chapter 12).

Run: ``.venv/bin/python benchmarks/teacher_forcing.py`` (5 to 20 minutes on one CPU core;
``--steps`` and ``--snapshots`` change the lengths of the runs). Two parts, saved as JSON in
``src/attnbook/data/measurements/teacher_forcing.json``, which chapter 12 plots:

1. ``modes``: the book's model trained for ``--steps`` steps with teacher forcing and with
   free running (:func:`attnbook.labs.exposure_bias.train_decoder`), the same data, initial weights
   and schedule; every 50 steps the teacher-forced loss on held-out numbers and the greedy
   exact match, and the mean and median time of a training step.
2. ``undertrained``: the command's training loop run for only a few steps, for each count
   in ``--snapshots`` (:func:`attnbook.labs.exposure_bias.undertrained_outputs`): its outputs on
   example numbers, exact match, token accuracy per position with the true prefix and with
   its own (exposure bias), what follows its first mistake
   (:func:`attnbook.labs.exposure_bias.first_mistakes`), greedy against beam search, and its
   cross attention on one number.

Seeded: a rerun on the same machine gives the same numbers, except the step times, which
also depend on what else the machine is doing (the mean more than the median).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from attnbook.labs import exposure_bias
from attnbook.measure import num_threads, save_sweep

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [7, 15, 60, 305, 1005, 2026, 10010, 30205, 100001, 999999]
ATTENTION_NUMBER = 30205


MEASUREMENTS = ROOT / "src" / "attnbook" / "data" / "measurements"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--snapshots", type=int, nargs="+", default=[40, 80, 160, 320])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path,
                        default=MEASUREMENTS / "teacher_forcing.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    modes = {}
    with num_threads(args.threads):
        for mode in ("teacher", "free"):
            _, log = exposure_bias.train_decoder(mode, max_steps=args.steps, eval_every=50)
            modes[mode] = log
            print(f"{mode}: exact match {log['exact_match'][-1]:.3f}, held-out loss "
                  f"{log['eval_loss'][-1]}, {log['seconds_per_step'] * 1000:.0f} ms per step "
                  f"(median {log['median_seconds_per_step'] * 1000:.0f} ms)", flush=True)
        under = exposure_bias.undertrained_outputs(args.snapshots, EXAMPLES,
                                                   attention_number=ATTENTION_NUMBER,
                                                   beam_sizes=(1, 2, 4, 8))
    for run in under["runs"]:
        first = run["first_mistakes"]
        print(f"{run['steps']} steps: exact match {run['exact_match']:.3f}; "
              f"{first['fixed']} of {first['wrong']} wrong outputs fixed by correcting "
              "their first mistake", flush=True)
    result = {
        "description": "The book's model (2 + 2 layers, d_model 64). modes: "
                       "labs.exposure_bias.train_decoder with teacher forcing and free "
                       "running; undertrained: labs.exposure_bias.undertrained_outputs.",
        "command": "python benchmarks/teacher_forcing.py",
        "machine": f"{platform.machine()}, {args.threads} thread(s), torch {torch.__version__}",
        "seconds": round(time.perf_counter() - start),
        "modes": modes,
        "undertrained": under,
    }
    path = save_sweep(args.out.stem, result, args.out.parent, ensure_ascii=False)
    print(f"saved {path}")


if __name__ == "__main__":
    main()

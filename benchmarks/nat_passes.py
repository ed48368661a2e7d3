"""Mask-predict passes against mistakes, over every number 0..999999 (chapter 10).

Run: ``.venv/bin/python benchmarks/nat_passes.py`` (about 15 minutes on two CPU cores;
options ``--passes``, ``--threads``, ``--chunk``, ``--lock``, ``--out``). It decodes every
number with the book's NAT model (:func:`attnbook.translate.load_book_model` ``("nat")``) with
1, 2, 3 and 4 mask-predict passes (4 was the book's default), through
:func:`attnbook.labs.at_vs_nat.mistakes_by_passes` (batches of 1024 in order, as
:func:`attnbook.translate.mistakes` decodes them), and keeps every mistake. The result is
saved as JSON in ``src/attnbook/data/measurements/nat_passes.json``, which chapter 10 reads.

``--lock PATH`` takes an exclusive ``flock`` on PATH for each chunk of numbers and lets it go
between chunks, so that on a shared machine other heavy jobs can run in between; the time
saved is the sum of the chunks' times (the decoding itself, not the waiting).

``--kind nat_end`` does the same for the NAT that decodes to a maximum length and cuts at
END (:class:`attnbook.model.MaxLengthNAT`, ``benchmarks/nat_length.py``) and saves
``nat_passes_end.json``: the two ways to fix a NAT's length, compared on every number.

Decoding is deterministic, so a rerun on the same machine finds the same mistakes; another
CPU or thread count may round differently, which can move a confidence ranking and so a
mistake or two.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import platform
import time
from pathlib import Path

import torch

from attnbook import translate
from attnbook.labs import at_vs_nat
from attnbook.measure import num_threads, save_sweep

ROOT = Path(__file__).resolve().parent.parent
MEASUREMENTS = ROOT / "src" / "attnbook" / "data" / "measurements"
ALL_NUMBERS = 1_000_000


@contextlib.contextmanager
def locked(path: Path | None):
    if path is None:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--numbers", type=int, default=ALL_NUMBERS,
                        help="decode 0..N-1 (default: all 1,000,000)")
    parser.add_argument("--chunk", type=int, default=128 * 1024,
                        help="numbers per chunk (a multiple of 1024)")
    parser.add_argument("--lock", type=Path, default=None,
                        help="flock this file for each chunk (a shared machine)")
    parser.add_argument("--kind", choices=["nat", "nat_end"], default="nat",
                        help="the book's NAT (length predictor) or the one cut at END")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.out is None:
        suffix = "" if args.kind == "nat" else "_end"
        args.out = MEASUREMENTS / f"nat_passes{suffix}.json"
    if args.chunk % 1024:
        parser.error("--chunk must be a multiple of 1024 (the batches of translate.mistakes)")
    model = translate.load_book_model(args.kind)
    mistakes: dict[int, list] = {k: [] for k in args.passes}
    seconds = 0.0
    with torch.inference_mode(), num_threads(args.threads):
        for lo in range(0, args.numbers, args.chunk):
            hi = min(lo + args.chunk, args.numbers)
            with locked(args.lock):
                start = time.perf_counter()
                found = at_vs_nat.mistakes_by_passes(model, range(lo, hi), args.passes)
                seconds += time.perf_counter() - start
            for k, wrong in found.items():
                mistakes[k] += wrong
            counts = " ".join(f"{k}:{len(w)}" for k, w in mistakes.items())
            print(f"{hi:>7} numbers, {seconds:6.0f} s; mistakes by passes {counts}",
                  flush=True)
    result = {
        "description": f"The book's NAT model (translate.load_book_model({args.kind!r})) on every "
                       "number 0..N-1, decoded with k mask-predict passes "
                       "(at_vs_nat.mistakes_by_passes, batches of 1024 in order). mistakes: "
                       "for each k, every [number, output, right numeral] it got wrong.",
        "command": "python benchmarks/nat_passes.py"
                   + ("" if args.kind == "nat" else " --kind nat_end --passes 1"),
        "kind": args.kind,
        "machine": f"{platform.machine()}, {args.threads} thread(s), torch {torch.__version__}",
        "seconds": round(seconds),
        "numbers": args.numbers,
        "passes": args.passes,
        "mistakes": {str(k): [list(m) for m in w] for k, w in mistakes.items()},
    }
    path = save_sweep(args.out.stem, result, args.out.parent, ensure_ascii=False)
    print(f"saved {path}")


if __name__ == "__main__":
    main()

"""Forward + backward time of attnbook's MultiHeadAttention against nn.MultiheadAttention.

Run: ``.venv/bin/python benchmarks/mha_vs_torch.py`` (options: ``--lengths``, ``--d-model``,
``--heads``, ``--batch``, ``--repeats``). Both modules hold the same weights (``from_torch``)
and see the same input; each measurement is the median of ``--repeats`` timed runs after a
warm-up, the three taking turns (:func:`attnbook.measure.time_calls`). The table gives
milliseconds and the ratio to PyTorch's module:

- readable: our path that returns every head's weights (``need_weights=True``);
- fused: our path with ``need_weights=False``, which calls F.scaled_dot_product_attention;
- torch: ``nn.MultiheadAttention(..., need_weights=False)``.

A ratio of 1.10 means 10 % slower than PyTorch. This is a script, not a test: timings depend
on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from attnbook.layers import MultiHeadAttention
from attnbook.measure import num_threads, time_calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+",
                        default=[64, 128, 256, 512, 1024, 2048])
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for PyTorch (default 0: PyTorch's choice)")
    args = parser.parse_args(argv)
    with num_threads(args.threads or None):
        run(args)


def run(args) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(args.d_model, args.heads, batch_first=True).to(device)
    ours = MultiHeadAttention.from_torch(theirs)
    print(f"device={device}, threads={torch.get_num_threads()}, d_model={args.d_model}, "
          f"heads={args.heads}, batch={args.batch}, median of {args.repeats}")
    print(f"{'n':>6} {'torch ms':>10} {'fused ms':>10} {'readable ms':>12} "
          f"{'fused/torch':>12} {'readable/torch':>15}")
    for n in args.lengths:
        x = torch.randn(args.batch, n, args.d_model, device=device, requires_grad=True)
        # One forward + backward each; they take turns, so that a slow spell of the machine
        # hits all of them alike.
        times = time_calls({
            "torch": lambda x=x: theirs(x, x, x, need_weights=False)[0].sum().backward(),
            "fused": lambda x=x: ours(x, x, x, need_weights=False)[0].sum().backward(),
            "readable": lambda x=x: ours(x, x, x, need_weights=True)[0].sum().backward(),
        }, repeats=args.repeats, warmup=2, device=device, grad=True)
        a, b, c = (times[k] * 1e3 for k in ("torch", "fused", "readable"))
        print(f"{n:>6} {a:>10.2f} {b:>10.2f} {c:>12.2f} {b / a:>12.2f} {c / a:>15.2f}",
              flush=True)


if __name__ == "__main__":
    main()

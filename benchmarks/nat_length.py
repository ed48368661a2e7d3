"""Train the NAT that decodes to a maximum length and cuts at END (chapter 10).

Run: ``.venv/bin/python benchmarks/nat_length.py`` (one to two minutes on one CPU core;
options ``--steps``, ``--seed``, ``--threads``, ``--out``). The lecture gives a NAT two ways
to fix its output's length: a length predictor (the book's NAT model,
:func:`attnbook.translate.load_book_model` ``("nat")``), or decoding a maximum length and
cutting the output at the first END. This script trains the second kind,
:class:`attnbook.model.MaxLengthNAT`, with :func:`attnbook.translate.train_nat`
(``cut_at_end=True``): the same loop, data, seed, hyperparameters and number of steps as the
book's NAT (read from its training log), so the two differ only in how they fix the length.
The weights are saved to ``src/attnbook/data/translate_nat_end.safetensors`` and the log
(with the exact match on the held-out numbers) beside them; chapter 10 loads them with
``translate.load_book_model("nat_end")`` and compares both models itself.

Training is seeded and runs a fixed number of steps; two runs on the same machine gave weights
that differ in their last digits (not bit for bit the same), and the same held-out accuracy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from attnbook import translate
from attnbook.measure import num_threads

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "attnbook" / "data"


def main(argv: list[str] | None = None) -> None:
    nat_log = translate.load_book_log("nat")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=nat_log["steps"],
                        help="training steps (default: as many as the book's NAT)")
    parser.add_argument("--seed", type=int, default=nat_log["seed"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DATA / "translate_nat_end.safetensors")
    args = parser.parse_args(argv)
    hyper = dict(nat_log["hyperparameters"])
    hyper["length_weight"] = 0.0  # no length predictor to train
    hyper.pop("cut_at_end", None)
    with num_threads(args.threads):
        model, log = translate.train_nat(seconds=None, max_steps=args.steps, seed=args.seed,
                                         cut_at_end=True, device="cpu", **hyper)
        heldout = translate.heldout_numbers()
        log.update(small_numbers_exact_match=translate.evaluate(model,
                                                                translate.small_numbers()),
                   heldout_exact_match=translate.evaluate(model, heldout, iterations=1),
                   heldout_size=len(heldout), nat_iterations=1,
                   command="python benchmarks/nat_length.py")
        log["heldout_exact_match_by_iterations"] = {
            str(k): translate.evaluate(model, heldout, iterations=k) for k in (1, 2, 4)}
    translate.save_model(model, args.out)
    log_file = translate.log_path(args.out)
    log_file.write_text(json.dumps(log, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"saved {args.out} and {log_file}")
    print(f"exact match on the {len(heldout)} held-out numbers: "
          f"{log['heldout_exact_match']:.4f} (1 pass)")


if __name__ == "__main__":
    main()

"""Train and run the book's translator of numbers into Chinese numerals (2026 → 二千零二十六).

Introduced in chapter 8 (the task, the data and the command); chapter 10 trains the
non-autoregressive model, chapter 12 looks at the teacher-forcing training loop itself.

The command line::

    python -m attnbook.translate --train --seconds 60      # train, save, report accuracy
    python -m attnbook.translate 2026 12 999999            # translate with the saved model
    python -m attnbook.translate --train --nat --seconds 60 --out checkpoints/nat.safetensors

Training samples numbers so that **each digit length 1..6 is equally likely** (a uniform draw
from 0..999999 would be 90 % six-digit numbers, and the short ones would never be learned). A
fixed held-out set — :data:`HELDOUT_PER_LENGTH` numbers of each length 3, 4, 5 and 6, drawn
with the fixed seed :data:`HELDOUT_SEED` — is never sampled for training, so the exact-match
accuracy on it measures generalization to unseen numbers. Every 1- and 2-digit number is in
training.

The Python API, used by the chapters: :func:`make_datasets`, :func:`train`,
:func:`train_nat`, :func:`save_model`, :func:`load_model`, :func:`translate`,
:func:`evaluate`, :func:`mistakes`, :func:`load_book_model` and :func:`load_book_log` (the
models trained once for the book and shipped with the package).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from attnbook import model as _model
from attnbook import numerals
from attnbook import training as _training
from attnbook.measure import num_threads
from attnbook.model import MaxLengthNAT, NATransformer, Transformer, TransformerConfig, pad_batch
from attnbook.training import TrainConfig

__all__ = [
    "DEFAULT_MODEL",
    "HELDOUT_PER_LENGTH",
    "HELDOUT_SEED",
    "NAT_ITERATIONS",
    "TRAIN_COMMAND",
    "Datasets",
    "NumberSampler",
    "default_config",
    "evaluate",
    "heldout_numbers",
    "load_book_log",
    "load_book_model",
    "load_model",
    "main",
    "make_batch",
    "make_datasets",
    "mistakes",
    "save_model",
    "small_numbers",
    "train",
    "train_nat",
    "translate",
]

HELDOUT_SEED = 8  # fixed seed of the held-out draw: the same numbers on every machine
HELDOUT_PER_LENGTH = 250  # held-out numbers of each digit length 3, 4, 5, 6 (1000 in all)
HELDOUT_LENGTHS = (3, 4, 5, 6)  # digit lengths the held-out set covers
DEFAULT_MODEL = Path("checkpoints/translate.safetensors")  # the CLI's model file (in the cwd)
TRAIN_COMMAND = "python -m attnbook.translate --train --seconds 60"
NAT_ITERATIONS = 1  # mask-predict passes when none are given: the fewest mistakes (chapter 10)


# ----------------------------------------------------------------------------------- the data


def heldout_numbers(per_length: int = HELDOUT_PER_LENGTH, seed: int = HELDOUT_SEED) -> list[int]:
    """The held-out numbers, sorted: ``per_length`` of each digit length 3, 4, 5 and 6.

    Introduced in chapter 8. Deterministic (a fixed seed); training never samples them.
    """
    if not 1 <= per_length <= 900:
        raise ValueError(f"per_length must be in 1..900 (there are 900 three-digit numbers), "
                         f"got {per_length}")
    rng = random.Random(seed)
    out: list[int] = []
    for d in HELDOUT_LENGTHS:
        out += rng.sample(range(10 ** (d - 1), 10 ** d), per_length)
    return sorted(out)


def small_numbers() -> list[int]:
    """Every 1- and 2-digit number, ``0..99``: all of them are in training.

    Introduced in chapter 8.
    """
    return list(range(100))


class NumberSampler:
    """Draws training numbers: a digit length 1..6 uniformly, then a number of that length.

    Introduced in chapter 8. Numbers in ``exclude`` (the held-out set) are drawn again (with
    the same length), so they never reach training and each length stays 1/6 of the draws.
    ``sample(n)`` returns ``n`` ints; the draws depend on ``seed`` only.

    A fraction ``zero_heavy`` of the draws has each digit after the first set to 0 with
    probability 0.7. Uniform draws almost never give 100000 or 300200 (one six-digit number in
    a hundred thousand ends in five zeros), yet the zeros are where the rules of Chinese
    numerals (零, 万) are hardest; without these draws a model trained for a minute can be
    right on 99.9 % of numbers and still write 100000 wrong. ``zero_heavy=0`` gives the plain
    uniform draws (the same stream as before this option existed).
    """

    def __init__(self, exclude: Iterable[int] = (), seed: int = 0, max_digits: int = 6,
                 zero_heavy: float = 0.0):
        if not 0.0 <= zero_heavy <= 1.0:
            raise ValueError(f"zero_heavy must be a fraction in [0, 1], got {zero_heavy}")
        self.exclude = frozenset(exclude)  # numbers never drawn (the held-out set)
        self.max_digits = max_digits  # longest numbers drawn
        self.zero_heavy = zero_heavy  # fraction of draws whose later digits are mostly 0
        self.rng = random.Random(seed)

    def _draw(self, d: int) -> int:
        low = 0 if d == 1 else 10 ** (d - 1)
        if self.zero_heavy and self.rng.random() < self.zero_heavy:
            digits = [self.rng.randint(1, 9) if d > 1 else self.rng.randint(0, 9)]
            digits += [0 if self.rng.random() < 0.7 else self.rng.randint(1, 9)
                       for _ in range(d - 1)]
            return int("".join(map(str, digits)))
        return self.rng.randint(low, 10 ** d - 1)

    def sample(self, n: int) -> list[int]:
        """``n`` training numbers. Introduced in chapter 8."""
        out = []
        for _ in range(n):
            d = self.rng.randint(1, self.max_digits)
            x = self._draw(d)
            while x in self.exclude:  # drawn again with the same length, to keep the balance
                x = self._draw(d)
            out.append(x)
        return out


@dataclass
class Datasets:
    """The training sampler and the held-out numbers. Used in chapter 8 by :func:`train`."""

    sampler: NumberSampler  # draws training numbers, never a held-out one
    heldout: list[int]  # the fixed held-out numbers (sorted)


ZERO_HEAVY = 0.25
"""The fraction of training draws with mostly-zero digits (see :class:`NumberSampler`)."""


def make_datasets(seed: int = 0, heldout_per_length: int = HELDOUT_PER_LENGTH,
                  zero_heavy: float = ZERO_HEAVY) -> Datasets:
    """The held-out set (always the same) and a training sampler seeded with ``seed``.

    Introduced in chapter 8. ``zero_heavy`` is passed to :class:`NumberSampler`.
    """
    heldout = heldout_numbers(heldout_per_length)
    return Datasets(NumberSampler(exclude=heldout, seed=seed, zero_heavy=zero_heavy), heldout)


def make_batch(numbers: Sequence[int], kind: str = "at", device=None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Numbers → ``(src [B, S], tgt [B, T])`` token-id tensors, right-padded with PAD.

    Introduced in chapter 11. ``kind='at'``: ``tgt`` is ``[BEGIN, characters…, END]`` (what
    teacher forcing needs); ``kind='nat'``: the characters only.
    """
    if kind not in ("at", "nat"):
        raise ValueError(f"kind must be 'at' or 'nat', got {kind!r}")
    src = pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD, device)
    if kind == "at":
        tgt = [[numerals.BEGIN, *numerals.target_ids(n), numerals.END] for n in numbers]
    else:
        tgt = [numerals.target_ids(n) for n in numbers]
    return src, pad_batch(tgt, numerals.PAD, device)


def default_config(**overrides) -> TransformerConfig:
    """The book's model for this task: 2 + 2 layers, d_model 64, 4 heads, the task's vocabularies.

    Used in chapter 8 by :func:`train`. Keyword arguments override single fields.
    """
    fields = dict(src_vocab_size=len(numerals.SOURCE_TOKENS),
                  tgt_vocab_size=len(numerals.TARGET_TOKENS), d_model=64, num_heads=4,
                  num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=256, dropout=0.0,
                  max_len=16, pad_id=numerals.PAD, bos_id=numerals.BEGIN, eos_id=numerals.END,
                  mask_id=numerals.MASK, max_target_len=numerals.MAX_TARGET_LEN + 1)
    fields.update(overrides)
    return TransformerConfig(**fields)


# ------------------------------------------------------------------------------------ training


def _resolve_device(device):
    if device is None:
        from attnbook import device as _default_device

        return _default_device()
    return torch.device(device)


def _run_training(model, loss_fn: Callable, kind: str, hyper: dict, *, seed: int, seconds,
                  max_steps, log_every: float, curve_every: int, print_fn, device):
    """:func:`attnbook.training.train` with the translator's settings, and the command's log.

    The settings are those of every model of chapters 8–12: AdamW (β₂ = 0.98), a warm-up,
    a cosine decay over the budget (time, or steps when there is no time budget) and the
    gradient's norm clipped at 1. Each step draws ``hyper["batch_size"]`` numbers from the
    sampler of :func:`make_datasets`; ``hyper`` also holds the rate and its schedule.
    """
    batch_size = hyper["batch_size"]
    datasets = make_datasets(seed, zero_heavy=hyper["zero_heavy"])
    config = TrainConfig(steps=max_steps, seconds=seconds, lr=hyper["lr"], optimizer="adamw",
                         betas=(0.9, 0.98), eps=1e-9, weight_decay=hyper["weight_decay"],
                         warmup_steps=hyper["warmup_steps"], decay="cosine",
                         min_lr_ratio=hyper["min_lr_ratio"], clip=1.0, batch_size=batch_size,
                         seed=seed, curve_every=curve_every)

    def batch_loss():
        src, tgt = make_batch(datasets.sampler.sample(batch_size), kind, device)
        return loss_fn(src, tgt)

    def progress(p):
        print_fn(f"step {p['step']:5d}  loss {p['loss']:.4f}  elapsed {p['elapsed']:5.1f} s")

    log = _training.train(model, batch_loss, config,
                          on_progress=None if print_fn is None else progress,
                          progress_seconds=log_every)
    if print_fn is not None:
        print_fn(f"trained {log['steps']} steps in {log['train_seconds']:.1f} s")
    return model, {"kind": kind, "seed": seed, "seconds": seconds, "max_steps": max_steps,
                   "steps": log["steps"], "train_seconds": log["train_seconds"],
                   "device": str(device), "threads": log["threads"], "hyperparameters": hyper,
                   "config": model.config.to_dict(), "curve": log["curve"]}


def train(config: TransformerConfig | None = None, seconds: float | None = 60.0, seed: int = 0,
          log_every: float = 5.0, *, max_steps: int | None = None, batch_size: int = 128,
          lr: float = 5e-3, warmup_steps: int = 50, min_lr_ratio: float = 0.02,
          label_smoothing: float = 0.0, weight_decay: float = 0.0, curve_every: int = 10,
          zero_heavy: float = ZERO_HEAVY, print_fn: Callable[[str], None] | None = print,
          device=None) -> tuple[Transformer, dict]:
    """Train a :class:`~attnbook.model.Transformer` from scratch with teacher forcing (教师强制).

    Introduced in chapter 8 (the loop itself is the subject of chapter 12). Trains for at most
    ``seconds`` of wall-clock time (and/or ``max_steps`` steps; ``seconds=None`` trains an
    exact number of steps), printing a line (step, loss, elapsed) every ``log_every``
    seconds through ``print_fn`` (``None``: silent). Each step draws ``batch_size`` numbers
    from :func:`make_datasets`'s sampler (``seed`` fixes the draws and the initial weights).
    The learning rate warms up over ``warmup_steps`` and then follows a cosine down to
    ``min_lr_ratio · lr`` at the end of the budget. ``zero_heavy`` is the fraction of draws
    with mostly-zero digits (:class:`NumberSampler`).

    Returns ``(model, log)``: the model in eval mode and a JSON-ready dict with ``steps``,
    ``train_seconds``, the settings, and ``curve`` (``step``, ``elapsed``, ``loss``: the mean
    loss of every ``curve_every`` steps). ``python -m attnbook.translate --train`` calls this.
    """
    torch.manual_seed(seed)
    device = _resolve_device(device)
    config = config or default_config()
    model = Transformer(config).to(device)
    hyper = dict(batch_size=batch_size, lr=lr, warmup_steps=warmup_steps,
                 min_lr_ratio=min_lr_ratio, label_smoothing=label_smoothing,
                 weight_decay=weight_decay, zero_heavy=zero_heavy)

    def loss_fn(src, tgt):
        return model.loss(src, tgt, label_smoothing=label_smoothing)

    return _run_training(model, loss_fn, "at", hyper, seed=seed, seconds=seconds,
                         max_steps=max_steps, log_every=log_every, curve_every=curve_every,
                         print_fn=print_fn, device=device)


def train_nat(config: TransformerConfig | None = None, seconds: float | None = 60.0,
              seed: int = 0, log_every: float = 5.0, *, max_steps: int | None = None,
              batch_size: int = 128, lr: float = 5e-3, warmup_steps: int = 50,
              min_lr_ratio: float = 0.02, full_mask_prob: float = 0.3,
              length_weight: float = 1.0, weight_decay: float = 0.0, curve_every: int = 10,
              zero_heavy: float = ZERO_HEAVY, cut_at_end: bool = False,
              print_fn: Callable[[str], None] | None = print,
              device=None) -> tuple[NATransformer, dict]:
    """Train a :class:`~attnbook.model.NATransformer` (mask-predict) on the same data.

    Not used by a chapter: it made chapter 10's NAT models (``python -m attnbook.translate
    --train --nat``, and ``benchmarks/nat_length.py`` with ``cut_at_end=True``). The same
    loop, budget and log as :func:`train`; the loss is :meth:`NATransformer.loss
    <attnbook.model.NATransformer.loss>` (a random number of target tokens masked, all of
    them with probability ``full_mask_prob``, plus ``length_weight`` × the length
    predictor's loss). ``cut_at_end=True`` trains a :class:`~attnbook.model.MaxLengthNAT`
    instead: no length predictor; the decoder writes END (and PAD after it) within
    ``max_target_len`` positions.
    """
    torch.manual_seed(seed)
    device = _resolve_device(device)
    config = config or default_config()
    model = (MaxLengthNAT if cut_at_end else NATransformer)(config).to(device)
    generator = torch.Generator().manual_seed(seed)
    hyper = dict(batch_size=batch_size, lr=lr, warmup_steps=warmup_steps,
                 min_lr_ratio=min_lr_ratio, full_mask_prob=full_mask_prob,
                 length_weight=length_weight, weight_decay=weight_decay,
                 zero_heavy=zero_heavy, cut_at_end=cut_at_end)

    def loss_fn(src, tgt):
        return model.loss(src, tgt, generator=generator, full_mask_prob=full_mask_prob,
                          length_weight=length_weight)[0]

    return _run_training(model, loss_fn, "nat", hyper, seed=seed, seconds=seconds,
                         max_steps=max_steps, log_every=log_every, curve_every=curve_every,
                         print_fn=print_fn, device=device)


# ---------------------------------------------------------------------------------- inference


def save_model(model, path) -> Path:
    """Save a trained model (weights + config) to a ``.safetensors`` file; returns the path.

    Used in chapter 8 by :func:`train`. The same as :func:`attnbook.model.save_model`.
    """
    return _model.save_model(model, path)


def load_model(path, device=None):
    """Load a model saved by :func:`save_model` (AT or NAT), in eval mode.

    Introduced in chapter 8. ``device`` defaults to the CPU.
    """
    return _model.load_model(path, device)


def _outputs(model, numbers: Sequence[int], beam_size: int, iterations: int | None,
             batch_size: int = 1024) -> list[list[int]]:
    numbers = [numerals.check_number(n) for n in numbers]
    out: list[list[int]] = []
    for i in range(0, len(numbers), batch_size):
        chunk = numbers[i:i + batch_size]
        src = pad_batch([numerals.source_ids(n) for n in chunk], numerals.PAD, model.device)
        if isinstance(model, NATransformer):
            out += model.generate(src, iterations=iterations or NAT_ITERATIONS)
        elif beam_size == 1:
            out += model.greedy_decode(src)
        else:
            out += model.beam_search(src, beam_size=beam_size)
    return out


def translate(model, numbers: Iterable[int], beam_size: int = 1,
              iterations: int | None = None) -> list[str]:
    """The model's Chinese numeral for each number (a list of strings).

    Introduced in chapter 8. An autoregressive model decodes greedily (``beam_size=1``) or with
    beam search; a NAT model runs mask-predict with ``iterations`` decoder passes (default
    :data:`NAT_ITERATIONS`). A number outside ``0..999999`` raises a ``ValueError``.
    """
    return [numerals.decode_target(ids)
            for ids in _outputs(model, list(numbers), beam_size, iterations)]


def mistakes(model, numbers: Iterable[int], beam_size: int = 1,
             iterations: int | None = None) -> list[tuple[int, str, str]]:
    """``(number, model's output, correct numeral)`` for every number the model gets wrong.

    Introduced in chapter 10.
    """
    numbers = list(numbers)
    got = translate(model, numbers, beam_size, iterations)
    return [(n, g, numerals.to_chinese(n)) for n, g in zip(numbers, got, strict=True)
            if g != numerals.to_chinese(n)]


def evaluate(model, numbers: Iterable[int], beam_size: int = 1,
             iterations: int | None = None) -> float:
    """Exact match: the fraction of numbers whose whole output is right (0.0–1.0).

    Introduced in chapter 8.
    """
    numbers = list(numbers)
    if not numbers:
        raise ValueError("evaluate needs at least one number")
    return 1.0 - len(mistakes(model, numbers, beam_size, iterations)) / len(numbers)


def _book_file(name: str):
    from importlib.resources import files

    return files("attnbook") / "data" / name


def _check_kind(kind: str) -> str:
    if kind not in ("at", "nat", "nat_end"):
        raise ValueError(f"kind must be 'at' (autoregressive), 'nat' (non-autoregressive) or "
                         f"'nat_end' (NAT cut at END), got {kind!r}")
    return kind


def load_book_model(kind: str = "at", device=None):
    """The model trained once for the book and shipped with the package, in eval mode.

    Introduced in chapter 8 (``'at'``: the autoregressive :class:`Transformer`, used in
    chapters 8–12) and chapter 10 (``'nat'``: the :class:`NATransformer`; ``'nat_end'``: the
    :class:`~attnbook.model.MaxLengthNAT`). The first two were trained with
    ``python -m attnbook.translate --train [--nat] --seconds 60``, the third with
    ``python benchmarks/nat_length.py`` (as many steps as the NAT, cut at END).
    """
    from importlib.resources import as_file

    with as_file(_book_file(f"translate_{_check_kind(kind)}.safetensors")) as path:
        return load_model(path, device)


def load_book_log(kind: str = "at") -> dict:
    """The training log of :func:`load_book_model`'s model: loss curve, steps, accuracies.

    Introduced in chapter 8 (the loss curve is drawn in chapter 12).
    """
    return json.loads(_book_file(f"translate_{_check_kind(kind)}_log.json").read_text("utf-8"))


# ----------------------------------------------------------------------------- command line


def _parse_number(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an integer: give a whole number in the range "
                         f"0..{numerals.MAX_NUMBER}") from None
    if not 0 <= n <= numerals.MAX_NUMBER:
        raise ValueError(f"{text!r} is out of the range 0..{numerals.MAX_NUMBER}")
    return n


def log_path(model_path) -> Path:
    """Where the CLI writes the training log of a model file: ``<stem>_log.json`` beside it.

    Introduced in chapter 8.
    """
    p = Path(model_path)
    return p.with_name(p.stem + "_log.json")


def _train_command(args, parser) -> int:
    if args.numbers:
        parser.error("give either --train or numbers to translate, not both")
    out = Path(args.out)
    kind = "NAT (mask-predict)" if args.nat else "Transformer"
    print(f"training a {kind} for at most {args.seconds:g} s (seed {args.seed}, "
          f"{torch.get_num_threads()} threads)", flush=True)

    def show(line):
        print(line, flush=True)

    trainer = train_nat if args.nat else train
    model, log = trainer(seconds=args.seconds, seed=args.seed, log_every=args.log_every,
                         print_fn=show, device=args.device)
    model = model.cpu()
    saved = save_model(model, out)
    print(f"saved the model to {saved}", flush=True)
    heldout = heldout_numbers()
    small = evaluate(model, small_numbers())
    held = evaluate(model, heldout)
    log.update(small_numbers_exact_match=small, heldout_exact_match=held,
               heldout_size=len(heldout))
    if args.nat:
        log["heldout_exact_match_by_iterations"] = {
            str(k): evaluate(model, heldout, iterations=k) for k in range(1, 7)}
        log["nat_iterations"] = NAT_ITERATIONS
    log_path(out).write_text(json.dumps(log, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"saved the training log to {log_path(out)}")
    print(f"exact match on all 1- and 2-digit numbers: {small:.4f} ({len(small_numbers())} "
          "numbers)")
    print(f"exact match: {held:.4f} on {len(heldout)} held-out numbers")
    return 0


def _translate_command(args, parser) -> int:
    try:
        numbers = [_parse_number(t) for t in args.numbers]
    except ValueError as e:
        parser.error(str(e))
    path = Path(args.model)
    if not path.is_file():
        print(f"error: no trained model at {path}. Train one first with:\n"
              f"    {TRAIN_COMMAND}" + (f" --out {path}" if path != DEFAULT_MODEL else ""),
              file=sys.stderr)
        return 1
    model = load_model(path)
    for n, text in zip(numbers, translate(model, numbers, args.beam, args.iterations),
                       strict=True):
        print(f"{n} → {text}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``--train`` to train and save, or numbers to translate.

    Not used by a chapter: ``python -m attnbook.translate`` runs it. Returns the exit status (0
    ok, 1 no model, 2 bad input).
    """
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    parser = argparse.ArgumentParser(
        prog="python -m attnbook.translate",
        description="Translate numbers 0..999999 into Chinese numerals with a small "
                    "Transformer (the book's chapter 8), or train one.")
    parser.add_argument("numbers", nargs="*", help="integers in 0..999999 to translate")
    parser.add_argument("--train", action="store_true", help="train a model from scratch")
    parser.add_argument("--nat", action="store_true",
                        help="with --train: a non-autoregressive (mask-predict) model")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="wall-clock training budget in seconds (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--log-every", type=float, default=5.0,
                        help="seconds between progress lines (default 5)")
    # One thread by default: the model is so small that a second thread gains little, and
    # on a busy machine (more threads than free cores) threads that wait for each other make
    # every step many times slower.
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for PyTorch (default 1; 0 = PyTorch's choice)")
    parser.add_argument("--device", default=None, help="e.g. cpu or cuda (default: CUDA if "
                                                       "present)")
    parser.add_argument("--out", default=str(DEFAULT_MODEL),
                        help=f"where --train saves the model (default {DEFAULT_MODEL})")
    parser.add_argument("--model", default=str(DEFAULT_MODEL),
                        help=f"the model file to translate with (default {DEFAULT_MODEL})")
    parser.add_argument("--beam", type=int, default=1, help="beam size (default 1: greedy)")
    parser.add_argument("--iterations", type=int, default=None,
                        help=f"decoder passes for a NAT model (default {NAT_ITERATIONS})")
    args = parser.parse_args(argv)
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    with num_threads(args.threads or None):
        return _run_command(args, parser)


def _run_command(args, parser) -> int:
    if args.train:
        return _train_command(args, parser)
    if not args.numbers:
        parser.print_usage(sys.stderr)
        print(f"give numbers to translate, or train a model first: {TRAIN_COMMAND}",
              file=sys.stderr)
        return 2
    if args.beam < 1:
        parser.error(f"--beam must be >= 1, got {args.beam}")
    return _translate_command(args, parser)


if __name__ == "__main__":
    sys.exit(main())

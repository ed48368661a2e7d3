"""Measuring what code costs: time, peak memory, how a cost grows, and saved sweeps.

Introduced in chapter 6 (timings on one thread, the growth exponent, saved sweeps) and chapter
7 (time and peak memory of attention). Every timing and memory number of the book goes
through this module:

- :func:`num_threads`: run a block with PyTorch on ``n`` CPU threads, then restore the count;
- :func:`time_call` (one function) and :func:`time_calls` (several, taking turns): the median
  wall-clock seconds of repeated runs, waiting for the GPU on CUDA;
- :class:`MemoryTracker` and :func:`peak_memory`: the peak bytes of the tensors a call makes
  (on CUDA, the allocator's own counters);
- :func:`growth_exponent`: the ``p`` of ``cost ∝ nᵖ``, fitted to measured points;
- :func:`save_sweep` and :func:`load_sweep`: the JSON files that ``benchmarks/`` writes into
  ``attnbook/data/measurements`` and the chapters read, with :func:`machine_info`.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from importlib.resources import files
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.weak import WeakIdKeyDictionary

__all__ = [
    "MemoryTracker",
    "growth_exponent",
    "load_sweep",
    "machine_info",
    "num_threads",
    "peak_memory",
    "save_sweep",
    "time_call",
    "time_calls",
]


# ----------------------------------------------------------------------------------- threads


@contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Run the block with PyTorch using ``n`` CPU threads, then restore the old number.

    Introduced in chapter 6: the timings use one thread, so that they compare algorithms and
    not how many cores a machine has or how busy they are. ``None`` leaves the count as it is.

    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with num_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n is None:
        yield
        return
    if int(n) < 1:
        raise ValueError(f"the thread count must be >= 1, got {n}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -------------------------------------------------------------------------------------- time


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device_of(args: Any) -> torch.device:
    for t in tree_leaves(args):
        if isinstance(t, torch.Tensor):
            return t.device
    return torch.device("cpu")


def time_calls(fns: Mapping[str, Callable[[], Any]], repeats: int = 5, warmup: int = 1,
               device: str | torch.device | None = None, grad: bool = False
               ) -> dict[str, float]:
    """Median wall-clock seconds of each ``fn()`` in ``fns``, over ``repeats`` runs each.

    Used in chapter 10 by :func:`~attnbook.labs.at_vs_nat.time_decoding` (and by
    :func:`time_call`). The functions take turns within each repeat,
    so that a slow moment of the machine slows all of them alike. ``warmup`` rounds run first,
    untimed (the first call pays for memory allocation and kernel selection). The median
    ignores the odd run that another program slowed down. With a CUDA ``device`` the clock is
    read only after the GPU has finished. Runs under ``torch.no_grad()`` unless ``grad``.

    >>> sorted(time_calls({"a": lambda: None, "b": lambda: None}, repeats=3))
    ['a', 'b']
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    device = torch.device("cpu") if device is None else torch.device(device)
    times: dict[str, list[float]] = {name: [] for name in fns}
    with nullcontext() if grad else torch.no_grad():
        for r in range(warmup + repeats):
            for name, fn in fns.items():
                _sync(device)
                start = time.perf_counter()
                fn()
                _sync(device)
                if r >= warmup:
                    times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def time_call(fn: Callable[..., Any], *args: Any, repeats: int = 5, warmup: int = 1,
              **kwargs: Any) -> float:
    """Median wall-clock seconds of ``fn(*args, **kwargs)`` over ``repeats`` runs.

    Introduced in chapter 7 (chapter 6's timings of an RNN use it too). :func:`time_calls`
    with one function; the device to wait for is the one of the first tensor argument.
    Under no_grad.

    >>> time_call(sum, [1, 2, 3], repeats=3) >= 0
    True
    """
    return time_calls({"": lambda: fn(*args, **kwargs)}, repeats=repeats, warmup=warmup,
                      device=_device_of((args, kwargs)))[""]


# ------------------------------------------------------------------------------------ memory


class MemoryTracker(TorchDispatchMode):
    """Counts the bytes of every tensor allocated inside its ``with`` block, and the peak.

    Introduced in chapter 7, to measure memory on a CPU (where PyTorch keeps no allocator
    statistics). Every PyTorch operation passes through this mode; each new storage it
    returns is added to ``live`` and subtracted again when Python frees it, and ``peak`` is
    the largest ``live`` seen. Tensors that existed before the block (the inputs) are not
    counted, nor are views of them. Counts tensor bytes exactly; it does not see memory that
    an operation uses internally without making a tensor of it.

    >>> import torch
    >>> with MemoryTracker() as tracker:
    ...     x = torch.zeros(1000)  # 4000 bytes of float32
    >>> tracker.peak
    4000
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0  # bytes of the storages made in the block and still alive
        self.peak = 0  # the largest `live` seen so far
        self.allocated = 0  # bytes of every storage made in the block, freed or not
        self._seen: WeakIdKeyDictionary = WeakIdKeyDictionary()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = {id(t.untyped_storage()) for t in tree_leaves((args, kwargs))
                  if isinstance(t, torch.Tensor)}
        result = func(*args, **kwargs)
        for t in tree_leaves(result):
            if isinstance(t, torch.Tensor):
                self._track(t.untyped_storage(), new=id(t.untyped_storage()) not in inputs)
        return result

    def _track(self, storage: torch.UntypedStorage, new: bool) -> None:
        if storage in self._seen:
            return
        nbytes = storage.nbytes() if new else 0  # a view or an in-place result: not new
        self._seen[storage] = nbytes
        if nbytes:
            self.live += nbytes
            self.allocated += nbytes
            self.peak = max(self.peak, self.live)
            weakref.finalize(storage, self._free, nbytes)

    def _free(self, nbytes: int) -> None:
        self.live -= nbytes


def peak_memory(fn: Callable[..., Any], *args: Any, counter: str = "auto",
                **kwargs: Any) -> int:
    """Peak bytes allocated while ``fn(*args, **kwargs)`` runs, above what existed before.

    Introduced in chapter 7. ``counter="tensors"`` counts tensor storages with
    :class:`MemoryTracker` (works on every device; exact and the same on every run);
    ``"cuda"`` reads the CUDA allocator's peak (``torch.cuda.max_memory_allocated``);
    ``"auto"`` picks ``"cuda"`` for CUDA tensors and ``"tensors"`` otherwise. Runs under
    ``torch.no_grad()``: the memory of inference, not of training.

    >>> import torch
    >>> peak_memory(torch.ones, 256, 256)  # one float32 matrix: 256 · 256 · 4 bytes
    262144
    """
    device = _device_of((args, kwargs))
    if counter == "auto":
        counter = "cuda" if device.type == "cuda" else "tensors"
    if counter == "cuda":
        if device.type != "cuda":
            raise ValueError(f"counter='cuda' needs CUDA tensors, got tensors on {device}")
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        with torch.no_grad():
            result = fn(*args, **kwargs)
        _sync(device)
        peak = torch.cuda.max_memory_allocated(device) - before
        del result
        return int(peak)
    if counter != "tensors":
        raise ValueError(f"counter={counter!r} is not 'auto', 'tensors' or 'cuda'")
    with torch.no_grad(), MemoryTracker() as tracker:
        result = fn(*args, **kwargs)
    del result
    return int(tracker.peak)


# ------------------------------------------------------------------------------------ growth


def growth_exponent(ns, values) -> float:
    """The slope ``p`` of a straight line through ``(log n, log value)``: ``value ∝ nᵖ``.

    Introduced in chapter 6. A least-squares fit over all points, so one noisy timing moves
    it little; ``p ≈ 1`` is linear growth, ``p ≈ 2`` quadratic.

    >>> round(growth_exponent([10, 20, 40], [100, 400, 1600]), 6)
    2.0
    """
    x = torch.log(torch.as_tensor(ns, dtype=torch.float64))
    y = torch.log(torch.as_tensor(values, dtype=torch.float64))
    if x.shape != y.shape or x.numel() < 2:
        raise ValueError(f"need two or more (n, value) pairs of the same length, got "
                         f"{x.numel()} n and {y.numel()} values")
    if not torch.isfinite(y).all():
        raise ValueError("every value must be positive")
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc * xc).sum())


# ------------------------------------------------------------------------------ saved sweeps


# The package's folder of saved measurements (``src/attnbook/data/measurements`` in the
# repository): found through the installed package, so the chapters find it on Colab too.
_MEASUREMENTS = Path(str(files("attnbook") / "data" / "measurements"))


def machine_info(device: str | torch.device = "cpu", threads: int | None = None) -> dict:
    """What a measurement was made on: Python, PyTorch, platform, processor, threads, device.

    Not used by a chapter: the ``benchmarks/`` scripts save it with every sweep, so that a
    reader can tell whose machine the numbers come from. ``threads`` defaults to PyTorch's
    current count.
    """
    device = str(device)
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads() if threads is None else int(threads),
        "device": device,
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    return info


def save_sweep(name: str, data: dict, folder: str | Path | None = None,
               ensure_ascii: bool = True) -> Path:
    """Write ``data`` as ``<folder>/<name>.json`` (indented, one trailing newline).

    Not used by a chapter: the ``benchmarks/`` scripts do, and the chapters read the files back
    with :func:`load_sweep`. The default folder is the package's
    ``attnbook/data/measurements``. Returns the path.
    """
    base = _MEASUREMENTS if folder is None else Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=ensure_ascii) + "\n",
                    encoding="utf-8")
    return path


def load_sweep(name: str, folder: str | Path | None = None) -> dict | None:
    """The measurements a script in ``benchmarks/`` saved as ``<folder>/<name>.json``.

    Introduced in chapter 6. The default folder is the package's own
    ``attnbook/data/measurements`` (``src/attnbook/data/measurements`` in the repository),
    so a chapter finds its data wherever the package is installed, Colab included. Returns
    ``None`` when the file is not there; the chapters then show only their own run.

    >>> load_sweep("no such sweep") is None
    True
    """
    base = _MEASUREMENTS if folder is None else Path(folder)
    path = base / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))

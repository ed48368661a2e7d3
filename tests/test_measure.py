"""attnbook.measure (time, memory, growth, threads, saved sweeps) and attnbook.labs.cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from attnbook import efficient as E
from attnbook import measure as M
from attnbook.labs import cost

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ measuring


@pytest.mark.parametrize("method", E.METHODS)
def test_measured_peak_memory_matches_the_model(method):
    x = torch.randn(1, 512, 64, generator=torch.Generator().manual_seed(0))
    measured = M.peak_memory(cost.run_method, method, x, x, x)
    model = cost.memory_model(method, 512, 64)
    assert 0.9 < measured / model < 1.1, (method, measured, model)


def test_full_attention_memory_is_exactly_two_score_matrices_and_the_output():
    for n in (64, 256):
        x = torch.randn(2, n, 16)
        assert M.peak_memory(E.full_attention, x, x, x) == 2 * (2 * n * n + n * 16) * 4


def test_memory_growth_quadratic_for_full_linear_for_the_others():
    ns = [128, 256, 512, 1024]
    peaks = {m: [] for m in E.METHODS}
    for n in ns:
        x = torch.randn(1, n, 32)
        for m in E.METHODS:
            peaks[m].append(M.peak_memory(cost.run_method, m, x, x, x))
    assert 1.8 < M.growth_exponent(ns, peaks["full"]) < 2.05
    for m in ("local", "linear", "tiled"):
        assert M.growth_exponent(ns, peaks[m]) < 1.05, m
    # Tiled attention beyond its output: the same few tiles whatever n.
    extra = [p - n * 32 * 4 for n, p in zip(ns, peaks["tiled"], strict=True)]
    assert len(set(extra)) == 1


def test_memory_tracker_counts_new_tensors_only_and_frees():
    x = torch.ones(1000)  # made before the block: not counted
    with M.MemoryTracker() as tracker:
        y = x.view(10, 100).t()  # a view: no new memory
        assert tracker.live == 0
        z = x * 2  # 4000 bytes
        w = torch.empty(500, dtype=torch.float64)  # 4000 bytes
        assert tracker.live == 8000
        del z
        assert tracker.live == 4000
        w.add_(1)  # in place: no new memory
    assert tracker.peak == 8000 and tracker.allocated == 8000
    del w, y


def test_peak_memory_counter_choice():
    x = torch.randn(4, 8)
    with pytest.raises(ValueError, match="counter"):
        M.peak_memory(torch.exp, x, counter="rss")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            M.peak_memory(torch.exp, x, counter="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_peak_memory_on_cuda_uses_the_allocator_counters():
    x = torch.randn(1, 1024, 64, device="cuda")
    full = M.peak_memory(E.full_attention, x, x, x)
    tiled = M.peak_memory(E.tiled_attention, x, x, x)
    assert full >= 2 * 1024 * 1024 * 4 and tiled < full / 4
    torch.testing.assert_close(E.tiled_attention(x, x, x), E.full_attention(x, x, x),
                               rtol=0, atol=1e-5)


def test_time_call_and_growth_exponent():
    seconds = M.time_call(torch.mm, torch.randn(50, 50), torch.randn(50, 50), repeats=3)
    assert 0 < seconds < 1
    assert M.growth_exponent([1, 2, 4, 8], [3, 12, 48, 192]) == pytest.approx(2.0)
    assert M.growth_exponent([10, 100], [5, 50]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        M.growth_exponent([1, 2], [1, 0])
    with pytest.raises(ValueError):
        M.time_call(torch.mm, repeats=0)


def test_cost_sweep_shape():
    result = cost.cost_sweep([64, 128], repeats=1, max_n={"full": 64})
    assert list(result) == list(E.METHODS)
    assert result["full"]["n"] == [64] and result["tiled"]["n"] == [64, 128]
    for row in result.values():
        assert len(row["seconds"]) == len(row["peak_bytes"]) == len(row["model_bytes"])


def test_run_method_and_memory_model_reject_unknown_methods():
    x = torch.randn(1, 4, 2)
    with pytest.raises(ValueError, match="method"):
        cost.run_method("sparse", x, x, x)
    with pytest.raises(ValueError, match="method"):
        cost.memory_model("sparse", 4)


# ------------------------------------------------------------------------------ the benchmark


def test_benchmark_script_writes_its_json(tmp_path):
    """A tiny run of benchmarks/attention_cost.py, into a temporary folder."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "attention_cost.py"), "--quick",
                    "--only", "cost", "--out", str(tmp_path)], check=True, capture_output=True)
    data = json.loads((tmp_path / "attention_cost.json").read_text())
    assert set(data["methods"]) == set(E.METHODS)
    assert data["tiled_minus_full_max_abs"] < 1e-5
    assert data["machine"]["threads"] == 1


def test_saved_cost_data_has_the_expected_shape():
    """src/attnbook/data/measurements/attention_cost.json, which chapter 7 plots."""
    path = ROOT / "src" / "attnbook" / "data" / "measurements" / "attention_cost.json"
    data = json.loads(path.read_text())
    methods = data["methods"]
    assert set(methods) == set(E.METHODS)
    for m, row in methods.items():
        assert len(row["n"]) == len(row["seconds"]) == len(row["peak_bytes"]) >= 5, m
    full = methods["full"]
    assert M.growth_exponent(full["n"], full["peak_bytes"]) > 1.8
    assert M.growth_exponent(methods["tiled"]["n"], methods["tiled"]["peak_bytes"]) < 1.05


def test_time_calls_take_turns_and_name_every_function():
    order = []
    times = M.time_calls({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                         repeats=2, warmup=1)
    assert sorted(times) == ["a", "b"] and all(t >= 0 for t in times.values())
    assert order == ["a", "b"] * 3
    with pytest.raises(ValueError):
        M.time_calls({"a": lambda: None}, repeats=0)


def test_time_calls_with_and_without_grad():
    x = torch.ones(3, requires_grad=True)
    seen = []
    M.time_calls({"x": lambda: seen.append((x * 2).requires_grad)}, repeats=1, warmup=0)
    M.time_calls({"x": lambda: seen.append((x * 2).requires_grad)}, repeats=1, warmup=0,
                 grad=True)
    assert seen == [False, True]


def test_num_threads_restores_and_none_leaves_it():
    before = torch.get_num_threads()
    with M.num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with M.num_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError):
        with M.num_threads(0):
            pass


def test_save_and_load_sweep(tmp_path):
    assert M.load_sweep("missing", tmp_path) is None
    path = M.save_sweep("x", {"a": [1, 2], "name": "五"}, tmp_path, ensure_ascii=False)
    assert path == tmp_path / "x.json" and path.read_text(encoding="utf-8").endswith("}\n")
    assert M.load_sweep("x", tmp_path) == {"a": [1, 2], "name": "五"}
    assert M.load_sweep("attention_cost") is not None  # the package's own data


def test_machine_info():
    info = M.machine_info("cpu", 1)
    assert info["threads"] == 1 and info["device"] == "cpu" and "torch" in info

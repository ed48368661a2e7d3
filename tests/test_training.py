"""Tests of attnbook.training: the one training loop (budget, schedule, clipping, log)."""

from __future__ import annotations

import math

import pytest
import torch

from attnbook import training
from attnbook.training import TrainConfig
from attnbook.training import _learning_rate as learning_rate


def _problem(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(2, 1)
    x = torch.randn(64, 2)
    y = x @ torch.tensor([[2.0], [-1.0]])

    def loss_fn():
        return ((model(x) - y) ** 2).mean()

    return model, loss_fn


def test_step_budget_log_and_modes():
    model, loss_fn = _problem()
    seen = []
    log = training.train(model, loss_fn, TrainConfig(steps=25, lr=0.05, curve_every=10),
                         on_step=lambda step, loss: seen.append(step))
    assert log["steps"] == 25 and len(log["losses"]) == 25 and seen == list(range(1, 26))
    assert log["curve"]["step"] == [10, 20]
    assert log["curve"]["loss"][0] == pytest.approx(sum(log["losses"][:10]) / 10, abs=1e-4)
    assert log["losses"][-1] < log["losses"][0]
    assert not model.training and log["train_seconds"] >= 0 and log["step_seconds"] >= 0


def test_the_same_seed_gives_the_same_run():
    runs = []
    for _ in range(2):
        model, loss_fn = _problem()
        runs.append(training.train(model, loss_fn, TrainConfig(steps=10))["losses"])
    assert runs[0] == runs[1]


def test_time_budget_stops_training():
    model, loss_fn = _problem()
    log = training.train(model, loss_fn, TrainConfig(seconds=0.2, lr=0.01))
    assert log["steps"] >= 1 and log["train_seconds"] < 1.0


def test_progress_is_reported_after_the_first_step():
    model, loss_fn = _problem()
    lines = []
    training.train(model, loss_fn, TrainConfig(steps=3), on_progress=lines.append,
                   progress_seconds=60)
    assert [p["step"] for p in lines] == [1]
    assert set(lines[0]) == {"step", "loss", "elapsed"}


def test_schedule_warmup_then_cosine():
    c = TrainConfig(steps=100, lr=2.0, warmup_steps=4, decay="cosine", min_lr_ratio=0.02)
    assert learning_rate(c, 0, 0.0) == pytest.approx(0.5)
    assert learning_rate(c, 3, 0.03) == pytest.approx(
        2.0 * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * 0.03))))
    assert learning_rate(c, 99, 1.5) == pytest.approx(2.0 * 0.02)  # past the end: the floor
    assert learning_rate(TrainConfig(steps=5, lr=0.3), 4, 0.8) == 0.3  # constant


def test_clipping_bounds_the_step():
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)

    def loss_fn():
        return 1e6 * model.weight.sum()  # gradient 1e6

    training.train(model, loss_fn, TrainConfig(steps=1, lr=1.0, optimizer="adamw",
                                                clip=1.0))
    # Adam normalizes the step, so clipping shows in the gradient it left behind.
    assert model.weight.grad.norm().item() == pytest.approx(1.0)


def test_threads_are_restored():
    before = torch.get_num_threads()
    model, loss_fn = _problem()
    log = training.train(model, loss_fn, TrainConfig(steps=1, threads=1))
    assert log["threads"] == 1 and torch.get_num_threads() == before


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give a time budget"),
    ({"steps": 0}, "steps must be >= 1"),
    ({"seconds": 0}, "seconds must be > 0"),
    ({"steps": 1, "optimizer": "sgd"}, "optimizer"),
    ({"steps": 1, "decay": "linear"}, "decay"),
    ({"steps": 1, "lr": 0}, "must be positive"),
    ({"steps": 1, "clip": 0}, "clip"),
    ({"steps": 1, "min_lr_ratio": 2}, "min_lr_ratio"),
])
def test_config_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_weight_decay_needs_adamw():
    model, loss_fn = _problem()
    with pytest.raises(ValueError, match="adamw"):
        training.train(model, loss_fn, TrainConfig(steps=1, weight_decay=0.1))


def test_to_dict_is_json_ready():
    import json

    d = TrainConfig(steps=3, dtype=torch.float64).to_dict()
    assert d["dtype"] == "float64" and json.loads(json.dumps(d))["steps"] == 3

"""attnbook.glue hands myst-nb plain Python numbers, which `{glue:text}` can format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import attnbook

myst_nb = pytest.importorskip("myst_nb")


@pytest.mark.parametrize(
    "value", [np.float64(0.25), np.float32(0.25), np.int64(3), torch.tensor(0.25), 0.25, "1.5 ms"]
)
def test_glue_passes_plain_python_values(monkeypatch, value):
    kept = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, v, display: kept.update({name: v}))
    attnbook.glue("x", value)
    assert type(kept["x"]) in (float, int, str)
    assert repr(kept["x"]) in ("0.25", "3", "'1.5 ms'")

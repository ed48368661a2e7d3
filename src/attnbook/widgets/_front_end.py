"""What the views share on the Python side: their front-end code, and array input.

Each view's page code is one ES module (anywidget's ``_esm``) and one stylesheet (``_css``).
The helpers every view uses (shared.js) and the root style (shared.css) are written once, and
joined here in front of each view's own file: there is no bundler, and an ES module given as
text cannot import a sibling file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_HERE = Path(__file__).parent


def _read(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def esm(view: str) -> str:
    """The ES module of `view` (e.g. ``"attention_map"``): shared.js, then the view's own file.

    shared.js exports nothing; the view's file holds the module's one default export.

    >>> code = esm("attention_map")
    >>> code.count("export default {")
    1
    """
    return f"{_read('shared.js')}\n// ---- {view}.js\n\n{_read(f'{view}.js')}"


def css(view: str) -> str:
    """The stylesheet of `view`: shared.css (the root block), then the view's own rules."""
    return f"{_read('shared.css')}\n/* ---- {view}.css */\n\n{_read(f'{view}.css')}"


def as_array(values, what: str = "weights") -> np.ndarray:
    """A float64 NumPy copy of `values`, which may be a tensor (on any device), an array or
    nested lists; a ValueError naming `what` when they are not a rectangular array of numbers.

    >>> as_array([[1, 2], [3, 4]]).dtype
    dtype('float64')
    """
    if hasattr(values, "detach"):  # a torch.Tensor, on any device
        values = values.detach().to("cpu").double().numpy()
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be numbers in a rectangular array: {err}") from None

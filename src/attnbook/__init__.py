"""attnbook: the code of the interactive book on self-attention and the Transformer.

Every chapter of the book imports this package. Each public function names, in its
docstring, the chapter that introduces it, so a reader can go from the code to the
explanation.
"""

from __future__ import annotations

import random

__version__ = "0.1.0"

__all__ = ["__version__", "device", "glue", "seed_everything"]


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch so that a chapter prints the same numbers every run.

    Introduced in chapter 1 (every chapter calls it in its first code cell). String hashing
    (``PYTHONHASHSEED``) is fixed when Python starts and cannot be seeded from a running
    process, so the book's code never depends on the order of a set of strings.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device():
    """The device the book's code runs on: CUDA when a GPU is present, else the CPU.

    Introduced in chapter 1. The same code runs unchanged on both.
    """
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def glue(name: str, value) -> None:
    """Keep ``value`` under ``name`` for the chapter's prose (myst-nb's ``{glue:text}`` role).

    Introduced in chapter 1. A number in a sentence is glued from the cell that computes it,
    so the prose cannot say something its output does not show. The website's build (myst-nb)
    inserts the value; where myst-nb is not installed (Colab, a bare kernel) nothing is kept,
    and the role stays visible in the notebook's text as the name of the value.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    # A NumPy or PyTorch scalar becomes a Python number: myst-nb formats `{glue:text}` from
    # the value's repr, and "np.float64(0.73)" is not a number it can format.
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    myst_glue(name, value, display=False)

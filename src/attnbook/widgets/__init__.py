"""Interactive views (anywidget): computed in Python, drawn and driven in the page.

Each view works in JupyterLab, in Colab and, with no kernel, on the book's website.
"""

from attnbook.widgets.attention_map import AttentionMap
from attnbook.widgets.decoding_view import DecodingView
from attnbook.widgets.memory_view import MemoryView

__all__ = ["AttentionMap", "DecodingView", "MemoryView"]

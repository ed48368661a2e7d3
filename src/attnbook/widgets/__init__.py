"""Interactive views (anywidget): computed in Python, drawn and driven in the page.

Each view works in JupyterLab, in Colab and, with no kernel, on the book's website. Each
view's page code is its own .js and .css file after shared.js and shared.css (the helpers and
the root style every view uses), joined by attnbook.widgets._front_end. The widgets import
nothing of attnbook's experiments: a decoding record is read by its attributes
(:meth:`DecodingView.from_records`, :meth:`AttentionMap.from_decoding`).
"""

from attnbook.widgets.attention_map import AttentionMap
from attnbook.widgets.decoding_view import DecodingView
from attnbook.widgets.memory_view import MemoryView
from attnbook.widgets.translator_view import TranslatorView

__all__ = ["AttentionMap", "DecodingView", "MemoryView", "TranslatorView"]

"""The book's figures: the notes' lost diagrams F1–F19, redrawn with matplotlib, and the plots
of the chapters' measurements, all in one style.

A chapter shows a numbered figure with::

    from attnbook import figures
    figures.draw("F3")            # or figures.f3_relevance()

and a plot of its own measurements with ``figures.plots.cost_plot(...)`` and the like. Every
numbered figure is drawn in English (the default) or, for the book's Chinese edition, in
Simplified Chinese: ``figures.draw("F3", language="zh_CN")``.
``python -m attnbook.figures --out figures`` (``make figures``) writes every numbered figure to
``figures/<id>.svg`` and its Chinese variant to ``figures/zh_CN/<id>.svg`` (``--language``
picks one), byte for byte the same on every run.

The package, one job per module:

- ``style``: :class:`Style` and :data:`STYLE` (Okabe-Ito colour-blind-safe palette, the role of
  each colour, fonts, the one sequential colormap), :func:`style_context`;
- ``primitives``: the drawing primitives (box, arrow, vector, matrix, chip, ...);
- ``registry``: :data:`FIGURES`, the :func:`figure` decorator, :func:`draw`,
  :func:`svg_bytes`, :func:`save_all` and the command line (``__main__``);
- ``language``: :data:`LANGUAGES`, and each figure's words in them (:func:`~language.words`;
  the words of every language but English in ``words.toml``, the one place they are kept);
- ``examples``: the examples whose numbers the figures show: seeded ones
  (:func:`relevance_example`, ...) and the book's trained translator's (:func:`decoding_example`,
  ...);
- the figures by part of the notes: ``basics`` (F1–F5, chapters 1–2), ``matrices`` (F6–F9,
  chapter 3), ``positional_encoding`` (F10, chapter 5), ``comparison`` (F11, chapter 6),
  ``seq2seq`` (F12–F15, chapters 8–9), ``decoder`` (F16–F18, chapters 10–11),
  ``teacher_forcing`` (F19, chapter 12);
- ``plots``: every plot of a chapter's measurements (``<what>_plot``);
- ``notebook``: :func:`use_svg_output`, how the chapters show their plots (as SVG that
  strict nbval compares).

The part modules import only ``style``, ``primitives``, ``registry``, ``language`` and
``examples``; importing them here registers F1–F19 (in the book's order, whatever the order of
the imports).

>>> list(FIGURES)[:3], len(FIGURES)
(['F1', 'F2', 'F3'], 19)
>>> FIGURES["F8"].chapter
3
"""

from __future__ import annotations

from attnbook.figures import plots, primitives
from attnbook.figures.basics import (
    f1_output_types,
    f2_self_attention_layer,
    f3_relevance,
    f4_dot_product_and_additive,
    f5_weighted_sum,
)
from attnbook.figures.comparison import f11_rnn_vs_self_attention
from attnbook.figures.decoder import f16_autoregressive_decoding, f17_end_token, f18_cross_attention
from attnbook.figures.examples import (
    VOCABULARY,
    column_example,
    cross_attention_example,
    decoding_example,
    relevance_example,
    teacher_forcing_example,
)
from attnbook.figures.language import LANGUAGES
from attnbook.figures.matrices import (
    f6_qkv_matrices,
    f7_scores_of_one_query,
    f8_attention_matrix,
    f9_output_matrix,
)
from attnbook.figures.notebook import use_svg_output
from attnbook.figures.positional_encoding import f10_positional_encoding
from attnbook.figures.registry import (
    FIGURES,
    FigureSpec,
    draw,
    figure,
    main,
    save_all,
    svg_bytes,
    svg_path,
)
from attnbook.figures.seq2seq import (
    f12_qa_as_seq2seq,
    f13_seq2seq_applications,
    f14_transformer,
    f15_encoder_block,
)
from attnbook.figures.style import STYLE, Style, style_context
from attnbook.figures.teacher_forcing import f19_teacher_forcing

__all__ = [
    "FIGURES",
    "LANGUAGES",
    "STYLE",
    "VOCABULARY",
    "FigureSpec",
    "Style",
    "column_example",
    "cross_attention_example",
    "decoding_example",
    "draw",
    "f1_output_types",
    "f2_self_attention_layer",
    "f3_relevance",
    "f4_dot_product_and_additive",
    "f5_weighted_sum",
    "f6_qkv_matrices",
    "f7_scores_of_one_query",
    "f8_attention_matrix",
    "f9_output_matrix",
    "f10_positional_encoding",
    "f11_rnn_vs_self_attention",
    "f12_qa_as_seq2seq",
    "f13_seq2seq_applications",
    "f14_transformer",
    "f15_encoder_block",
    "f16_autoregressive_decoding",
    "f17_end_token",
    "f18_cross_attention",
    "f19_teacher_forcing",
    "figure",
    "main",
    "plots",
    "primitives",
    "relevance_example",
    "save_all",
    "style_context",
    "svg_bytes",
    "svg_path",
    "teacher_forcing_example",
    "use_svg_output",
]

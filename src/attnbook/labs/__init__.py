"""The chapters' experiments, one topic per module; each module's docstring names its chapter.

Introduced in chapter 1. The modules build on the core (:mod:`attnbook.attention`,
:mod:`attnbook.layers`, :mod:`attnbook.model`, :mod:`attnbook.training`,
:mod:`attnbook.measure`, ...) and never the other way round:

- :mod:`~attnbook.labs.sequences` (chapter 1): words and sounds as sequences of vectors;
- :mod:`~attnbook.labs.relevance` (chapter 2): relevance, softmax, one output step by step;
- :mod:`~attnbook.labs.heads` (chapter 4): heads that specialise on a letter-digit task;
- :mod:`~attnbook.labs.extrapolation` (chapter 5): positional encodings on longer sequences;
- :mod:`~attnbook.labs.cnn_vs_attention` and :mod:`~attnbook.labs.rnn_vs_attention`
  (chapter 6);
- :mod:`~attnbook.labs.cost` (chapter 7): time and memory of four attentions against ``n``;
- :mod:`~attnbook.labs.probes` (chapter 8): what the trained encoder's vectors hold;
- :mod:`~attnbook.labs.ln_placement` (chapter 9): the encoder block traced; post-LN vs pre-LN;
- :mod:`~attnbook.labs.decoding_steps` and :mod:`~attnbook.labs.at_vs_nat` (chapter 10);
- :mod:`~attnbook.labs.cross_attention` (chapter 11): where cross attention looks;
- :mod:`~attnbook.labs.exposure_bias` (chapter 12): teacher forcing, free running, beams.
"""

from __future__ import annotations

__all__ = ["UNIFORM_DRAWS"]

UNIFORM_DRAWS = 0.0
"""The experiments of chapters 9 and 12 draw training numbers uniformly by length
(``zero_heavy=0`` in :class:`attnbook.translate.NumberSampler`): their saved measurements were
made that way, before the command's sampler added zero-heavy draws, and the benchmark scripts
reproduce them exactly. Introduced in chapter 9."""

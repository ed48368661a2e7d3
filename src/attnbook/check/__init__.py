"""Checkers for the book's exercises: run the reader's function on cases and say what fails.

Introduced in chapter 1. Each exercise has one public function here, e.g. ``check.softmax(fn)``.
It returns a :class:`CheckResult`, which a notebook shows as text ("3 of 4 cases pass", then
every failing case) and which has ``.passed``. The expected values always come from the
package's own tested functions, never from numbers typed in here.

The checkers live by part of the book: :mod:`attnbook.check.self_attention` (chapters 1–7),
:mod:`attnbook.check.transformer` (chapters 8–12) and :mod:`attnbook.check.pretrained_model`
(chapter 13), on the shared core of ``attnbook.check._core``; every name is used from here.

>>> from attnbook import check
>>> print(check.fewest_sentences(lambda window, d, length: (window * d + 1) // length + 1))
fewest_sentences: 5 of 5 cases pass ✓
"""

from attnbook.check._core import Case, CaseResult, CheckResult, compare, run_cases
from attnbook.check.pretrained_model import mean_attention_distance, mean_pool
from attnbook.check.self_attention import (
    attention_columns,
    attention_entropy,
    break_even_window,
    conv1d_as_attention,
    fewest_sentences,
    linear_attention,
    multi_head_parameters,
    online_softmax,
    receptive_field,
    relevance_scores,
    rope_rotate,
    sinusoidal_table,
    softmax,
    split_heads,
    weighted_sum,
)
from attnbook.check.transformer import (
    causal_mask,
    chinese_numeral,
    cross_attention,
    cross_attention_mask,
    encoder_block,
    greedy_decode,
    layer_norm,
    multilabel_target,
    sequence_cross_entropy,
    shift_right,
)

__all__ = [
    "Case",
    "CaseResult",
    "CheckResult",
    "attention_columns",
    "attention_entropy",
    "break_even_window",
    "causal_mask",
    "chinese_numeral",
    "compare",
    "conv1d_as_attention",
    "cross_attention",
    "cross_attention_mask",
    "encoder_block",
    "fewest_sentences",
    "greedy_decode",
    "layer_norm",
    "linear_attention",
    "mean_attention_distance",
    "mean_pool",
    "multi_head_parameters",
    "multilabel_target",
    "online_softmax",
    "receptive_field",
    "relevance_scores",
    "rope_rotate",
    "run_cases",
    "sequence_cross_entropy",
    "shift_right",
    "sinusoidal_table",
    "softmax",
    "split_heads",
    "weighted_sum",
]

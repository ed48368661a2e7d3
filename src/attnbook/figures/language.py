"""The languages the numbered figures are drawn in: English, and Simplified Chinese for the
book's Chinese edition.

Every figure function takes ``language`` ("en", the default, or "zh_CN") and draws every word
of the figure in it. It gets its words from :func:`words`: English is written in the figure's
code, and each other language's words are in ``words.toml`` (one table per language and
figure, keyed by the English text), the one place they are kept. Notation (a¹, q, k, v, W^q,
α, softmax, FC, RNN, BEGIN, END, ...) and numbers are the same in every language and are not
looked up; an example sentence may be replaced by one in the figure's language (F1's sentence
to tag is Chinese in the Chinese figure).

>>> t = words("F11", "zh_CN")
>>> t("self-attention"), t("step {n}", n=2)
('自注意力', '第 2 步')
>>> words("F11")("step {n}", n=2)
'step 2'
"""

from __future__ import annotations

import tomllib
from importlib.resources import files

__all__ = ["LANGUAGES", "WORDS", "check_language", "words"]

LANGUAGES = ("en", "zh_CN")
"""The languages a figure can be drawn in: English (the chapters' figures) and Simplified
Chinese (the Chinese edition's, ``figures/zh_CN/<id>.svg``)."""

WORDS: dict[str, dict[str, dict[str, str | list[str]]]] = tomllib.loads(
    files("attnbook.figures").joinpath("words.toml").read_text(encoding="utf-8"))
"""The figures' words in every language but English: ``WORDS[language][fig_id][english]``
(``words.toml``). A value is a string, or a list of strings for an example cut into tokens."""

_used: set[tuple[str, str, str]] = set()  # (language, fig_id, english) looked up so far


def check_language(language: str) -> str:
    """`language` if the figures can be drawn in it, else a ValueError that lists them.

    Used in chapter 3 by `draw` (which checks the language it is given).

    >>> check_language("zh_CN")
    'zh_CN'
    """
    if language not in LANGUAGES:
        raise ValueError(f"language={language!r}: the figures are drawn in "
                         f"{', '.join(map(repr, LANGUAGES))}")
    return language


class Words:
    """The words of one figure in one language: ``t(english, **fields)`` is the text to draw.

    Used in chapter 1 by `f1_output_types` (through :func:`words`).

    English returns `english` itself; another language returns its entry in ``words.toml``
    (a missing one is a KeyError that says where to add it). With `fields`, the text is a
    template filled by :meth:`str.format` (``t("step {n}", n=2)``), in every language.
    """

    def __init__(self, fig_id: str, language: str) -> None:
        self.fig_id = fig_id
        self.language = check_language(language)
        self.table = {} if language == "en" else WORDS.get(language, {}).get(fig_id, {})

    def _lookup(self, english: str) -> str | list[str]:
        if self.language == "en":
            return english
        try:
            found = self.table[english]
        except KeyError:
            raise KeyError(f"figure {self.fig_id} has no {self.language} text for {english!r}: "
                           f"add it to [{self.language}.{self.fig_id}] in "
                           "attnbook/figures/words.toml") from None
        _used.add((self.language, self.fig_id, english))
        return found

    def __call__(self, english: str, **fields) -> str:
        found = self._lookup(english)
        if not isinstance(found, str):
            raise TypeError(f"{self.fig_id}: {english!r} is a list of tokens; use .tokens()")
        return found.format(**fields) if fields else found

    def tokens(self, english: str) -> list[str]:
        """An example cut into tokens: `english` split at its spaces, or the language's list
        (which may have another length: it is an example of its own, not a word-by-word
        translation)."""
        found = self._lookup(english)
        return english.split(" ") if self.language == "en" else list(found)


def words(fig_id: str, language: str = "en") -> Words:
    """The words of figure `fig_id` in `language` (see :class:`Words`).

    Used in chapter 1 by `f1_output_types` (and by every figure function: its first line).
    """
    return Words(fig_id, language)

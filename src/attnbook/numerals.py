"""The book's toy translation task: Arabic digits → Chinese numerals (``2026`` → ``二千零二十六``).

Introduced in chapter 8. The task is small enough to train a Transformer on a laptop in a
minute, yet it is a real sequence-to-sequence problem: the output is longer or shorter than the
input, and whether a ``零`` is written depends on digits far away (``1005`` → ``一千零五``).

The rule :func:`to_chinese` follows, for ``0 ≤ n ≤ 999 999``:

1. ``0`` is ``零``.
2. Split ``n`` into ``n // 10000`` (the 万 part, 0–99) and ``n % 10000`` (the rest, 0–9999).
   Each non-empty part is written digit by digit with its unit (千 百 十, nothing for ones),
   and the 万 part is followed by ``万``.
3. Zero digits are not read, except that within a part a run of zeros *between* two read
   digits becomes one ``零`` (``1005`` → ``一千零五``); zeros that end a part are silent
   (``1100`` → ``一千一百``). Between the two parts one ``零`` is written when the 万 part is
   present and the rest is 1–999, that is when its thousands digit is 0 (``100001`` →
   ``十万零一``, ``10100`` → ``一万零一百``, ``100100`` → ``十万零一百``); when the rest
   starts with a non-zero thousands digit there is no ``零``, even after zeros that end the
   万 part (``101000`` → ``十万一千``).
4. A ``1`` in the tens place is read ``十`` without ``一`` only when it is the very first
   digit of the whole number (``10`` → ``十``, ``100000`` → ``十万``); anywhere else it is
   ``一十`` (``110`` → ``一百一十``, ``100010`` → ``十万零一十``).
5. ``2`` is always ``二``, never ``两`` (``2000`` → ``二千``, ``20000`` → ``二万``), though
   everyday Chinese says ``两`` before 千 and 万 (两千, 两万): one character per digit value,
   whatever its place, is a simpler mapping for the model to learn. Apart from ``两``, these
   are the numerals of everyday Chinese.

The token vocabularies of the model are here too: :data:`SOURCE_TOKENS` (the ten digits) and
:data:`TARGET_TOKENS` (the fourteen characters), both after the same four special tokens
``PAD``, ``BEGIN``, ``END``, ``MASK`` (ids 0–3).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

__all__ = [
    "BEGIN",
    "END",
    "MASK",
    "MAX_NUMBER",
    "MAX_TARGET_LEN",
    "PAD",
    "SOURCE_TOKENS",
    "SPECIAL_TOKENS",
    "TARGET_TOKENS",
    "check_number",
    "decode_target",
    "source_ids",
    "target_ids",
    "to_chinese",
]

MAX_NUMBER = 999_999  # the largest number the task covers (0..MAX_NUMBER)
DIGITS = "零一二三四五六七八九"
_UNITS = ("千", "百", "十", "")  # units of the four digits of a part (thousands → ones)

# Special tokens, shared by both vocabularies so that their ids agree.
SPECIAL_TOKENS = ("PAD", "BEGIN", "END", "MASK")
PAD, BEGIN, END, MASK = range(4)  # their ids: padding, start of output, end of output, [MASK]
SOURCE_TOKENS = SPECIAL_TOKENS + tuple("0123456789")  # 14 source tokens
TARGET_TOKENS = SPECIAL_TOKENS + tuple(DIGITS + "十百千万")  # 18 target tokens
_SOURCE_ID = {t: i for i, t in enumerate(SOURCE_TOKENS)}
_TARGET_ID = {t: i for i, t in enumerate(TARGET_TOKENS)}
MAX_TARGET_LEN = len("九十九万九千九百九十九")  # 11: the longest output, in characters


def check_number(n) -> int:
    """``n`` as an ``int`` when it is an integer in ``0..999999``, else a ``ValueError``.

    Used in chapter 8 by :func:`to_chinese`. Booleans, floats and strings are refused, even
    ``3.0`` or ``"3"``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"expected an integer in the range 0..{MAX_NUMBER}, got {n!r} "
                         f"of type {type(n).__name__}")
    n = int(n)
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is out of the range 0..{MAX_NUMBER}")
    return n


def _part(n: int, first: bool) -> str:
    """One part (1..9999) read digit by digit; ``first``: it starts the whole number."""
    digits = (n // 1000, n // 100 % 10, n // 10 % 10, n % 10)
    out: list[str] = []
    started = False  # a non-zero digit has been read
    zero_pending = False  # zeros seen since the last read digit
    for d, unit in zip(digits, _UNITS, strict=True):
        if d == 0:
            zero_pending = started
            continue
        if zero_pending:
            out.append("零")  # a run of zeros between two read digits: one 零
            zero_pending = False
        if d == 1 and unit == "十" and first and not started:
            out.append("十")  # rule 4: a leading 1 in the tens place is just 十
        else:
            out.append(DIGITS[d] + unit)
        started = True
    return "".join(out)


def to_chinese(n: int) -> str:
    """The Chinese numeral of ``0 ≤ n ≤ 999 999``, e.g. ``to_chinese(2026) == "二千零二十六"``.

    Introduced in chapter 8. The rules are in this module's docstring. A ``ValueError`` names
    any input that is not an ``int`` in ``0..999999`` (booleans, floats and strings included).
    """
    n = check_number(n)
    if n == 0:
        return "零"
    wan, rest = divmod(n, 10_000)
    if wan == 0:
        return _part(rest, first=True)
    text = _part(wan, first=True) + "万"
    if rest == 0:
        return text
    return text + ("零" if rest < 1000 else "") + _part(rest, first=False)


def source_ids(n: int) -> list[int]:
    """The encoder's input for ``n``: one token id per digit, e.g. ``2026`` → ``[6, 4, 6, 10]``.

    Introduced in chapter 8. No BEGIN or END: the encoder sees the digits only.
    """
    return [_SOURCE_ID[c] for c in str(check_number(n))]


def target_ids(n: int) -> list[int]:
    """The token ids of ``to_chinese(n)``, one per character, without BEGIN and END.

    Introduced in chapter 8.
    """
    return [_TARGET_ID[c] for c in to_chinese(n)]


def decode_target(ids: Iterable[int]) -> str:
    """Target token ids → text: stops at the first END and skips PAD, BEGIN and MASK.

    Introduced in chapter 8. ``decode_target(target_ids(n)) == to_chinese(n)``.
    """
    out = []
    for i in ids:
        i = int(i)
        if i == END:
            break
        if i >= len(SPECIAL_TOKENS):
            out.append(TARGET_TOKENS[i])
    return "".join(out)

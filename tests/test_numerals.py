"""Tests of attnbook.numerals (chapter 8): digits → Chinese numerals, and the vocabularies."""

from __future__ import annotations

import random

import numpy as np
import pytest

from attnbook import numerals as N
from attnbook.numerals import to_chinese

HAND_CASES = {
    0: "零",
    10: "十",
    11: "十一",
    20: "二十",
    110: "一百一十",
    1005: "一千零五",
    1010: "一千零一十",
    10000: "一万",
    100000: "十万",
    100001: "十万零一",
    101000: "十万一千",
    999999: "九十九万九千九百九十九",
    100010: "十万零一十",
}

# Derived from the rules in the module docstring, each for the reason given.
DERIVED_CASES = {
    1: "一",
    2: "二",  # never 两
    9: "九",
    19: "十九",  # leading 1 in the tens place: 十
    21: "二十一",
    99: "九十九",
    100: "一百",
    101: "一百零一",  # a zero between read digits: 零
    111: "一百一十一",  # 1 in the tens place, not leading: 一十
    200: "二百",
    222: "二百二十二",
    1000: "一千",
    1001: "一千零一",  # a run of two zeros is one 零
    1100: "一千一百",  # trailing zeros are silent
    1234: "一千二百三十四",
    2026: "二千零二十六",
    2222: "二千二百二十二",
    10001: "一万零一",
    10010: "一万零一十",  # across 万: rest below 1000 gets 零, and 一十 since not leading
    10100: "一万零一百",
    11000: "一万一千",  # rest of 1000 or more: no 零
    12345: "一万二千三百四十五",
    20000: "二万",
    100100: "十万零一百",
    110000: "十一万",
    110011: "十一万零一十一",
    200000: "二十万",
    200002: "二十万零二",
    222222: "二十二万二千二百二十二",
    500050: "五十万零五十",
    909090: "九十万九千零九十",
    990099: "九十九万零九十九",
}


@pytest.mark.parametrize(("n", "expected"), sorted({**HAND_CASES, **DERIVED_CASES}.items()))
def test_cases(n, expected):
    assert to_chinese(n) == expected


@pytest.mark.parametrize("bad", [-1, 1_000_000, 10**9, True, False, 3.0, 2.5, "12", None,
                                 [1], np.float64(3.0)])
def test_bad_inputs_raise_a_clear_value_error(bad):
    with pytest.raises(ValueError, match=r"0\.\.999999"):
        to_chinese(bad)


def test_numpy_integers_are_accepted():
    assert to_chinese(np.int64(2026)) == "二千零二十六"


def _sample():
    rng = random.Random(0)
    edges = [d * 10**k + e for d in range(1, 10) for k in range(6) for e in (-1, 0, 1)]
    nums = [rng.randint(0, N.MAX_NUMBER) for _ in range(3000)]
    nums += [rng.randint(0, 10**rng.randint(1, 6) - 1) for _ in range(3000)]
    return sorted({n for n in nums + edges + list(range(1000)) if 0 <= n <= N.MAX_NUMBER})


SAMPLE = _sample()


def test_the_digits_read_are_the_nonzero_digits_in_order():
    # Every non-zero digit is read, in order, with two exceptions of the rules: a leading
    # 十 stands for "1 ten", and 零 only marks skipped zeros.
    for n in SAMPLE:
        text = to_chinese(n)
        read = [N.DIGITS.index(c) for c in text if c in N.DIGITS[1:]]
        expected = [int(d) for d in str(n) if d != "0"]
        if text.startswith("十"):
            expected = expected[1:]
        assert read == expected, (n, text)


def test_structure_of_every_numeral():
    for n in SAMPLE:
        text = to_chinese(n)
        assert "两" not in text
        assert "零零" not in text, (n, text)  # a run of zeros is one 零
        assert n == 0 or not text.endswith("零"), (n, text)  # trailing zeros are silent
        assert n == 0 or not text.startswith("零"), (n, text)
        assert text.count("万") == (n >= 10_000)
        assert len(text) <= N.MAX_TARGET_LEN


def test_distinct_numbers_get_distinct_numerals():
    texts = [to_chinese(n) for n in SAMPLE]
    assert len(set(texts)) == len(texts)


def test_vocabularies_and_ids_round_trip():
    assert N.SPECIAL_TOKENS == ("PAD", "BEGIN", "END", "MASK")
    assert (N.PAD, N.BEGIN, N.END, N.MASK) == (0, 1, 2, 3)
    assert len(N.SOURCE_TOKENS) == 14 and len(N.TARGET_TOKENS) == 18
    assert N.source_ids(2026) == [6, 4, 6, 10]
    assert [N.SOURCE_TOKENS[i] for i in N.source_ids(907)] == ["9", "0", "7"]
    for n in (0, 10, 2026, 100010, 999999):
        ids = N.target_ids(n)
        assert min(ids) >= len(N.SPECIAL_TOKENS)
        assert N.decode_target(ids) == to_chinese(n)
        assert N.decode_target([N.BEGIN, *ids, N.END, 7, 8]) == to_chinese(n)  # stops at END
    with pytest.raises(ValueError):
        N.source_ids(-3)


def test_the_examples_of_the_module_docstring_hold():
    """Every ``n`` → ``numeral`` example in the rules of the module's docstring is what
    to_chinese writes, so the stated rules cannot drift from the code."""
    import re

    pairs = re.findall(r"``(\d+)``\s*→\s*``(\S+?)``", N.__doc__)
    assert len(pairs) >= 12
    for n, text in pairs:
        assert to_chinese(int(n)) == text, n

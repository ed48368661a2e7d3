"""Tests of attnbook.translate (chapter 8): the data, the command line, the book's models."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from attnbook import numerals
from attnbook import translate as T

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def book_at():
    return T.load_book_model("at")


def run_cli(*args, cwd):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "attnbook.translate", *args], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)


# ------------------------------------------------------------------------------------- data


def test_heldout_set_is_fixed_balanced_and_large():
    held = T.heldout_numbers()
    assert held == T.heldout_numbers() == sorted(set(held))
    assert len(held) >= 1000
    counts = Counter(len(str(n)) for n in held)
    assert set(counts) == {3, 4, 5, 6} and len(set(counts.values())) == 1


def test_training_never_sees_a_heldout_number_and_balances_lengths():
    data = T.make_datasets(seed=0)
    assert data.heldout == T.heldout_numbers()
    drawn = data.sampler.sample(30_000)
    assert not set(drawn) & set(data.heldout)
    counts = Counter(len(str(n)) for n in drawn)
    assert sorted(counts) == [1, 2, 3, 4, 5, 6]
    assert max(counts.values()) / min(counts.values()) < 1.1  # each length about 1/6
    assert set(T.small_numbers()) <= set(drawn)  # every 1- and 2-digit number is trained on
    assert T.make_datasets(seed=0).sampler.sample(50) == drawn[:50]  # deterministic


def test_zero_heavy_draws_bring_round_numbers_into_training():
    uniform = T.NumberSampler(seed=0).sample(30_000)
    heavy = T.NumberSampler(seed=0, zero_heavy=0.25).sample(30_000)

    def round_count(numbers):
        return sum(1 for n in numbers if re.fullmatch(r"[1-9]000+", str(n)))  # 1000, 20000...

    assert round_count(heavy) > 10 * max(1, round_count(uniform))
    assert {100000, 200000, 10000} <= set(heavy)
    # zero_heavy=0 is the plain uniform stream, draw for draw
    assert T.NumberSampler(seed=0, zero_heavy=0.0).sample(100) == uniform[:100]
    assert T.make_datasets(seed=0).sampler.zero_heavy == T.ZERO_HEAVY
    with pytest.raises(ValueError, match="zero_heavy must be a fraction"):
        T.NumberSampler(zero_heavy=1.5)


def test_book_model_writes_the_hand_cases_right(book_at):
    cases = [0, 10, 11, 20, 110, 1005, 1010, 10000, 100000, 100001, 101000, 999999]
    cases += [d * 10 ** k for d in range(1, 10) for k in range(1, 6)]
    assert T.translate(book_at, cases) == [numerals.to_chinese(n) for n in cases]


def test_make_batch():
    src, tgt = T.make_batch([7, 2026])
    assert src.tolist() == [[11, 0, 0, 0], [6, 4, 6, 10]]
    assert tgt[1].tolist() == [numerals.BEGIN, *numerals.target_ids(2026), numerals.END]
    assert tgt[0].tolist()[:3] == [numerals.BEGIN, *numerals.target_ids(7), numerals.END]
    _, nat = T.make_batch([7, 2026], kind="nat")
    assert nat[1].tolist() == numerals.target_ids(2026)


# ------------------------------------------------------------------------------ the book's models


def test_book_at_model_generalizes(book_at):
    assert isinstance(book_at, T.Transformer)
    assert T.evaluate(book_at, T.heldout_numbers()) >= 0.99
    assert T.evaluate(book_at, T.small_numbers()) == 1.0


def test_book_nat_model_and_logs():
    nat = T.load_book_model("nat")
    assert isinstance(nat, T.NATransformer)
    log = T.load_book_log("nat")
    assert log["kind"] == "nat" and log["heldout_size"] == len(T.heldout_numbers())
    some = T.heldout_numbers()[::10]  # 100 numbers, to stay fast
    assert T.evaluate(nat, some, iterations=1) >= 0.8
    at_log = T.load_book_log("at")
    assert at_log["heldout_exact_match"] >= 0.99 and at_log["small_numbers_exact_match"] == 1
    assert at_log["seconds"] == 60 and at_log["train_seconds"] <= 60
    assert len(at_log["curve"]["loss"]) == len(at_log["curve"]["step"]) > 10
    with pytest.raises(ValueError, match="'at'"):
        T.load_book_model("rnn")


def test_translate_and_save_load_round_trip(book_at, tmp_path):
    numbers = [0, 10, 110, 2026, 100010, 999999]
    texts = T.translate(book_at, numbers)
    assert texts == [numerals.to_chinese(n) for n in numbers]
    back = T.load_model(T.save_model(book_at, tmp_path / "m.safetensors"))
    assert T.translate(back, numbers) == texts
    assert T.translate(back, numbers, beam_size=3) == texts
    assert T.mistakes(back, numbers) == []
    with pytest.raises(ValueError, match="0..999999"):
        T.translate(book_at, [1_000_000])


# ------------------------------------------------------------------------------- command line


def test_cli_without_a_model_says_how_to_train(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert T.main(["2026"]) != 0
    err = capsys.readouterr().err
    assert "python -m attnbook.translate --train --seconds 60" in err
    assert T.main(["2026", "--model", "elsewhere.safetensors"]) != 0
    assert "elsewhere.safetensors" in capsys.readouterr().err


@pytest.mark.parametrize(("arg", "words"), [("12x", "'12x' is not an integer"),
                                            ("2.5", "'2.5' is not an integer"),
                                            ("1000000", "'1000000' is out of the range"),
                                            ("-5", "'-5' is out of the range")])
def test_cli_rejects_bad_numbers(arg, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        T.main([arg])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "0..999999" in err


def test_cli_translates_with_a_model(book_at, tmp_path, capsys):
    path = T.save_model(book_at, tmp_path / "m.safetensors")
    assert T.main(["2026", "10", "--model", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == ["2026 → 二千零二十六", "10 → 十"]


def test_cli_trains_saves_and_reports(tmp_path):
    done = run_cli("--train", "--seconds", "3", "--log-every", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(re.match(r"step +\d+ +loss \d+\.\d{4} +elapsed +\d+\.\d s$", x) for x in lines)
    assert (tmp_path / "checkpoints" / "translate.safetensors").is_file()
    assert any("checkpoints/translate.safetensors" in x for x in lines)
    assert re.fullmatch(r"exact match on all 1- and 2-digit numbers: \d\.\d{4} \(100 numbers\)",
                        lines[-2])
    assert re.fullmatch(r"exact match: \d\.\d{4} on \d{4,} held-out numbers", lines[-1])
    assert done.stderr == ""
    model = T.load_model(tmp_path / "checkpoints" / "translate.safetensors")
    assert isinstance(model, T.Transformer)
    again = run_cli("7", cwd=tmp_path)  # the default model path, in the current folder
    assert again.returncode == 0 and again.stdout.startswith("7 → ")

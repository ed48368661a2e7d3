"""Unit tests of the TranslatorView's Python side: the weights it packs into the widget state
(an exact round trip, and how many bytes), its checks and its front-end files. The page is
tested in tests/test_browser_translator.py."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import traitlets

from attnbook import numerals, translate
from attnbook.model import NATransformer, Transformer
from attnbook.widgets import TranslatorView
from attnbook.widgets.translator_view import ENCODING, pack_model, unpack_model

WIDGETS = Path(__file__).resolve().parent.parent / "src" / "attnbook" / "widgets"
PAGE_BUDGET = 2_500_000  # bytes a page may gain from the view (issue 12)


@pytest.fixture(scope="module")
def book():
    return {kind: translate.load_book_model(kind) for kind in ("at", "nat")}


@pytest.fixture(scope="module")
def view(book):
    return TranslatorView(book["at"], book["nat"])


def tiny(kind: str = "at", **overrides):
    torch.manual_seed(0)
    config = translate.default_config(d_model=8, num_heads=2, dim_feedforward=16,
                                      num_encoder_layers=1, num_decoder_layers=1, **overrides)
    return (Transformer if kind == "at" else NATransformer)(config).eval()


@pytest.mark.parametrize("kind", ["at", "nat"])
def test_weights_round_trip_exactly(book, kind):
    model = book[kind]
    packed = pack_model(model)
    got = unpack_model(packed)
    want = model.state_dict()
    assert list(got) == list(want)
    for name, tensor in want.items():
        array = got[name]
        assert array.dtype == np.float32 and array.shape == tuple(tensor.shape), name
        # Bit for bit: the same float32 numbers, NaN-free.
        assert np.array_equal(array.view(np.uint32), tensor.numpy().view(np.uint32)), name
    assert packed["count"] == sum(t.numel() for t in want.values())
    assert packed["raw_bytes"] == 4 * packed["count"]


def test_unpacked_weights_give_the_same_model(book):
    model = book["at"]
    clone = Transformer(model.config).eval()
    clone.load_state_dict({k: torch.from_numpy(v) for k, v in
                           unpack_model(pack_model(model)).items()})
    src = torch.tensor([numerals.source_ids(2026)])
    assert clone.greedy_decode(src) == model.greedy_decode(src)


def test_the_packing_is_compact_and_deterministic(book):
    packed = pack_model(book["at"])
    assert pack_model(book["at"])["weights"] == packed["weights"]
    compressed = len(base64.b64decode(packed["weights"]))
    # Lossless: the sign-and-exponent bytes compress, the mantissas hardly do.
    assert compressed < 0.9 * packed["raw_bytes"]
    assert packed["encoding"] == ENCODING
    assert packed["kind"] == "Transformer"
    assert packed["config"] == book["at"].config.to_dict()
    json.dumps(packed)  # JSON-ready, as widget state must be


def test_the_state_fits_the_page_budget(view):
    size = view.state_bytes()
    weights = sum(len(m["weights"]) for m in view.models.values())
    assert weights < size < PAGE_BUDGET, f"{size:,} bytes of state"
    only_at = TranslatorView(nat_model=False)
    assert list(only_at.models) == ["at"]
    assert only_at.state_bytes() < 0.55 * size


def test_defaults(view):
    assert view.kind == "at" and view.beam_size == 1 and not view.teacher_forcing
    assert view.nat_iterations == translate.NAT_ITERATIONS
    assert view.number == str(view.examples[0])
    assert view.source_tokens == list(numerals.SOURCE_TOKENS)
    assert view.target_tokens == list(numerals.TARGET_TOKENS)
    assert set(view.models) == {"at", "nat"}
    assert repr(view) == f"TranslatorView(AT+NAT, {len(view.examples)} examples)"
    w = view.weights("nat")
    assert "length_head.0.weight" in w


def test_default_models_are_the_books(book):
    default = TranslatorView(examples=[5])
    for kind in ("at", "nat"):
        assert default.models[kind]["weights"] == pack_model(book[kind])["weights"]


def test_other_models_options_and_number():
    view = TranslatorView(tiny("at"), tiny("nat"), examples=[7, 100000], number=42,
                          nat_iterations=2, title="live")
    assert view.examples == [7, 100000] and view.number == "42"
    assert view.nat_iterations == 2 and view.title == "live"
    assert view.models["at"]["config"]["d_model"] == 8
    switched = TranslatorView(tiny("at"), tiny("nat"), kind="nat", beam_size=3,
                              teacher_forcing=True)
    assert (switched.kind, switched.beam_size, switched.teacher_forcing) == ("nat", 3, True)
    with pytest.raises(traitlets.TraitError):
        TranslatorView(tiny("at"), False, kind="nat")


@pytest.mark.parametrize("kwargs, match", [
    ({"at_model": "model"}, "at_model must be a Transformer"),
    ({"nat_model": "model"}, "nat_model must be a NATransformer"),
    ({"examples": []}, "examples is empty"),
    ({"examples": [1_000_000]}, "out of the range"),
    ({"examples": [1.5]}, "expected an integer"),
    ({"nat_iterations": 0}, "nat_iterations"),
    ({"nat_iterations": True}, "nat_iterations"),
])
def test_bad_arguments(book, kwargs, match):
    args = {"at_model": book["at"], "nat_model": book["nat"], **kwargs}
    with pytest.raises(ValueError, match=match):
        TranslatorView(**args)


def test_models_of_another_task_are_refused(book):
    other = translate.default_config(src_vocab_size=20)
    with pytest.raises(ValueError, match="vocabularies"):
        TranslatorView(Transformer(other), book["nat"])
    with pytest.raises(ValueError, match="NATransformer"):
        TranslatorView(book["at"], book["at"])
    with pytest.raises(ValueError, match="Transformer or NATransformer"):
        pack_model(torch.nn.Linear(2, 2))


def test_traits_are_checked(view):
    with pytest.raises(traitlets.TraitError):
        view.beam_size = 5
    with pytest.raises(traitlets.TraitError):
        view.kind = "rnn"
    only_at = TranslatorView(nat_model=False)
    with pytest.raises(traitlets.TraitError, match="no 'nat' model"):
        only_at.kind = "nat"
    with pytest.raises(ValueError, match="no 'nat' model"):
        only_at.weights("nat")


def test_unpack_refuses_damaged_weights(book):
    packed = pack_model(book["at"])
    with pytest.raises(ValueError, match="encoding"):
        unpack_model({**packed, "encoding": "float16"})
    with pytest.raises(ValueError, match="bytes"):
        unpack_model({**packed, "count": packed["count"] + 1})


def test_front_end_files():
    code = (WIDGETS / "translator_view.js").read_text(encoding="utf-8")
    view_esm = str(TranslatorView._esm)
    assert view_esm.count("export default {") == 1
    exported = re.search(r"export \{([^}]*)\};", code).group(1)
    for name in ("loadModel", "forward", "greedyDecode", "beamSearch", "natDecode",
                 "toChinese", "parseNumber"):
        assert name in exported
    # The contract for checks outside the repository.
    for needed in ('name: "number"', '"data-testid": "translation"', '"data-testid": "message"',
                   'dataset.state = "done"', 'dataset.state = "error"'):
        assert needed in code, needed
    # Text is set as text, never as HTML; the page loads nothing.
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code
    assert not re.search(r"\bfetch\(|https?://(?!www\.w3\.org)", code)
    assert ENCODING in code
    css = str(TranslatorView._css)
    assert ".attnbook-tview" in css and "--ab-fg" in css

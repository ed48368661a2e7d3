"""Tests of attnbook.labs.ln_placement.norm_input (chapter 9: layer norm beside batch norm on
the trained encoder's activations). The other functions of the module are tested in
tests/test_translator_labs.py."""

from __future__ import annotations

import pytest
import torch

from attnbook import numerals, translate
from attnbook.labs import ln_placement


@pytest.fixture(scope="module")
def model(one_torch_thread):
    return translate.load_book_model("at")


def test_norm_input_is_what_the_first_norm_receives(model):
    numbers = [305, 1005, 30205, 100001]
    h, real = ln_placement.norm_input(model, numbers)
    assert h.shape == (4, 6, model.config.d_model)
    assert real.dtype == torch.bool
    assert real.sum(1).tolist() == [len(str(n)) for n in numbers]
    # The post-LN block's norm1 turns it into the block's "norm 1" step of encoder_trace.
    trace = ln_placement.encoder_trace(model, 30205)
    with torch.no_grad():
        normed = model.encoder[0].norm1(h[2, :5]).double().numpy()
    torch.testing.assert_close(torch.from_numpy(normed),
                               torch.from_numpy(trace[0]["norm 1"]), atol=1e-5, rtol=1e-4)


def test_norm_input_of_a_digit_does_not_depend_on_the_batch(model):
    alone, _ = ln_placement.norm_input(model, [1005])
    batch, real = ln_placement.norm_input(model, [999999, 1005, 7])
    torch.testing.assert_close(batch[1, :4], alone[0], atol=1e-5, rtol=1e-4)
    assert real[2].tolist() == [True] + [False] * 5


def test_norm_input_of_later_blocks_and_pre_ln():
    torch.manual_seed(0)
    from attnbook.model import Transformer

    pre = Transformer(translate.default_config(norm_first=True)).eval()
    h, _ = ln_placement.norm_input(pre, [42], layer=1)
    # In a pre-LN block, norm1 reads the block's input: the first block's output.
    src = torch.tensor([numerals.source_ids(42)])
    mask = pre.src_padding_mask(src)
    with torch.no_grad():
        x = pre.src_pos(pre.src_embed(src) * pre.config.d_model ** 0.5)
        torch.testing.assert_close(h, pre.encoder[0](x, mask))
    with pytest.raises(ValueError):
        ln_placement.norm_input(pre, [42], layer=2)


def test_norm_input_leaves_the_mode_as_it_was(model):
    model.train()
    try:
        ln_placement.norm_input(model, [12])
        assert model.training
    finally:
        model.eval()

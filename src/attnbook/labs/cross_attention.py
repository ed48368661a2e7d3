"""Where cross attention looks: which source digit each output character reads.

Introduced in chapter 11. :func:`source_alignment` says which digit of a number each
character of its Chinese numeral comes from; :func:`cross_attention_agreement` measures how
often each head of the trained model puts its largest cross-attention weight there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from attnbook import numerals
from attnbook.layers import keep_weights
from attnbook.model import Transformer, pad_batch

__all__ = ["cross_attention_agreement", "source_alignment"]


def source_alignment(n: int) -> list[int]:
    """For each character of ``to_chinese(n)``, the position of the digit of ``str(n)`` it
    comes from.

    Introduced in chapter 11, to say which digit cross attention *should* look at. A
    digit's character (一 … 九) and its unit (十 百 千) come from that digit; a 零 from the
    first zero of the run of zeros it stands for; 万 from the last non-zero digit of the
    万 part (三十万: 三, 十 and 万 all come from the 3).
    E.g. ``1005`` → 一千零五 → ``[0, 0, 1, 3]``.
    """
    n = numerals.check_number(n)
    if n == 0:
        return [0]
    length = len(str(n))
    out: list[int] = []

    def pos(place: int) -> int:  # place 0 = ones, 1 = tens, ...
        return length - 1 - place

    def part(value: int, base: int, first: bool) -> int:
        """The same walk as numerals._part, writing positions instead of characters;
        returns the position of the last digit read."""
        started, zero_at, last = False, None, -1
        for k in (3, 2, 1, 0):
            d, place = value // 10 ** k % 10, base + k
            if d == 0:
                if started and zero_at is None:
                    zero_at = place  # the zero that a 零 will stand for
                continue
            if zero_at is not None:
                out.append(pos(zero_at))
                zero_at = None
            out.append(pos(place))  # the digit's character (or a leading 十 on its own)
            if k and not (d == 1 and k == 1 and first and not started):
                out.append(pos(place))  # its unit: 十, 百 or 千
            started, last = True, pos(place)
        return last

    wan, rest = divmod(n, 10_000)
    if wan:
        out.append(part(wan, 4, first=True))  # 万
        if rest and rest < 1000:
            out.append(pos(3))  # the 零 that joins the two parts
        if rest:
            part(rest, 0, first=False)
    else:
        part(rest, 0, first=True)
    return out


_CHARACTER_KINDS = {
    "digits": set(numerals.DIGITS[1:]),  # 一 … 九: each translates one digit
    "units": set("十百千万"),  # say where a digit stands
    "zeros": {"零"},  # stand for a run of zeros
}


@torch.no_grad()
def cross_attention_agreement(model: Transformer, numbers: Sequence[int],
                              characters: str | None = "digits",
                              target: str = "aligned") -> np.ndarray:
    """How often each head's strongest cross attention is on the digit being translated.

    Introduced in chapter 11. For every number, the decoder reads the right characters so
    far (BEGIN and the correct output: one pass shows every step, as the causal mask makes
    each row equal to that step's); for each output character and each (layer, head), the
    source position with the largest weight is compared with :func:`source_alignment`.
    ``characters`` picks the output characters that count: ``'digits'`` (一 … 九, which
    translate one digit each), ``'units'`` (十 百 千 万), ``'zeros'`` (零) or ``None`` (all).
    ``target='last'`` compares with the number's last digit instead of the aligned one, and
    ``target='later'`` counts a hit when the largest weight is on any digit *after* the
    aligned one (to its right).
    Returns ``(layers, heads)``: the fraction of those characters where they agree. A head
    that looked at a random digit would agree about ``1 / digits`` of the time (for
    ``'later'``: the fraction of the digits that lie after the aligned one).
    """
    if target not in ("aligned", "last", "later"):
        raise ValueError(f"target must be 'aligned', 'last' or 'later', got {target!r}")
    if characters is not None and characters not in _CHARACTER_KINDS:
        raise ValueError(f"characters must be one of {sorted(_CHARACTER_KINDS)} or None, "
                         f"got {characters!r}")
    numbers = [numerals.check_number(n) for n in numbers]
    if not numbers:
        raise ValueError("cross_attention_agreement needs at least one number")
    src = pad_batch([numerals.source_ids(n) for n in numbers], numerals.PAD,
                    model.device)  # (B, S)
    tgt_in = pad_batch([[numerals.BEGIN, *numerals.target_ids(n)] for n in numbers],
                       numerals.PAD, model.device)  # (B, T): the decoder reads BEGIN and the truth
    was_training = model.training
    model.eval()
    try:
        with keep_weights(model.decoder):
            src_mask = model.src_padding_mask(src)
            model.decode(tgt_in, model.encode(src, src_mask), src_mask)
            weights = torch.stack([layer.cross_attn.weights for layer in model.decoder]).cpu()
    finally:
        model.train(was_training)
    strongest = weights.argmax(-1)  # (layers, B, heads, T): the digit each row looks at most
    hits = torch.zeros(strongest.shape[0], strongest.shape[2])
    total = 0
    for b, n in enumerate(numbers):
        text = numerals.to_chinese(n)
        where = [len(str(n)) - 1] * len(text) if target == "last" else source_alignment(n)
        goal = torch.tensor(where)  # (chars,): the digit each character should look at
        counted = torch.tensor([characters is None or ch in _CHARACTER_KINDS[characters]
                                for ch in text])  # (chars,)
        rows = strongest[:, b, :, : len(goal)]  # (layers, heads, chars); END's row left out
        agree = rows > goal if target == "later" else rows == goal  # (layers, heads, chars)
        hits += (agree & counted).float().sum(-1)
        total += int(counted.sum())
    if total == 0:
        raise ValueError(f"none of the numbers' outputs has a character of kind {characters!r}")
    return (hits / total).double().numpy()

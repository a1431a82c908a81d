"""Sentence embeddings of claims: all-MiniLM-L6-v2, int8 ONNX, run by onnxruntime.

The artefact (``embedding_model/model.onnx``, ``tokenizer.json``, ``metadata.json``)
is built by ``scripts/export_embedding.py`` from the base sentence-transformers model
(not the fine-tuned claim classifier). The graph does mean pooling and L2
normalisation itself, so a vector's dot product with another is their cosine.
Run time needs only onnxruntime, tokenizers and numpy.

Each sentence is run on its own (a batch of one). The int8 graph quantises its
activations per batch, so in a batch a sentence's vector would move a little with
its neighbours; alone, a text has exactly one vector wherever it is computed (the
pipeline, the backfill, ``newswire claims same``), which is what lets the grouping
decision be replayed and scored independently. On one core that costs about a fifth
more than batches of 16 (bench/bench_pipeline.py prints the step's CPU per page).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDING_DIR = Path(__file__).resolve().parent / "embedding_model"


@dataclass(frozen=True, slots=True)
class EmbeddingInfo:
    """What ``metadata.json`` says about the embedding artefact."""

    dimensions: int
    max_length: int
    metadata: dict[str, Any]

    @classmethod
    def load(cls, model_dir: Path) -> "EmbeddingInfo":
        metadata = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        return cls(dimensions=int(metadata["dimensions"]), max_length=int(metadata["max_length"]), metadata=metadata)

    @property
    def model_id(self) -> str:
        """A short id of the artefact (its hash): stored with each vector, so the backfill finds stale ones."""
        return str(self.metadata["model_sha256"])[:16]


@cache
def current_model_id() -> str:
    """The id of the shipped embedding model (read once per process)."""
    return EmbeddingInfo.load(EMBEDDING_DIR).model_id


class ClaimEmbedder:
    """Unit-length sentence vectors (float32, ``dimensions`` wide). Loads the model once per instance."""

    def __init__(self, model_dir: str | Path | None = None, *, threads: int = 1) -> None:
        from tokenizers import Tokenizer

        from newswire.claims.model import cpu_session

        self.model_dir = Path(model_dir) if model_dir else EMBEDDING_DIR
        self.info = EmbeddingInfo.load(self.model_dir)
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.info.max_length)
        self.session = cpu_session(self.model_dir / "model.onnx", threads)

    @property
    def model_id(self) -> str:
        return self.info.model_id

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, in input order: shape ``(len(texts), dimensions)``, each row of length 1."""
        out = np.zeros((len(texts), self.info.dimensions), dtype=np.float32)
        if not texts:
            return out
        for row, encoding in enumerate(self.tokenizer.encode_batch([t or " " for t in texts])):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            out[row] = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return out

    def embed_claims(self, claims: list) -> None:
        """Set ``embedding`` on each ``newswire.models.Claim`` (one pass over their texts)."""
        for claim, vector in zip(claims, self.vectors([c.text for c in claims])):
            claim.embedding = vector

    def vectors(self, texts: list[str]) -> list[list[float]]:
        """``embed`` as plain lists for JSON and Elasticsearch (rounded: 6 digits keep cosine to 1e-6)."""
        return [[round(float(x), 6) for x in row] for row in self.embed(texts)]

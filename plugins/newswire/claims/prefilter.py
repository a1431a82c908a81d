"""Cheap checks that drop sentences which cannot be claims before the model runs.

Two stages, both far cheaper than the transformer:

1. Shape rules: too few words, no lowercase letters (headings in capitals,
   bylines, bare numbers), link-only or markup lines, lead-ins that end with a
   colon ("The details:"). None of the CheckThat! dev or dev-test Yes sentences
   is dropped by them.
2. Optionally (``lexical=True``), a TF-IDF + logistic-regression model with a
   very low threshold (``model/prefilter.json``, written by
   ``scripts/train_claims.py``) that only drops sentences which even a
   word-overlap model finds hopeless; the threshold keeps 99.8% of the Yes
   sentences in out-of-fold predictions on train. It skips about a quarter of
   the CheckThat! dev sentences (1.4x faster) but dropped one Yes sentence of
   346 on dev + dev-test, and word-overlap models carry over badly to new
   topics, so it is off by default.

Dropped sentences are never claims; the rest go to the model.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r"[A-Za-z]+")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)|https?://\S+|\S+@\S+")
MIN_WORDS = 4


def passes_rules(text: str) -> bool:
    """True unless the sentence's shape rules it out as a claim."""
    bare = _LINK.sub(" ", text)
    words = _WORD.findall(bare)
    if len(words) < MIN_WORDS:
        return False
    if not any(c.islower() for c in bare):
        return False
    return not text.rstrip().endswith(":")


@dataclass(frozen=True, slots=True)
class LexicalFilter:
    """A TF-IDF (unigrams, bigrams, sublinear tf, l2) logistic regression in plain Python."""

    vocabulary: dict[str, int]
    idf: list[float]
    coef: list[float]
    intercept: float
    threshold: float

    @classmethod
    def load(cls, path: Path) -> "LexicalFilter":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            vocabulary=data["vocabulary"],
            idf=data["idf"],
            coef=data["coef"],
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

    @classmethod
    def from_sklearn(cls, vectorizer, regression, threshold: float) -> "LexicalFilter":
        """From a fitted ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` and ``LogisticRegression``.

        Only reads their fitted attributes, so this module never imports scikit-learn.
        """
        return cls(
            vocabulary={term: int(i) for term, i in vectorizer.vocabulary_.items()},
            idf=[round(float(v), 6) for v in vectorizer.idf_],
            coef=[round(float(v), 6) for v in regression.coef_[0]],
            intercept=float(regression.intercept_[0]),
            threshold=float(threshold),
        )

    def to_dict(self) -> dict:
        return {"vocabulary": self.vocabulary, "idf": self.idf, "coef": self.coef,
                "intercept": self.intercept, "threshold": self.threshold}

    def probability(self, text: str) -> float:
        """P(Yes) of the word-overlap model."""
        tokens = _TOKEN.findall(text.lower())
        counts: dict[int, int] = {}
        for term in tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]:
            index = self.vocabulary.get(term)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        weights = {i: (1.0 + math.log(c)) * self.idf[i] for i, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        z = self.intercept + sum(w / norm * self.coef[i] for i, w in weights.items())
        return 1.0 / (1.0 + math.exp(-z))

    def keep(self, text: str) -> bool:
        return self.probability(text) >= self.threshold


class Prefilter:
    """The shape rules plus, when its file is there, the lexical model."""

    def __init__(self, lexical: LexicalFilter | None = None) -> None:
        self.lexical = lexical

    @classmethod
    def load(cls, model_dir: Path, *, lexical: bool = False) -> "Prefilter":
        path = model_dir / "prefilter.json"
        return cls(LexicalFilter.load(path) if lexical and path.exists() else None)

    def keep(self, text: str) -> bool:
        """True if the sentence should go on to the model."""
        return passes_rules(text) and (self.lexical is None or self.lexical.keep(text))

    def mask(self, sentences: list[str]) -> list[bool]:
        return [self.keep(s) for s in sentences]

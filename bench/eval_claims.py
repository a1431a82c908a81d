#!/usr/bin/env python3
"""F1 of the Yes class for check-worthiness on ``dev`` and ``dev-test`` (never trained on).

Compares, in one run, on a folder in the format of ``../shared/data/checkthat2024-task1-en``
(``claims.jsonl`` rows with ``text``, ``label`` Yes/No, ``split`` train/dev/dev-test):

- the default model (int8 ONNX MiniLM) at its stored threshold, alone, as the
  pipeline runs it (rule pre-filter in front), and with the optional lexical pre-filter;
- a TF-IDF (1-2 grams) + logistic-regression baseline fitted here on ``train``,
  with its threshold chosen on ``dev`` by the same rule as the model's.

    .venv/bin/python bench/eval_claims.py --data ../shared/data/checkthat2024-task1-en
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins"))

SPLITS = ("dev", "dev-test")


def load(data: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Texts and 0/1 labels per split (the malformed ``No29286`` label counts as No)."""
    rows: dict[str, tuple[list[str], list[int]]] = {}
    with open(data / "claims.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts, labels = rows.setdefault(row.get("split", "train"), ([], []))
            texts.append(row["text"])
            labels.append(1 if row["label"] == "Yes" else 0)
    return {split: (texts, np.asarray(labels)) for split, (texts, labels) in rows.items()}


def tfidf_baseline(train: tuple[list[str], np.ndarray]):
    """TF-IDF + logistic regression (class-balanced) fitted on the train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0),
    )
    model.fit(*train)
    return lambda texts: model.predict_proba(texts)[:, 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "checkthat2024-task1-en"))
    parser.add_argument("--model-dir", default=None, help="model folder (default: the packaged model)")
    args = parser.parse_args(argv)

    from newswire.claims import ClaimExtractor
    from newswire.claims.metrics import choose_threshold, f1_yes

    data = load(Path(args.data))
    missing = [s for s in ("train", *SPLITS) if s not in data]
    if missing:
        print(f"missing splits in {args.data}: {missing}", file=sys.stderr)
        return 2
    rows = []

    started = time.perf_counter()
    baseline = tfidf_baseline(data["train"])
    base_scores = {s: baseline(data[s][0]) for s in SPLITS}
    base_threshold, _ = choose_threshold(data["dev"][1], base_scores["dev"])
    rows.append(("tfidf+logreg (baseline)", base_threshold, base_scores, time.perf_counter() - started))

    extractor = ClaimExtractor(args.model_dir, threads=1)
    lexical = ClaimExtractor(args.model_dir, threads=1, lexical_prefilter=True)
    for name, score in (("model (int8 ONNX)", extractor.score),
                        ("pipeline (pre-filter + model)", extractor.score_filtered),
                        ("option: + lexical pre-filter", lexical.score_filtered)):
        started = time.perf_counter()
        scores = {s: np.asarray(score(data[s][0])) for s in SPLITS}
        rows.append((name, extractor.threshold, scores, time.perf_counter() - started))

    combined_labels = np.concatenate([data[s][1] for s in SPLITS])
    print(f"data: {args.data}  (dev {len(data['dev'][0])}, dev-test {len(data['dev-test'][0])}; train "
          f"{len(data['train'][0])} used by the baseline only)")
    print(f"{'system':32} {'thr':>5} {'F1 dev':>8} {'F1 dev-test':>12} {'F1 both':>8} {'seconds':>8}")
    results = {}
    for name, threshold, scores, seconds in rows:
        f1 = {s: f1_yes(data[s][1], scores[s], threshold) for s in SPLITS}
        both = f1_yes(combined_labels, np.concatenate([scores[s] for s in SPLITS]), threshold)
        results[name] = (f1, both)
        print(f"{name:32} {threshold:5.2f} {f1['dev']:8.4f} {f1['dev-test']:12.4f} {both:8.4f} {seconds:8.2f}")
    base_f1, base_both = results["tfidf+logreg (baseline)"]
    model_f1, model_both = results["pipeline (pre-filter + model)"]
    print(f"pipeline vs baseline: dev x{model_f1['dev'] / max(base_f1['dev'], 1e-9):.3f}, "
          f"dev-test x{model_f1['dev-test'] / max(base_f1['dev-test'], 1e-9):.3f}, "
          f"both x{model_both / max(base_both, 1e-9):.3f}  (target: F1 >= 0.88 on dev + dev-test)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

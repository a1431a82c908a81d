#!/usr/bin/env python3
"""Precision and recall of the "same claim" decision on labelled sentence pairs.

    .venv/bin/python bench/eval_claim_matching.py --data ../shared/data/msrp-news-paraphrase

``--data`` is a folder with ``pairs.jsonl`` (``text_1``, ``text_2``, ``label`` 1 = same
meaning, as in msrp-news-paraphrase). Each pair is decided exactly as grouping
decides it (``newswire.claims.groups.MatchRule`` on ``ClaimEmbedder`` vectors), at
the threshold stored with the embedding model, with and without the number check.
Baselines in the same run: every pair "same", equal numbers only, and the cosine
alone at its best threshold for precision 0.90.

``--choose`` fits the rule on these pairs (use DEV only; needs scikit-learn, in the
``test`` extra) and stores it in the embedding model's ``metadata.json``: a logistic
regression of "same" on (cosine, length ratio, coverage), then the lowest threshold
on its score at which precision with the number check reaches ``--target-precision``.
Five-fold out-of-fold figures are printed too: the estimate for unseen pairs. Run
once after exporting the model; TEST pairs are held out.
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

from newswire.claims.embedding import EMBEDDING_DIR, ClaimEmbedder  # noqa: E402
from newswire.claims.groups import MatchRule, cosine, lexical_features, quantity_key  # noqa: E402


def load_pairs(folder: Path) -> list[dict]:
    with open(folder / "pairs.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def precision_recall(gold: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = int(np.sum(predicted & gold))
    precision = tp / max(int(np.sum(predicted)), 1)
    recall = tp / max(int(np.sum(gold)), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return precision, recall, f1


def lowest_threshold(scores: np.ndarray, gate: np.ndarray, gold: np.ndarray, target: float) -> float:
    """The lowest threshold (0.005 steps) whose precision (with ``gate``) is >= target."""
    for threshold in np.arange(0.05, 1.0, 0.005):
        precision, _, _ = precision_recall(gold, (scores >= threshold) & gate)
        if precision >= target:
            return round(float(threshold), 3)
    raise SystemExit(f"no threshold reaches precision {target}")


def fit(features: np.ndarray, gold: np.ndarray, numbers: np.ndarray, target: float) -> dict:
    """Logistic weights on all pairs, threshold for ``target`` precision, and out-of-fold figures."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    model = LogisticRegression(max_iter=2000).fit(features, gold)
    weights = [round(float(model.intercept_[0]), 6)] + [round(float(w), 6) for w in model.coef_[0]]
    oof = cross_val_predict(LogisticRegression(max_iter=2000), features, gold,
                            cv=StratifiedKFold(5, shuffle=True, random_state=13), method="predict_proba")[:, 1]
    oof_threshold = lowest_threshold(oof, numbers, gold, target)
    p, r, _ = precision_recall(gold, (oof >= oof_threshold) & numbers)
    return {"weights": weights, "oof": {"threshold": oof_threshold, "precision": round(p, 4), "recall": round(r, 4)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "msrp-news-paraphrase"))
    parser.add_argument("--model", default=str(EMBEDDING_DIR), help="embedding model folder")
    parser.add_argument("--choose", action="store_true", help="choose the threshold here and store it (DEV only)")
    parser.add_argument("--target-precision", type=float, default=0.90,
                        help="precision the chosen threshold must reach on these pairs")
    args = parser.parse_args(argv)

    pairs = load_pairs(Path(args.data))
    gold = np.asarray([int(p["label"]) == 1 for p in pairs])
    embedder = ClaimEmbedder(args.model)
    texts = sorted({p["text_1"] for p in pairs} | {p["text_2"] for p in pairs})
    started = time.process_time()
    vectors = dict(zip(texts, embedder.vectors(texts)))
    cpu = time.process_time() - started
    scores = np.asarray([cosine(vectors[p["text_1"]], vectors[p["text_2"]]) for p in pairs])
    numbers = np.asarray([quantity_key(p["text_1"]) == quantity_key(p["text_2"]) for p in pairs])
    lexical = np.asarray([lexical_features(p["text_1"], p["text_2"]) for p in pairs])
    print(f"{len(pairs)} pairs ({int(gold.sum())} same), {len(texts)} sentences embedded in {cpu:.1f} s CPU "
          f"({1000 * cpu / len(texts):.1f} ms/sentence, one thread)")

    metadata_path = Path(args.model) / "metadata.json"
    if args.choose:
        fitted = fit(np.column_stack([scores, lexical]), gold, numbers, args.target_precision)
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
        metadata["matching"] = {"threshold": 0.5, "weights": fitted["weights"], "check_numbers": True}
        metadata_path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        provisional = MatchRule.load(args.model)
        combined = np.asarray([provisional.score(c, *f) for c, f in zip(scores, lexical)])
        threshold = lowest_threshold(combined, numbers, gold, args.target_precision)
        p, r, f = precision_recall(gold, (combined >= threshold) & numbers)
        metadata["matching"] = {
            "threshold": threshold,
            "weights": fitted["weights"],
            "features": ["intercept", "cosine", "length_ratio", "coverage"],
            "check_numbers": True,
            "rule": f"logistic regression on DEV; lowest score threshold (0.005 steps) with precision >= "
                    f"{args.target_precision} on DEV, number check on",
            "chosen_on": f"{Path(args.data).name} ({len(pairs)} pairs)",
            "dev": {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)},
            "dev_out_of_fold": fitted["oof"],
        }
        metadata_path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        print(f"fitted weights {fitted['weights']}, threshold {threshold}; stored in {metadata_path}")
        print(f"5-fold out-of-fold on these pairs (estimate for unseen ones): {fitted['oof']}")
    rule = MatchRule.load(args.model)
    combined = np.asarray([rule.score(c, *f) for c, f in zip(scores, lexical)])

    print(f"\nstored rule: score >= {rule.threshold} (weights {list(rule.weights)}), "
          f"number check {'on' if rule.check_numbers else 'off'}")
    cosine_only = lowest_threshold(scores, numbers, gold, 0.90)
    print(f"{'decision':<52} {'precision':>9} {'recall':>7} {'f1':>6} {'said same':>9}")
    rows = [
        ("baseline: every pair same", np.ones_like(gold)),
        ("baseline: equal numbers only", numbers),
        (f"baseline: cosine >= {cosine_only} and equal numbers", (scores >= cosine_only) & numbers),
        ("score >= threshold, no number check", combined >= rule.threshold),
        ("score >= threshold and equal numbers", (combined >= rule.threshold) & numbers),
    ]
    decided = np.asarray([rule.decide(p["text_1"], p["text_2"], vectors[p["text_1"]], vectors[p["text_2"]]).same
                          for p in pairs])
    if not np.array_equal(decided, rows[-1][1] if rule.check_numbers else rows[-2][1]):
        raise SystemExit("MatchRule.decide disagrees with the table: a bug")
    for label, predicted in rows:
        p, r, f = precision_recall(gold, predicted)
        print(f"{label:<52} {p:>9.4f} {r:>7.4f} {f:>6.4f} {int(predicted.sum()):>9}")
    p, r, _ = precision_recall(gold, decided)
    verdict = "meets" if p >= 0.90 and r >= 0.50 else "MISSES"
    print(f"\nas grouping decides: precision {p:.4f} at recall {r:.4f} ({verdict} precision >= 0.90 at recall >= 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

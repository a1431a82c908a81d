"""Score near-duplicate clustering on a neardup-news style set.

Usage: .venv/bin/python bench/eval_dedup.py [--data DIR] [--curve] [--shingle-sizes 3,4,5,7]

DIR holds ``clusters.jsonl`` (one object per document: ``doc``, ``cluster``,
``kind``) and ``docs/<doc>.txt|.html``. Every document is extracted and cleaned
exactly as the pipeline does (``newswire.extract``), fingerprinted and clustered
with the pipeline's parameters. Prints pairwise precision/recall/F1, the
adjusted Rand index, how many hard negatives (documents of kind ``same-story``,
``same-boilerplate``, ``stock-paragraphs``, each a singleton in the gold
partition) were merged into a cluster, and the recall of each copy kind.
``--curve`` adds the threshold curves written up in docs/dedup.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from newswire.dedup import DEFAULT_PARAMS, DedupParams, cluster, similarity
from newswire.dedup.files import item_from_article, read_article

HARD_NEGATIVES = ("same-story", "same-boilerplate", "stock-paragraphs")
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "neardup-news"


def load_gold(data: Path) -> tuple[dict[str, str], dict[str, str], dict[str, Path]]:
    """Gold cluster and kind per document, and each document's file."""
    gold, kind, files = {}, {}, {}
    with open(data / "clusters.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                gold[row["doc"]], kind[row["doc"]] = row["cluster"], row["kind"]
    for path in sorted((data / "docs").iterdir()):
        files[path.name.split(".")[0]] = path
    missing = sorted(set(gold) - set(files))
    if missing:
        raise SystemExit(f"no file for {len(missing)} documents, e.g. {missing[0]}")
    return gold, kind, files


def pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
    """All unordered same-cluster pairs of a labelling."""
    groups = defaultdict(list)
    for doc, label in labels.items():
        groups[label].append(doc)
    return {pair for members in groups.values() for pair in itertools.combinations(sorted(members), 2)}


def score(gold: dict[str, str], kind: dict[str, str], predicted: dict[str, str]) -> dict:
    """Pairwise P/R/F1, ARI, merged hard negatives by kind and recall per copy kind."""
    want, got = pairs(gold), pairs(predicted)
    tp = len(want & got)
    precision = tp / len(got) if got else 1.0
    recall = tp / len(want) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    docs = sorted(gold)
    ari = adjusted_rand_score([gold[d] for d in docs], [predicted[d] for d in docs])
    sizes = Counter(predicted.values())
    merged = Counter(kind[d] for d in docs if kind[d] in HARD_NEGATIVES and sizes[predicted[d]] > 1)
    originals = {gold[d]: d for d in docs if kind[d] == "original"}
    joined, total = Counter(), Counter()
    for d in docs:
        if kind[d] not in HARD_NEGATIVES and kind[d] != "original" and gold[d] in originals:
            total[kind[d]] += 1
            joined[kind[d]] += predicted[d] == predicted[originals[gold[d]]]
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "ari": ari,
        "hard_negatives_merged": {k: merged.get(k, 0) for k in HARD_NEGATIVES},
        "copy_recall": {k: f"{joined[k]}/{total[k]}" for k in sorted(total)},
    }


def predict(items, params: DedupParams) -> dict[str, str]:
    """Document -> predicted cluster id."""
    return {member: c.cluster_id for c in cluster(items, params) for member in c.members}


def line(name: str, result: dict) -> str:
    hn = result["hard_negatives_merged"]
    return (
        f"{name:<34} P={result['precision']:.4f} R={result['recall']:.4f} F1={result['f1']:.4f} "
        f"ARI={result['ari']:.4f} hard-neg merged: " + " ".join(f"{k}={v}" for k, v in hn.items())
    )


def separation(items, gold, kind) -> None:
    """Lowest estimated containment of a true copy pair vs highest of a non-copy pair."""
    by_id = {item.id: item for item in items}
    worst_pos, worst_neg = (2.0, None), (-1.0, None)
    for a, b in itertools.combinations(sorted(by_id), 2):
        jac, con = similarity(by_id[a].fingerprint, by_id[b].fingerprint)
        if gold[a] == gold[b]:
            worst_pos = min(worst_pos, (con, f"{kind[a]}/{kind[b]} J={jac:.3f}"))
        elif con > worst_neg[0]:
            worst_neg = (con, f"{kind[a]}/{kind[b]} J={jac:.3f}")
    print(f"  lowest containment of a copy pair  : {worst_pos[0]:.3f} ({worst_pos[1]})")
    print(f"  highest containment of a non-copy  : {worst_neg[0]:.3f} ({worst_neg[1]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA.resolve())
    parser.add_argument("--curve", action="store_true", help="also print the threshold curves")
    parser.add_argument("--shingle-sizes", default="3,4,5,7", help="shingle sizes for the curve")
    args = parser.parse_args(argv)

    gold, kind, files = load_gold(args.data)
    started = time.perf_counter()
    articles = {doc: read_article(str(files[doc])) for doc in sorted(gold)}
    extracted = time.perf_counter()
    items = [item_from_article(doc, article, DEFAULT_PARAMS) for doc, article in articles.items()]
    fingerprinted = time.perf_counter()
    result = score(gold, kind, predict(items, DEFAULT_PARAMS))
    clustered = time.perf_counter()

    print(f"data: {args.data} ({len(gold)} documents, {len(set(gold.values()))} gold clusters)")
    print(f"params: {DEFAULT_PARAMS}")
    print(
        f"time: extract {extracted - started:.2f}s, fingerprint {fingerprinted - extracted:.2f}s, "
        f"cluster {clustered - fingerprinted:.3f}s"
    )
    print(line("pipeline parameters", result))
    print("  copy recall by kind: " + " ".join(f"{k}={v}" for k, v in result["copy_recall"].items()))
    separation(items, gold, kind)

    if args.curve:
        print("\ncurve A: containment threshold (Jaccard floor fixed at the default)")
        for threshold in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
            params = dataclasses.replace(DEFAULT_PARAMS, containment_threshold=threshold)
            print(line(f"  containment>={threshold:.2f}", score(gold, kind, predict(items, params))))
        print("\ncurve B: Jaccard only (containment check off), the plain-MinHash baseline")
        for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            params = dataclasses.replace(
                DEFAULT_PARAMS, jaccard_threshold=threshold, containment_threshold=1e-9
            )
            print(line(f"  jaccard>={threshold:.2f}", score(gold, kind, predict(items, params))))
        print("\ncurve C: Jaccard floor under the containment check")
        for threshold in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5):
            params = dataclasses.replace(DEFAULT_PARAMS, jaccard_threshold=threshold)
            print(line(f"  floor>={threshold:.2f}", score(gold, kind, predict(items, params))))
        print("\ncurve D: shingle size (other parameters at their defaults)")
        for size in (int(s) for s in args.shingle_sizes.split(",")):
            params = dataclasses.replace(DEFAULT_PARAMS, shingle_size=size)
            sized = [item_from_article(doc, article, params) for doc, article in articles.items()]
            print(line(f"  shingle_size={size}", score(gold, kind, predict(sized, params))))
            separation(sized, gold, kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())

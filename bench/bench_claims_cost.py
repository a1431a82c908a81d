#!/usr/bin/env python3
"""Cheaper check-worthiness scoring, measured: F1 and sentences/s for shorter inputs and other batch sizes.

On the ``dev`` + ``dev-test`` sentences of ``--data`` (format of
``../shared/data/checkthat2024-task1-en``), one onnxruntime thread, at the stored threshold:
the stored setting (max length 64 tokens, batches of 16) is the baseline, measured in the
same run as each option. A cheaper option is worth taking only if its F1 stays within 0.005.

    .venv/bin/python bench/bench_claims_cost.py --data ../shared/data/checkthat2024-task1-en
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins"))
sys.path.insert(0, str(REPO / "bench"))

OPTIONS = [(64, 16), (64, 8), (64, 32), (48, 16), (32, 16)]  # (max length, batch size); the first is stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "checkthat2024-task1-en"))
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per option (best counts)")
    args = parser.parse_args(argv)

    from eval_claims import load
    from newswire.claims.metrics import f1_yes
    from newswire.claims.model import ClaimScorer

    data = load(Path(args.data))
    texts = data["dev"][0] + data["dev-test"][0]
    split = len(data["dev"][0])
    print(f"data: {args.data}  ({split} dev + {len(texts) - split} dev-test sentences, one thread)")
    print(f"{'max length':>10} {'batch':>6} {'F1 dev':>8} {'F1 dev-test':>12} {'sent/s':>8} {'vs stored':>10}")
    base = None
    for max_length, batch in OPTIONS:
        scorer = ClaimScorer(threads=1, batch_size=batch, max_length=max_length)
        best, scores = float("inf"), None
        for _ in range(args.repeat):
            started = time.perf_counter()
            scores = np.asarray(scorer.score(texts))
            best = min(best, time.perf_counter() - started)
        rate = len(texts) / best
        base = base or rate
        dev = f1_yes(data["dev"][1], scores[:split], scorer.threshold)
        dev_test = f1_yes(data["dev-test"][1], scores[split:], scorer.threshold)
        print(f"{max_length:10d} {batch:6d} {dev:8.4f} {dev_test:12.4f} {rate:8.1f} {rate / base:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

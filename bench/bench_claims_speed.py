#!/usr/bin/env python3
"""Check-worthiness throughput on one core, as the pipeline runs it, and the artefact size.

Scores the ``dev`` + ``dev-test`` sentences of ``--data`` (format of
``../shared/data/checkthat2024-task1-en``) with onnxruntime limited to one
thread, three ways in the same run:

- baseline: the model on every sentence (no pre-filter);
- pipeline: pre-filter + model (``ClaimExtractor.score_filtered``), the figure
  that counts (target >= 300 sentences/s);
- news: the model on the sentences of the article texts in ``seeds/`` (news
  sentences are about 45% longer in tokens than debate lines, so slower), and
  the whole ``ClaimExtractor.extract`` path (split, pre-filter, model,
  attribution) over those articles, as sentences/s.

Each figure is the best of ``--repeat`` timed runs (the machine is shared), and
the pipeline is printed as a ratio against the baseline.

    .venv/bin/python bench/bench_claims_speed.py --data ../shared/data/checkthat2024-task1-en
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins"))


def best_rate(func, items, count: int, repeat: int) -> float:
    """Items per second of ``func(items)``, best of ``repeat`` runs after one warm-up."""
    func(items[:64])
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func(items)
        best = min(best, time.perf_counter() - started)
    return count / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "checkthat2024-task1-en"))
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--seeds", default=str(REPO / "seeds"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from newswire.claims import ClaimExtractor
    from newswire.claims.model import MODEL_DIR

    with open(Path(args.data) / "claims.jsonl", encoding="utf-8") as handle:
        sentences = [row["text"] for row in map(json.loads, handle) if row.get("split") in ("dev", "dev-test")]
    if not sentences:
        print(f"no dev/dev-test sentences in {args.data}", file=sys.stderr)
        return 2
    extractor = ClaimExtractor(args.model_dir, threads=1)
    lexical = ClaimExtractor(args.model_dir, threads=1, lexical_prefilter=True)
    kept = sum(extractor.keep(sentences))
    kept_lexical = sum(lexical.keep(sentences))

    baseline = best_rate(extractor.score, sentences, len(sentences), args.repeat)
    pipeline = best_rate(extractor.score_filtered, sentences, len(sentences), args.repeat)
    with_lexical = best_rate(lexical.score_filtered, sentences, len(sentences), args.repeat)

    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(args.seeds).glob("*.txt"))]
    news = [s.text for t in texts for s in extractor.sentences(t)]
    news_kept = [s for s, k in zip(news, extractor.keep(news)) if k]
    if texts:
        news_model = best_rate(extractor.score, news_kept, len(news_kept), args.repeat)
        extract = best_rate(lambda ts: [extractor.extract(t) for t in ts], texts, len(news), args.repeat)

    model_dir = Path(args.model_dir) if args.model_dir else MODEL_DIR
    onnx_bytes = (model_dir / "model.onnx").stat().st_size
    total_bytes = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file())
    print(f"sentences: {len(sentences)} (dev + dev-test of {args.data}); onnxruntime intra_op_num_threads=1; "
          f"best of {args.repeat}")
    print(f"baseline  model on every sentence          {baseline:8.1f} sentences/s")
    print(f"pipeline  rule pre-filter + model (default) {pipeline:8.1f} sentences/s  (x{pipeline / baseline:.2f} vs "
          f"baseline; keeps {kept / len(sentences):.1%}; target >= 300)")
    print(f"option    + lexical pre-filter             {with_lexical:8.1f} sentences/s  (x{with_lexical / baseline:.2f}"
          f" vs baseline; keeps {kept_lexical / len(sentences):.1%})")
    if texts:
        print(f"news      model on seeds/ sentences         {news_model:8.1f} sentences/s  (x{news_model / baseline:.2f}"
              f" vs baseline; {len(news_kept)} sentences the rules keep, longer than debate lines)")
        print(f"extract   seeds/ articles, end to end       {extract:8.1f} sentences/s  ({len(news)} sentences: split,"
              f" pre-filter, model, attribution; x{extract / baseline:.2f} vs baseline)")
    print(f"artefact  model.onnx {onnx_bytes / 1e6:.1f} MB, folder {total_bytes / 1e6:.1f} MB (limit 25 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Claims on real news pages as the pipeline makes them: how many, how many with a speaker, how many from tables.

Runs every page of a folder in the format of ``../shared/data/article-extraction-benchmark``
(``ground-truth.jsonl`` rows naming ``html/<id>.html.gz``) through the pipeline's extraction and
claim stages (``extract_page`` then ``ClaimExtractor.extract_many``) and prints

- the share of sentences flagged as claims (target < 25%), claims per article;
- the share of claims with a speaker (target >= 40%);
- the share of claims that come from a table row or a list of figures (target <= 1 in 10),
  judged by a test of its own here, independent of the candidate filter: the claim's line
  has cell separators, or most of its tokens are numbers;
- the same figures without the per-article limits, and with neither those nor the candidate
  filter (``sentence_candidates=False``): the baseline, measured in the same run; and the
  most frequent speakers.

    .venv/bin/python bench/eval_claims_pages.py --data ../shared/data/article-extraction-benchmark
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins"))

_NUMBERISH = re.compile(r"^[\d.,:%$€£+/-]+$")


def table_or_list(line: str) -> bool:
    """The bench's own test: a table row (cell separators) or a line that is mostly figures."""
    if line.count("|") >= 2 or "\t" in line:
        return True
    tokens = line.split()
    return len(tokens) >= 3 and sum(bool(_NUMBERISH.match(t)) for t in tokens) / len(tokens) >= 0.4


def load_pages(data: Path, limit: int | None) -> list[tuple[str, bytes]]:
    rows = [json.loads(line) for line in (data / "ground-truth.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    pages = []
    for row in rows[:limit]:
        with gzip.open(data / row["html"], "rb") as handle:
            pages.append((row.get("url") or row["id"], handle.read()))
    return pages


def measure(extractor, articles) -> dict:
    started = time.perf_counter()
    found = extractor.extract_many([(a.text, a.language or "en") for a in articles])
    seconds = time.perf_counter() - started
    sentences = sum(len(extractor.sentences(a.text)) for a in articles)
    claims = [(a, c) for a, cs in zip(articles, found) for c in cs]
    lines = {}
    tables = 0
    for article, claim in claims:
        text_lines = lines.setdefault(article.id or article.url, article.text.splitlines())
        line = next((ln for ln in text_lines if claim.text in ln), claim.text)
        tables += table_or_list(line)
    return {
        "articles": len(articles), "sentences": sentences, "claims": len(claims),
        "with_speaker": sum(1 for _, c in claims if c.speaker), "tables": tables, "seconds": seconds,
        "speakers": Counter(c.speaker_key or c.speaker for _, c in claims if c.speaker),
        "per_article_max": max((len(cs) for cs in found), default=0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "article-extraction-benchmark"))
    parser.add_argument("--limit", type=int, default=None, help="first N pages only")
    parser.add_argument("--score-cache", default=None,
                        help="JSON file of model scores per sentence (read, and extended): rules rerun in seconds")
    args = parser.parse_args(argv)

    from newswire.claims import ClaimExtractor
    from score_cache import cached
    from newswire.extract import extract_page
    from datetime import UTC, datetime

    from newswire.models import Page

    pages = load_pages(Path(args.data), args.limit)
    articles = []
    for url, body in pages:
        article = extract_page(Page(url=url, final_url=url, status=200, headers={"content-type": "text/html"},
                                    body=body, fetched_at=datetime.now(UTC)))
        if article.is_article and (article.language or "en").startswith("en"):
            articles.append(article)
    extractor = cached(ClaimExtractor(), args.score_cache)
    rows = [("pipeline", measure(extractor, articles))]
    extractor.max_claims = extractor.max_share = None
    rows.append(("without per-article limits", measure(extractor, articles)))
    extractor.sentence_candidates = False
    rows.append(("baseline: neither (as before)", measure(extractor, articles)))
    print(f"data: {args.data}  ({len(pages)} pages, {len(articles)} English articles)")
    print(f"{'system':32} {'sentences':>9} {'claims':>6} {'flagged':>8} {'per art.':>8} {'max':>4} "
          f"{'w/ speaker':>10} {'table/list':>10} {'seconds':>8}")
    for name, r in rows:
        n = max(r["claims"], 1)
        print(f"{name:32} {r['sentences']:9d} {r['claims']:6d} {r['claims'] / max(r['sentences'], 1):8.3f} "
              f"{r['claims'] / max(r['articles'], 1):8.2f} {r['per_article_max']:4d} {r['with_speaker'] / n:10.3f} "
              f"{r['tables'] / n:10.3f} {r['seconds']:8.1f}")
    print("targets: flagged < 0.25, with speaker >= 0.40, table/list <= 0.10")
    print("most frequent speakers:", rows[0][1]["speakers"].most_common(25))
    return 0


if __name__ == "__main__":
    sys.exit(main())

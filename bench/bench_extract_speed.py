#!/usr/bin/env python3
"""Extraction CPU per page of newswire against plain ``trafilatura.extract``, same pages, one run.

    .venv/bin/python bench/bench_extract_speed.py --data ../shared/data/article-extraction-benchmark

newswire does more per page (decoding, metadata, language, cleaning, the quality gate), so the
figure that matters is the ratio of CPU seconds per page newswire/trafilatura (target <= 1.3).
CPU time (``time.process_time``) rather than wall time, so load from other processes on a
shared machine does not count; the two systems still alternate page by page and each page's
time is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "article-extraction-benchmark"


def load_pages(data_dir: Path, limit: int | None) -> list[tuple[bytes, str | None]]:
    """(html bytes, url) of the dataset's pages (any folder with ground-truth.jsonl + html/*.html.gz)."""
    pages = []
    for line in (data_dir / "ground-truth.jsonl").open(encoding="utf-8"):
        if not line.strip():
            continue
        row = json.loads(line)
        with gzip.open(data_dir / row["html"], "rb") as handle:
            url = row.get("url") if str(row.get("url", "")).startswith("http") else None
            pages.append((handle.read(), url))
        if limit and len(pages) >= limit:
            break
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, help="use only the first N pages")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the fastest counts")
    args = parser.parse_args(argv)

    import trafilatura

    from newswire.extract import extract_html

    systems = {
        "newswire": lambda html, url: extract_html(html, url=url),
        "trafilatura": lambda html, url: trafilatura.extract(html, url=url),
    }
    pages = load_pages(args.data, args.limit)
    for run in systems.values():  # warm-up: imports, language model, date parser tables
        run(*pages[0])
    totals = dict.fromkeys(systems, 0.0)
    for html, url in pages:
        for name, run in systems.items():
            best = float("inf")
            for _ in range(args.repeat):
                start = time.process_time()
                run(html, url)
                best = min(best, time.process_time() - start)
            totals[name] += best
    per_page = {name: 1000 * seconds / len(pages) for name, seconds in totals.items()}
    for name, ms in per_page.items():
        print(f"{name:<12} {ms:7.2f} ms CPU per page  ({totals[name]:.2f} s for {len(pages)} pages, best of {args.repeat})")
    ratio = per_page["newswire"] / per_page["trafilatura"]
    print(f"CPU per page newswire/trafilatura: {ratio:.3f}  (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

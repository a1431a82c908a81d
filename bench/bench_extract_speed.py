#!/usr/bin/env python3
"""Pages per second of newswire's HTML extraction against plain ``trafilatura.extract``, same pages, one run.

    .venv/bin/python bench/bench_extract_speed.py --data ../shared/data/article-extraction-benchmark

newswire does more per page (metadata, language, cleaning, the quality gate), so the figure
that matters is the ratio newswire/trafilatura (target >= 0.8). To be fair on a shared
machine, the two systems alternate page by page and each page's time is the best of
``--repeat`` runs, so a burst of load from elsewhere does not land on one system only.
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
                start = time.perf_counter()
                run(html, url)
                best = min(best, time.perf_counter() - start)
            totals[name] += best
    rates = {name: len(pages) / seconds for name, seconds in totals.items()}
    for name, rate in rates.items():
        print(f"{name:<12} {rate:7.1f} pages/s  ({totals[name]:.2f} s for {len(pages)} pages, best of {args.repeat})")
    ratio = rates["newswire"] / rates["trafilatura"]
    print(f"ratio newswire/trafilatura: {ratio:.3f}  (target >= 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every file of feedparser's test corpus through newswire's feed parsing and count outcomes.

    .venv/bin/python bench/feedparser_corpus.py [--data ../shared/data/feedparser-tests] [--show N]

Each file is parsed from bytes with the HTTP headers the origin's harness serves it with (from
``index.jsonl``), exactly as a fetched feed would be. Outcomes: ``ok`` (well-formed, entries or a
valid empty feed), ``recovered`` (ill-formed, entries recovered and used), ``clear-error``
(FeedError: nothing usable, the source gets this reason), ``-empty`` variants for feeds that
parsed but announce no entries (most of the corpus tests feed-level fields), ``uncaught`` (any other exception: must
be 0). Timing is given as a ratio against plain ``feedparser.parse`` of the same bytes, measured
in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import feedparser

from newswire.sources.feed import FeedError, parse_feed

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "feedparser-tests"


def classify(body: bytes, url: str, headers: dict[str, str]) -> tuple[str, str, int, int]:
    """(outcome, detail, entries kept, entries skipped for having no link) for one file."""
    try:
        parsed = parse_feed(body, url=url, headers=headers, source="bench")
    except FeedError as exc:
        return "clear-error", exc.reason, 0, 0
    except Exception as exc:  # noqa: BLE001 - the point is to count these
        return "uncaught", f"{type(exc).__name__}: {exc}", 0, 0
    outcome = "recovered" if parsed.problem else "ok"
    if not parsed.entries:
        outcome += "-empty"
    detail = (parsed.problem or parsed.version or "?").split(":")[0]
    return outcome, detail, len(parsed.entries), len(parsed.skipped)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--show", type=int, default=5, help="examples to print per non-ok outcome")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in (args.data / "index.jsonl").open(encoding="utf-8")]
    counts: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = {}
    examples: dict[str, list[str]] = {}
    ours = baseline = 0.0
    kept = skipped = 0
    for row in rows:
        body = (args.data / row["path"]).read_bytes()
        headers = {k.lower(): v for k, v in (row.get("http_headers") or {}).items()}
        url = "http://feeds.example.org/" + row["path"]
        t0 = time.perf_counter()
        feedparser.parse(body, response_headers={**headers, "content-location": url})
        t1 = time.perf_counter()
        outcome, detail, n_kept, n_skipped = classify(body, url, headers)
        kept += n_kept
        skipped += n_skipped
        t2 = time.perf_counter()
        baseline += t1 - t0
        ours += t2 - t1
        counts[outcome] += 1
        by_category.setdefault(row["path"].split("/")[1], Counter())[outcome] += 1
        if outcome != "ok":
            examples.setdefault(outcome, []).append(f"{row['path']}: {detail}")
    print(f"files: {len(rows)}")
    for outcome in ("ok", "ok-empty", "recovered", "recovered-empty", "clear-error", "uncaught"):
        print(f"  {outcome:20s} {counts[outcome]}")
    print(f"entries: {kept} used, {skipped} skipped (no link)")
    print("by folder:", {k: dict(v) for k, v in sorted(by_category.items())})
    for outcome, lines in sorted(examples.items()):
        for line in lines[: args.show]:
            print(f"  e.g. {outcome}: {line}")
    print(f"time: parse_feed {ours:.2f}s vs plain feedparser.parse {baseline:.2f}s (ratio {ours / baseline:.2f})")
    return 1 if counts["uncaught"] else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Seconds and peak memory of each hostile input (issue 13) next to a normal page's, and regex growth per doubling.

    .venv/bin/python bench/hostile.py [--data ../shared/data/article-extraction-benchmark]

Each case runs in its own child process under a 1.5 GB address-space limit and a wall-clock
limit, with its input served from a real HTTP server on 127.0.0.1 or fed to the real parser,
so its peak memory (``ru_maxrss``) is its own. The normal cases (a page of the data set fetched
and extracted, a feed of the same size parsed) are measured the same way in the same run.
Then extraction time (``newswire.extract.extract_page``, as the workers call it) on pages
whose paragraph is ``"a" + "!" * n + "a"``, n doubling: a linear pipeline shows about 2x per
doubling, a quadratic regex 4x. Last line: uncaught exceptions over all cases (must be 0).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the shared hostile inputs and the test web server

from support.hostile_inputs import (  # noqa: E402
    BAD_URLS, STACKED_GZIP, entity_feed, jsonld_lists_page, layout_trap_page, nested_json_feed, regex_paragraph_page, rss, run_bounded,
)

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "article-extraction-benchmark"
REGEX_SIZES = (10_000, 20_000, 40_000, 80_000, 160_000)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _normal_page(data: Path) -> bytes:
    files = sorted((data / "html").glob("*.html.gz")) or sorted(data.glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no *.html.gz pages under {data} (give --data)")
    return gzip.decompress(files[0].read_bytes())


def _fetch_and_extract(body: bytes, headers: dict[str, str]) -> str:
    """Serve ``body`` on 127.0.0.1, fetch it as the pipeline does, extract it; the outcome's reason."""
    from newswire.extract import extract_page
    from newswire.fetch import Fetcher, FetchError, FetchPolicy
    from newswire.models import Entry
    from support.webserver import WebServer

    with WebServer() as server:
        server.add("/page.html", body=body, headers=headers)
        with Fetcher(FetchPolicy(allowed_networks=("127.0.0.1/32",), respect_robots=False)) as fetcher:
            try:
                page = fetcher.get(server.url("/page.html"))
            except FetchError as exc:
                return exc.reason
    article = extract_page(page, Entry(url=page.url, source="bench"))
    return article.reason or "article"


def _parse_feed(body: bytes, content_type: str) -> str:
    from newswire.sources.feed import FeedError, parse_feed

    try:
        parsed = parse_feed(body, url="https://news.example.org/feed", headers={"content-type": content_type})
    except FeedError as exc:
        return exc.reason
    return f"{len(parsed.entries)} entries, longest summary {max((len(e.summary or '') for e in parsed.entries), default=0)}"


def _discover_bad_urls() -> str:
    from newswire.config import parse_config
    from newswire.fetch import Fetcher, FetchPolicy
    from newswire.sources import discover
    from support.webserver import WebServer

    with WebServer() as server:
        server.add("/feed.xml", body=rss([(f"bad {i}", u) for i, u in enumerate(BAD_URLS)]
                                         + [("good", "https://news.example.org/good")]),
                   content_type="application/rss+xml")
        source = parse_config({"sources": [{"name": "s", "type": "feed", "url": server.url("/feed.xml"),
                                            "allowed_networks": ["127.0.0.1/32"]}]}, base_dir=REPO).get("s")
        with Fetcher(FetchPolicy.from_source(source)) as fetcher:
            found = discover(source, None, fetcher)
    return f"{len(found.entries)} entry, refused: {','.join(sorted({o.reason for o in found.errors}))}"


def _split_repeated_sentences() -> str:
    """The claim stage's sentence split of a 72 kB paragraph of 8,000 short sentences (quadratic for a
    splitter that searches the whole paragraph again for each sentence) and of a run of 20,000 "!"
    (quadratic for pysbd's rules and for a ``[.!?]+`` pattern)."""
    from newswire.claims.sentences import split_sentences

    count = len(split_sentences("It rose. " * 8000)) + len(split_sentences("a" + "!" * 20_000 + "a. It rose."))
    return f"{count} sentences"


def _warm_up() -> None:
    from datetime import datetime, timezone

    import newswire.sources  # noqa: F401
    import support.webserver  # noqa: F401
    from newswire.extract import extract_page
    from newswire.models import Entry, Page

    body = b"<html><body><article><p>" + b"A warm-up sentence for the extractor. " * 30 + b"</p></article></body></html>"
    extract_page(Page(url="https://w.example/", final_url="https://w.example/", status=200,
                      headers={"content-type": "text/html"}, body=body, fetched_at=datetime.now(timezone.utc)),
                 Entry(url="https://w.example/", source="bench"))


def run_case(name: str, data: Path) -> dict:
    """One case in this (child) process."""
    normal = _normal_page(data)
    feed_size = 130_000
    filler = [(f"story {i}", f"https://news.example.org/{i}") for i in range(feed_size // 70)]
    cases = {
        "normal page (fetch + extract)": lambda: _fetch_and_extract(gzip.compress(normal), {"Content-Encoding": "gzip"}),
        "stacked gzip 3.5 kB -> 2 GiB": lambda: _fetch_and_extract(
            STACKED_GZIP.read_bytes(), {"Content-Encoding": "gzip, gzip"}),
        "normal feed 130 kB": lambda: _parse_feed(rss(filler), "application/rss+xml"),
        "entity feed 130 kB": lambda: _parse_feed(entity_feed(130_000, ["https://news.example.org/a"]), "application/rss+xml"),
        "entity feed 300 kB": lambda: _parse_feed(entity_feed(300_000, ["https://news.example.org/a"]), "application/rss+xml"),
        "nested JSON Feed 100k": lambda: _parse_feed(nested_json_feed(), "application/feed+json"),
        "feed of unsendable URLs": _discover_bad_urls,
        "JSON-LD lists 4 x 480 kB": lambda: _fetch_and_extract(jsonld_lists_page(), {}),
        "layout: 500 chunks, 5,000 cards": lambda: _fetch_and_extract(layout_trap_page(), {}),
        "claim sentences: 8,000; 20k of !": _split_repeated_sentences,
    }
    _warm_up()  # imports and first-call set-up (language model, parsers) are not the case's cost
    started = time.perf_counter()
    try:
        outcome = cases[name]()
        uncaught = None
    except Exception as exc:  # noqa: BLE001 - the point is to count these
        outcome, uncaught = "uncaught", f"{type(exc).__name__}: {exc}"[:200]
    seconds = time.perf_counter() - started
    # A second pass for memory: the peak of what Python allocated during the case (the process
    # peak is mostly the extractor's own import, the same for every case).
    tracemalloc.start()
    try:
        cases[name]()
    except Exception:  # noqa: BLE001 - counted above
        pass
    allocated = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": seconds, "peak_mb": _peak_mb(), "grew_mb": allocated, "outcome": outcome, "uncaught": uncaught}


CASE_NAMES = ("normal page (fetch + extract)", "stacked gzip 3.5 kB -> 2 GiB", "normal feed 130 kB",
              "entity feed 130 kB", "entity feed 300 kB", "nested JSON Feed 100k", "feed of unsendable URLs",
              "JSON-LD lists 4 x 480 kB", "layout: 500 chunks, 5,000 cards", "claim sentences: 8,000; 20k of !")


def regex_growth() -> list[tuple[int, float]]:
    from newswire.extract import extract_page
    from newswire.models import Entry, Page
    from datetime import datetime, timezone

    _warm_up()
    rows = []
    for n in REGEX_SIZES:
        body = regex_paragraph_page(n)
        page = Page(url="https://news.example.org/r", final_url="https://news.example.org/r", status=200,
                    headers={"content-type": "text/html; charset=utf-8"}, body=body, fetched_at=datetime.now(timezone.utc))
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            extract_page(page, Entry(url=page.url, source="bench"))
            best = min(best, time.perf_counter() - started)
        rows.append((n, best))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a folder of *.html.gz pages (or html/ inside)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    parser.add_argument("--regex", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.data)))
        return 0
    if args.regex:
        print(json.dumps({"rows": regex_growth()}))
        return 0

    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "PYTHONPATH": str(REPO / "plugins")}
    print(f"{'case':<32} {'seconds':>8} {'peak MB':>8} {'+MB':>6}  outcome   (+MB: peak Python allocation during the case)")
    uncaught = 0
    results = {}
    for name in CASE_NAMES:
        try:
            result, _ = run_bounded([__file__, "--case", name, "--data", str(args.data)], env=env)
        except AssertionError as exc:  # the child died: memory limit, crash or wall clock
            result = {"seconds": float("nan"), "peak_mb": float("nan"), "grew_mb": float("nan"), "outcome": "child died",
                      "uncaught": str(exc).splitlines()[0]}
        results[name] = result
        uncaught += result["uncaught"] is not None
        print(f"{name:<32} {result['seconds']:>8.2f} {result['peak_mb']:>8.0f} {result['grew_mb']:>6.1f}  {result['outcome']}"
              + (f"  UNCAUGHT {result['uncaught']}" if result["uncaught"] else ""))
    page = results[CASE_NAMES[0]]
    print(f"(baseline: the normal page took {page['seconds']:.2f}s and allocated at most {page['grew_mb']:.0f} MB, same run)")

    growth = run_bounded([__file__, "--regex"], env=env)[0]["rows"]
    print(f"\nextraction of a paragraph 'a' + '!' * n + 'a' (newswire.extract.extract_page, best of 2)")
    print(f"{'n':>8} {'seconds':>9} {'x per doubling':>15}")
    previous = None
    for n, seconds in growth:
        ratio = f"{seconds / previous:.1f}x" if previous else ""
        print(f"{n:>8} {seconds:>9.3f} {ratio:>15}")
        previous = seconds
    ratios = [b[1] / a[1] for a, b in zip(growth, growth[1:]) if a[1] > 0]
    print(f"last doubling: {ratios[-1]:.1f}x (linear ~2x, quadratic ~4x)")
    print(f"\nuncaught exceptions over the cases: {uncaught}")
    return 1 if uncaught else 0


if __name__ == "__main__":
    sys.exit(main())

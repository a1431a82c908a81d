"""Whole-pipeline throughput against plain trafilatura, on real pages served from 127.0.0.1.

This process serves the pages and RSS feeds listing them on 127.0.0.1. For N and 2N pages
(default N = 300, so the larger run has 600 pages), each in a fresh process:

1. the pipeline runs one source's batch through ``newswire.pipeline.ingest_source`` (fetch,
   extract, claims, dedup, index into a real Elasticsearch): articles/s and its peak RSS;
2. plain ``trafilatura.extract`` extracts the same pages (the baseline): pages/s.

The ratio pipeline/baseline is printed per size, and the peak memory of the two sizes is compared
(it should stay flat as the page count doubles: batches stream, nothing grows with history).

    python bench/bench_pipeline.py [--data DIR ...] [--pages 300]

DIR is in the format of ``article-extraction-benchmark`` or ``trafilatura-eval``
(``ground-truth.jsonl`` + ``html/``); pages are taken from each in turn.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = [REPO.parent / "shared" / "data" / "article-extraction-benchmark",
                REPO.parent / "shared" / "data" / "trafilatura-eval"]


def load_pages(dirs: list[Path], limit: int) -> list[bytes]:
    """Up to ``limit`` HTML pages (bytes) from the given dataset folders."""
    pages: list[bytes] = []
    for folder in dirs:
        for line in open(folder / "ground-truth.jsonl", encoding="utf-8"):
            row = json.loads(line)
            rel = row.get("html") or row.get("file") or row.get("path")
            if not rel:
                continue
            path = folder / rel
            if not path.exists():
                continue
            data = path.read_bytes()
            pages.append(gzip.decompress(data) if path.suffix == ".gz" else data)
            if len(pages) >= limit:
                return pages
    return pages


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(dirs: list[Path], n: int) -> dict:
    """Plain ``trafilatura.extract`` over the first ``n`` pages, in its own process."""
    import trafilatura

    pages = load_pages(dirs, n)
    started = time.perf_counter()
    extracted = sum(1 for html in pages if trafilatura.extract(html))
    return {"baseline_pages_per_s": n / (time.perf_counter() - started), "baseline_extracted": extracted}


def pipeline_run(feed_url: str, n: int, es_url: str) -> dict:
    """One source's batch through the pipeline, in its own process (its peak RSS is the pipeline's)."""
    from newswire import pipeline
    from newswire.config import parse_config
    from newswire.index.admin import drop
    from newswire.settings import Settings

    prefix = f"bench-{n}"
    settings = Settings(es_url=es_url, index_prefix=prefix)
    config = parse_config({
        "defaults": {"allow_private_network": True, "rate_limit": 100, "max_concurrency": 8,
                     "max_items": n, "respect_robots": False},
        "sources": [{"name": "bench", "type": "feed", "url": feed_url}],
    }, base_dir=REPO)
    pipeline.prepare_indices(settings)
    stages = pipeline.Stages.load()  # the model loads once per worker process, as in Airflow
    started = time.perf_counter()
    report = pipeline.ingest_source(config.get("bench"), settings, stages=stages)
    seconds = time.perf_counter() - started
    with settings.es_client() as es:
        drop(es, prefix)
    return {
        "pages": n,
        "pipeline_articles_per_s": report.indexed / seconds,
        "indexed": report.indexed,
        "claims": report.claims,
        "stage_seconds": report.durations,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="dataset folder (repeatable)")
    parser.add_argument("--pages", type=int, default=300, help="N: runs N and 2N pages (default 300)")
    parser.add_argument("--baseline", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    parser.add_argument("--es-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    dirs = args.data or DEFAULT_DATA
    if args.baseline:
        print(json.dumps(baseline(dirs, args.baseline)))
        return 0
    if args.pipeline:
        print(json.dumps(pipeline_run(args.feed, args.pipeline, args.es_url)))
        return 0

    sys.path.insert(0, str(REPO / "tests"))
    from support.webserver import WebServer

    from newswire import es_local

    sizes = (args.pages, args.pages * 2)
    pages = load_pages(dirs, sizes[-1])
    if len(pages) < sizes[-1]:
        raise SystemExit(f"only {len(pages)} pages found in {', '.join(map(str, dirs))}; need {sizes[-1]}")

    def child(*extra: str) -> dict:
        cmd = [sys.executable, __file__, *extra]
        for d in dirs:
            cmd += ["--data", str(d)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy())
        return json.loads(out.stdout.strip().splitlines()[-1])

    def run(es_url: str) -> list[dict]:
        results = []
        with WebServer() as server:  # serves from this process, so a pipeline process's RSS is its own
            links = []
            for i, html in enumerate(pages):
                path = f"/a/{i}.html"
                server.add(path, body=html)
                links.append(f"<item><title>page {i}</title><link>{server.url(path)}</link></item>")
            for n in sizes:
                server.add(f"/feed-{n}.xml", content_type="application/rss+xml",
                           body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>'
                                f'{"".join(links[:n])}</channel></rss>')
            for n in sizes:
                result = child("--pipeline", str(n), "--feed", server.url(f"/feed-{n}.xml"), "--es-url", es_url)
                results.append({**result, **child("--baseline", str(n))})
        return results

    if url := os.environ.get("ELASTICSEARCH_URL"):
        results = run(url)
    else:
        with es_local.running_server(heap="1g") as info:
            results = run(info.url)

    print(f"{'pages':>6} {'trafilatura p/s':>16} {'newswire art/s':>15} {'ratio':>6} {'indexed':>8} "
          f"{'claims':>7} {'peak RSS MB':>12}")
    for r in results:
        ratio = r["pipeline_articles_per_s"] / r["baseline_pages_per_s"]
        print(f"{r['pages']:>6} {r['baseline_pages_per_s']:>16.1f} {r['pipeline_articles_per_s']:>15.1f} "
              f"{ratio:>6.2f} {r['indexed']:>8} {r['claims']:>7} {r['peak_rss_mb']:>12.0f}")
    for r in results:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in r["stage_seconds"].items())
        print(f"  {r['pages']} pages, stage times: {stages}")
    small, large = results
    print(f"peak memory at {large['pages']} pages / at {small['pages']} pages: "
          f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x (flat means close to 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

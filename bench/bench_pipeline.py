"""Whole-pipeline throughput against plain trafilatura, on real pages served from 127.0.0.1.

This process serves the pages and RSS feeds listing them on 127.0.0.1. For N and 2N pages
(default N = 300, so the larger run has 600 pages), each in a fresh process:

1. the pipeline runs one source's batch through ``newswire.pipeline.ingest_source`` (fetch,
   extract, claims, dedup, index into a real Elasticsearch), timed from the claim model's load
   and the worker start-up on: articles/s, and the peak memory of its process plus workers;
2. plain ``trafilatura.extract`` extracts the same pages in one process (the baseline): pages/s.

The ratio pipeline/baseline is printed per size, with where the CPU time went (pipeline
process, extraction workers, Elasticsearch, this web server), and the peak memory of the two
sizes is compared (it should stay flat as the page count doubles: batches stream, nothing
grows with history). An unmeasured run of 100 pages warms Elasticsearch first.

    python bench/bench_pipeline.py [--data DIR ...] [--pages 300] [--workers 0]

DIR is in the format of ``article-extraction-benchmark`` or ``trafilatura-eval``
(``ground-truth.jsonl`` + ``html/``); pages are taken from each in turn. ``--workers`` is the
number of extraction processes (0, the default, as the pipeline runs: one per core).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WARM_UP_PAGES = 100
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


class TreeMemory:
    """Peak resident memory of this process plus its children (the extraction workers), sampled every 50 ms."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.05):
            total = 0
            for proc in _tree(self.process):
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a worker that just exited
                    pass
            self.peak = max(self.peak, total)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def cpu_of(pid: int | None) -> float:
    """CPU seconds (user + system) of a process and its children so far; NaN without a pid."""
    import psutil

    if pid is None:
        return float("nan")
    return sum(sum(p.cpu_times()[:2]) for p in _tree(psutil.Process(pid)))


def _tree(process) -> list:
    """A psutil process and all its descendants."""
    return [process, *process.children(recursive=True)]


def usage_seconds(who: int) -> float:
    """User + system CPU seconds of ``resource.RUSAGE_SELF`` or ``RUSAGE_CHILDREN`` (waited-for children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def baseline(dirs: list[Path], n: int) -> dict:
    """Plain ``trafilatura.extract`` over the first ``n`` pages, in its own process."""
    import trafilatura

    pages = load_pages(dirs, n)
    started = time.perf_counter()
    extracted = sum(1 for html in pages if trafilatura.extract(html))
    return {"baseline_pages_per_s": n / (time.perf_counter() - started), "baseline_extracted": extracted}


def pipeline_run(feed_url: str, n: int, es_url: str, workers: int, es_pid: int | None, claims: bool) -> dict:
    """One source's batch through the pipeline, in its own process (its memory is the pipeline's)."""
    from newswire import pipeline
    from newswire.config import parse_config
    from newswire.index.admin import drop
    from newswire.settings import Settings
    from newswire.workers import PageProcessor

    prefix = f"bench-{n}"
    settings = Settings(es_url=es_url, index_prefix=prefix, workers=workers)
    config = parse_config({
        # The bench measures the pipeline, not politeness: the highest per-host rate the config allows.
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "rate_limit": 100, "max_concurrency": 8,
                     "max_items": n, "respect_robots": False},
        "sources": [{"name": "bench", "type": "feed", "url": feed_url}],
    }, base_dir=REPO)
    pipeline.prepare_indices(settings)
    with TreeMemory() as memory:
        es_cpu = cpu_of(es_pid)
        started = time.perf_counter()
        # Timed from the model load and the worker start-up on, as one Airflow task pays them.
        stages = (pipeline.Stages.load(workers=settings.worker_count) if claims
                  else pipeline.Stages(processor=PageProcessor(None, workers=settings.worker_count)))
        with stages:
            report = pipeline.ingest_source(config.get("bench"), settings, stages=stages)
        seconds = time.perf_counter() - started
        cpu_seconds = {"pipeline process": usage_seconds(resource.RUSAGE_SELF),
                       "workers": usage_seconds(resource.RUSAGE_CHILDREN),
                       "elasticsearch": cpu_of(es_pid) - es_cpu}
    with settings.es_client() as es:
        drop(es, prefix)
    return {
        "pages": n,
        "workers": settings.worker_count,
        "seconds": seconds,
        "pipeline_articles_per_s": report.indexed / seconds,
        "pipeline_pages_per_s": n / seconds,
        "indexed": report.indexed,
        "claims": report.claims,
        "stage_seconds": report.durations,
        "peak_rss_mb": memory.peak_mb,
        "cpu_seconds": cpu_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="dataset folder (repeatable)")
    parser.add_argument("--pages", type=int, default=300, help="N: runs N and 2N pages (default 300)")
    parser.add_argument("--workers", type=int, default=0,
                        help="extraction worker processes (default 0: one per core, as the pipeline runs)")
    parser.add_argument("--baseline", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    parser.add_argument("--without-claims", action="store_true",
                        help="diagnostic: run the pipeline without the claim model, to see what it costs")
    parser.add_argument("--es-url", help=argparse.SUPPRESS)
    parser.add_argument("--es-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    dirs = args.data or DEFAULT_DATA
    if args.baseline:
        print(json.dumps(baseline(dirs, args.baseline)))
        return 0
    if args.pipeline:
        print(json.dumps(pipeline_run(args.feed, args.pipeline, args.es_url, args.workers, args.es_pid,
                                      not args.without_claims)))
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
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if out.returncode != 0:
            raise SystemExit(f"{' '.join(extra[:2])} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def run(es_url: str, es_pid: int | None) -> list[dict]:
        results = []
        with WebServer() as server:  # serves from this process, so a pipeline process's RSS is its own
            links = []
            for i, html in enumerate(pages):
                path = f"/a/{i}.html"
                server.add(path, body=html)
                links.append(f"<item><title>page {i}</title><link>{server.url(path)}</link></item>")
            for n in (WARM_UP_PAGES, *sizes):
                server.add(f"/feed-{n}.xml", content_type="application/rss+xml",
                           body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>'
                                f'{"".join(links[:n])}</channel></rss>')
            # Unmeasured: a freshly started Elasticsearch spends its first runs compiling (its CPU
            # for the same 250 pages fell from 8.1 s to 3.4 s by the third run); clusters run for long.
            child("--pipeline", str(WARM_UP_PAGES), "--feed", server.url(f"/feed-{WARM_UP_PAGES}.xml"),
                  "--es-url", es_url, "--workers", str(args.workers))
            claims_flag = ["--without-claims"] if args.without_claims else []
            for n in sizes:
                web_cpu = usage_seconds(resource.RUSAGE_SELF)
                result = child("--pipeline", str(n), "--feed", server.url(f"/feed-{n}.xml"), "--es-url", es_url,
                               "--workers", str(args.workers), *(["--es-pid", str(es_pid)] if es_pid else []), *claims_flag)
                # this process's own threads serve the pages (its children are the pipeline's)
                result["cpu_seconds"]["web server"] = usage_seconds(resource.RUSAGE_SELF) - web_cpu
                results.append({**result, **child("--baseline", str(n))})
        return results

    if url := os.environ.get("ELASTICSEARCH_URL"):
        results = run(url, None)
    else:
        with es_local.running_server(heap="1g") as info:
            results = run(info.url, info.pid)

    print(f"pipeline: {results[0]['workers']} extraction worker process(es)"
          f"{', WITHOUT the claim model' if args.without_claims else ''}; baseline: one process")
    print(f"{'pages':>6} {'trafilatura p/s':>16} {'newswire art/s':>15} {'ratio':>6} {'newswire p/s':>13} "
          f"{'indexed':>8} {'claims':>7} {'peak RSS MB':>12}")
    for r in results:
        ratio = r["pipeline_articles_per_s"] / r["baseline_pages_per_s"]
        print(f"{r['pages']:>6} {r['baseline_pages_per_s']:>16.1f} {r['pipeline_articles_per_s']:>15.1f} "
              f"{ratio:>6.2f} {r['pipeline_pages_per_s']:>13.1f} {r['indexed']:>8} {r['claims']:>7} "
              f"{r['peak_rss_mb']:>12.0f}")
    for r in results:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in r["stage_seconds"].items())
        print(f"  {r['pages']} pages in {r['seconds']:.1f}s; stage times (extract, claims, embed and fingerprint: "
              f"CPU summed over workers): {stages}")
    for r in results:  # the workers time their stages in thread CPU time
        per_page = ", ".join(f"{k} {1000 * r['stage_seconds'][k] / max(r['pages'], 1):.1f}"
                             for k in ("extract", "claims", "embed", "fingerprint") if k in r["stage_seconds"])
        print(f"  {r['pages']} pages, worker stage CPU per page (ms; embed = claim sentence vectors): {per_page}")
    for r in results:
        cpu = ", ".join(f"{k} {v:.1f}s" for k, v in r["cpu_seconds"].items())
        print(f"  {r['pages']} pages, CPU time: {cpu}")
    small, large = results
    print(f"peak memory (pipeline process + workers) at {large['pages']} pages / at {small['pages']} pages: "
          f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x (flat means close to 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

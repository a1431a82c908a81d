"""The compose topology with one Celery worker and with two: articles/s and the ratio.

Starts the stack harness (tests/stack: Postgres, Redis, three secured Elasticsearch nodes,
Airflow with the CeleryExecutor configured from docker-compose.yml) over a local news site
of real pages, then runs the same ingest (the ``newswire_ingest`` DAG, triggered through the
REST API, on emptied indices) with one worker and with two, alternating, after one unmeasured
warm-up run. Each worker has the same number of task slots (``--concurrency``), so the second
worker doubles the slots; the mapped ``ingest_source`` tasks are CPU-bound (extraction, claim
scoring), so on a machine with few cores the gain is bounded by the cores, not the slots.

    python bench/bench_topology.py [--data DIR] [--feeds 4] [--pages 88] [--repeat 1] [--concurrency 2]

DIR holds ``*.html.gz`` pages (default: the article-extraction benchmark's html/ folder).
Articles/s is what the run indexed divided by the DAG run's wall time, trigger to finish.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "article-extraction-benchmark" / "html"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA if DEFAULT_DATA.is_dir() else REPO / "tests" / "fixtures" / "pages")
    parser.add_argument("--feeds", type=int, default=4, help="sources (mapped ingest tasks); the DAG runs at most 4 at once")
    parser.add_argument("--pages", type=int, default=88)
    parser.add_argument("--repeat", type=int, default=1, help="measured runs per worker count")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per Celery worker")
    args = parser.parse_args()

    from stack.harness import Stack

    print(f"data {args.data} ({args.pages} pages max), {args.feeds} feeds, {args.concurrency} slots per worker, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    rates: dict[int, list[float]] = {1: [], 2: []}
    with Stack.running(pages_dir=args.data, feeds=args.feeds, shared=args.feeds, limit=args.pages, workers=2,
                       worker_concurrency=args.concurrency) as stack:
        print(f"stack up in {stack.started_seconds:.0f} s; site: {len(stack.site.pages)} page URLs")
        spare = "worker-2"

        def measured(workers: int, label: str) -> float | None:
            running = spare in stack.airflow.workers and stack.airflow.workers[spare].alive()
            if workers == 1 and running:
                stack.airflow.workers.pop(spare).stop()
            elif workers == 2 and not running:
                stack.airflow.start_worker(spare)
            stack.reset()
            run = stack.run_ingest(timeout=1800)
            audit = stack.audit()
            hosts = sorted({ti["hostname"] for ti in run.mapped()})
            rate = audit.count / run.seconds
            print(f"{label:<10} workers={workers} {run.state:<8} {audit.count:>4} articles in {run.seconds:6.1f} s "
                  f"= {rate:5.2f} articles/s  (mapped tasks ran on {', '.join(hosts)}; "
                  f"load {os.getloadavg()[0]:.1f})")
            return rate if run.state == "success" else None

        measured(2, "warm-up")
        for _ in range(args.repeat):
            for workers in (1, 2):
                rate = measured(workers, "measured")
                if rate is not None:
                    rates[workers].append(rate)
    if not rates[1] or not rates[2]:
        print("a measured run failed: no ratio")
        return 1
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"one worker : {one:5.2f} articles/s (median of {len(rates[1])})")
    print(f"two workers: {two:5.2f} articles/s (median of {len(rates[2])})")
    print(f"ratio two/one: {two / one:4.2f}  (slots doubled; {os.cpu_count()} cores shared with everything else)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stream mode end to end: publication on a site to searchable in Elasticsearch, against the hourly schedule.

Everything is real and local: an Elasticsearch server, Airflow (``airflow standalone``: API server,
scheduler, dag-processor and triggerer, LocalExecutor) running this repo's DAGs, and a news site
on 127.0.0.1 served by this process. The site has ``--feeds`` RSS feeds (default 3); every
``--every`` seconds (default 20) each feed publishes a new real article page taken from the
``--data`` folders (pages that the extractor accepts as articles), staggered across the feeds, for
``--minutes`` (default 10). The sources file given to Airflow watches the feeds
(``watch: {min_interval, max_interval}``), so the DAG ``newswire_stream`` ingests them when the
feed-watch trigger sees new entries.

A thread polls Elasticsearch once a second for the published URLs. Printed: per item the time
from its publication (the moment it appears in its feed) to the moment a search finds it; p50, p95
and max (target: p95 <= 90 s); items lost (never found within ``--grace`` seconds after the last
publication) and items indexed more than once (both must be 0); the requests the site answered.
The baseline is the hourly schedule of the scheduled DAGs, computed from the schedule: an item
waits for the next top of the hour, then for an ingestion run as long as the median stream run
measured here.

    python bench/bench_freshness.py [--data DIR ...] [--minutes 10] [--every 20] [--feeds 3]
                                    [--min-interval 30s] [--max-interval 15m]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = next((p for p in (REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data") if p.is_dir()),
                   REPO.parent / "shared" / "data")  # ../shared/data, or two up from a worktree under wt/
DEFAULT_DATA = [SHARED_DATA / "article-extraction-benchmark", SHARED_DATA / "trafilatura-eval"]
PREFIX = "bench-fresh"
FEED_ITEMS = 20  # newest items a feed lists
TARGET_P95 = 90.0
HOUR = 3600.0
AIRFLOW = str(Path(sys.executable).parent / "airflow")
LOAD_AT_START = os.getloadavg()[0]


# ---------------------------------------------------------------- pages


def article_pages(dirs: list[Path], wanted: int) -> list[bytes]:
    """``wanted`` real pages that the pipeline's extractor takes for articles (others would never be indexed)."""
    from newswire.models import Entry, Page
    from newswire.workers import process_pages

    pages: list[bytes] = []
    for folder in dirs:
        for line in open(folder / "ground-truth.jsonl", encoding="utf-8"):
            rel = json.loads(line).get("html")
            path = folder / rel if rel else None
            if path is None or not path.exists():
                continue
            body = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            url = f"http://127.0.0.1/check/{len(pages)}.html"
            page = Page(url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body,
                        fetched_at=datetime.now(timezone.utc))
            (item,) = process_pages([(Entry(url=url, source="check"), page)]).items
            if item.article is not None:
                pages.append(body)
            if len(pages) >= wanted:
                return pages
    raise SystemExit(f"only {len(pages)} article pages in {', '.join(map(str, dirs))}; {wanted} needed")


# ---------------------------------------------------------------- the site


@dataclass(frozen=True, slots=True)
class Item:
    feed: int
    number: int
    url: str
    published: float  # time.time() when it entered its feed


class Site:
    """Feeds that grow on a timetable, their pages, and a log of what was asked."""

    def __init__(self, feeds: int, pages: list[bytes]):
        self.feeds = feeds
        self._pages = pages
        self._lock = threading.Lock()
        self.items: list[Item] = []
        self.requests: Counter[tuple[str, int]] = Counter()  # (feed|page|other, status)
        self.first_served: dict[str, float] = {}  # item URL -> first time a feed answer listed it (detection)
        self.polled = threading.Event()  # a feed was requested: the watcher is running
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def publish(self, feed: int) -> Item:
        with self._lock:
            number = sum(1 for i in self.items if i.feed == feed)
            item = Item(feed=feed, number=number, url=f"{self.base}/feed{feed}/story-{number}.html",
                        published=time.time())
            self.items.append(item)
            return item

    def _feed(self, feed: int) -> tuple[list[Item], bytes, str, str]:
        with self._lock:
            items = [i for i in self.items if i.feed == feed][-FEED_ITEMS:][::-1]
        entries = "".join(
            f"<item><title>Story {i.number} of feed {feed}</title><link>{escape(i.url)}</link>"
            f"<guid>{escape(i.url)}</guid>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(i.published, timezone.utc))}</pubDate></item>"
            for i in items
        )
        body = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
                f"<link>{self.base}/</link><description>bench</description>{entries}</channel></rss>").encode()
        newest = items[0].published if items else 0.0
        return items, body, f'"{feed}-{len(items)}-{items[0].number if items else -1}"', format_datetime(
            datetime.fromtimestamp(int(newest), timezone.utc), usegmt=True)

    def served(self, items: list[Item]) -> None:
        now = time.time()
        with self._lock:
            for item in items:
                self.first_served.setdefault(item.url, now)

    def _page(self, path: str) -> bytes | None:
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("feed") or not parts[1].startswith("story-"):
            return None
        feed, number = int(parts[0][4:]), int(parts[1][6:].removesuffix(".html"))
        with self._lock:
            known = any(i.feed == feed and i.number == number for i in self.items)
        return self._pages[number * self.feeds + feed] if known else None

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.startswith("/feed") and path.endswith(".xml"):
                    site.polled.set()
                    items, body, etag, modified = site._feed(int(path[5:-4]))
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, b"", "feed", {"ETag": etag, "Last-Modified": modified})
                    self._send(200, body, "feed", {"ETag": etag, "Last-Modified": modified,
                                                   "Content-Type": "application/rss+xml"})
                    return site.served(items)
                page = site._page(path)
                if page is not None:
                    return self._send(200, page, "page", {"Content-Type": "text/html; charset=utf-8"})
                self._send(404, b"not found", "other", {"Content-Type": "text/plain"})

            def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str]) -> None:
                with site._lock:
                    site.requests[(kind, status)] += 1
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler


# ---------------------------------------------------------------- Airflow


def airflow_env(home: Path, es_url: str, sources: Path, api_port: int) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("ELASTICSEARCH_URL", None)
    host, port = es_url.removeprefix("http://").split(":")
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # only newswire_stream is unpaused
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # Airflow's advice for a loaded machine: tasks wait longer for the API server before giving up.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW_CONN_NEWSWIRE_ES": json.dumps({"conn_type": "elasticsearch", "host": host, "port": int(port),
                                                "schema": "http"}),
        "NEWSWIRE_SOURCES": str(sources),
        "NEWSWIRE_INDEX_PREFIX": PREFIX,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_airflow(env: dict[str, str], api_port: int, timeout: float = 900.0) -> None:
    """Until the API server answers (tasks talk to it) and the stream DAG is parsed and unpaused."""
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/api/v2/monitor/health", timeout=5):
                break
        except OSError:
            time.sleep(2)
    while time.time() < deadline:
        done = subprocess.run([AIRFLOW, "dags", "unpause", "newswire_stream"], env=env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode == 0:
            return
        time.sleep(5)
    raise SystemExit("Airflow did not come up (API server or the newswire_stream DAG)")


# ---------------------------------------------------------------- measuring


class Observer:
    """Polls Elasticsearch each second for published items it has not found yet."""

    def __init__(self, es, site: Site):
        self.es = es
        self.site = site
        self.found: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def missing(self) -> list[Item]:
        return [i for i in list(self.site.items) if i.url not in self.found]

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            wanted = [i.url for i in self.missing()]
            if not wanted:
                continue
            try:
                hits = self.es.search(index=f"{PREFIX}-articles", query={"terms": {"url": wanted}}, size=len(wanted),
                                      source=["url"], ignore_unavailable=True)["hits"]["hits"]
            except Exception as exc:  # noqa: BLE001 - keep measuring through a hiccup
                print(f"  (search failed: {exc})", flush=True)
                continue
            now = time.time()
            for hit in hits:
                self.found.setdefault(hit["_source"]["url"], now)


def percentile(values: list[float], pct: float) -> float:
    from newswire.index.state import percentile as pct_of

    return pct_of(values, pct)


def stats_line(label: str, lags: list[float]) -> str:
    return (f"{label:<34} n={len(lags):<4} p50={percentile(lags, 50):8.1f}s  p95={percentile(lags, 95):8.1f}s  "
            f"max={max(lags):8.1f}s")


def stream_runs(es) -> list[dict]:
    hits = es.search(index=f"{PREFIX}-runs", query={"term": {"kind": "run"}}, size=1000,
                     ignore_unavailable=True)["hits"]["hits"]
    return [h["_source"] for h in hits]


def duplicates(es) -> int:
    """URLs held by more than one article document, and documents beyond one per URL."""
    aggs = es.search(index=f"{PREFIX}-articles", size=0,
                     aggs={"urls": {"terms": {"field": "url", "min_doc_count": 2, "size": 1000}}})["aggregations"]
    return sum(b["doc_count"] - 1 for b in aggs["urls"]["buckets"])


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, action="append", help="dataset folder (ground-truth.jsonl + html/)")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=20.0, help="seconds between two articles of one feed")
    parser.add_argument("--feeds", type=int, default=3)
    parser.add_argument("--min-interval", default="30s")
    parser.add_argument("--max-interval", default="15m")
    parser.add_argument("--grace", type=float, default=240.0, help="seconds to wait for the last items")
    parser.add_argument("--keep", action="store_true", help="keep the Airflow home (logs) afterwards")
    args = parser.parse_args()

    from elasticsearch import Elasticsearch

    from newswire import es_local, pipeline
    from newswire.settings import Settings

    per_feed = int(args.minutes * 60 // args.every)
    print(f"selecting {per_feed * args.feeds} article pages ...", flush=True)
    pages = article_pages(args.data or DEFAULT_DATA, per_feed * args.feeds)
    site = Site(args.feeds, pages)
    site.start()
    work = Path(tempfile.mkdtemp(prefix="bench-freshness-"))
    sources = work / "sources.yaml"
    sources.write_text(yaml.safe_dump({
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "schedule": None, "rate_limit": 2, "language": "en",
                     "watch": {"min_interval": args.min_interval, "max_interval": args.max_interval}},
        "sources": [{"name": f"feed{n}", "type": "feed", "url": f"{site.base}/feed{n}.xml"} for n in range(args.feeds)],
    }))

    airflow = None
    print("starting Elasticsearch ...", flush=True)
    with es_local.running_server(heap="1g", timeout=900) as info:  # a loaded machine starts it slowly
        es = Elasticsearch(info.url, request_timeout=60)
        try:
            pipeline.prepare_indices(Settings(es_url=info.url, index_prefix=PREFIX))
            api_port = free_port()
            env = airflow_env(work / "airflow", info.url, sources, api_port)
            subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
            print(f"starting Airflow standalone (API on :{api_port}; home {work / 'airflow'}) ...", flush=True)
            log = open(work / "standalone.log", "w")
            airflow = subprocess.Popen([AIRFLOW, "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # its own process group, stopped as a whole
            started = time.time()
            wait_for_airflow(env, api_port)
            if not site.polled.wait(timeout=900):
                raise SystemExit(f"the watcher never polled a feed; see {work / 'standalone.log'}")
            print(f"the watcher polled a feed {time.time() - started:.0f}s after Airflow started; publishing for "
                  f"{args.minutes:g} min: one article every {args.every:g}s on each of {args.feeds} feeds", flush=True)

            observer = Observer(es, site)
            observer.start()
            t0 = time.time()
            for k in range(per_feed * args.feeds):
                due = t0 + (k // args.feeds) * args.every + (k % args.feeds) * args.every / args.feeds
                time.sleep(max(0.0, due - time.time()))
                site.publish(k % args.feeds)
            last = time.time()
            while observer.missing() and time.time() - last < args.grace:
                time.sleep(1)
            observer.stop()
            es.indices.refresh(index=f"{PREFIX}-*")
            report(site, observer, es, args, t0)
        finally:
            if airflow is not None:
                os.killpg(airflow.pid, signal.SIGTERM)
                try:
                    airflow.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(airflow.pid, signal.SIGKILL)
            es.close()
            site.stop()
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    return 0


def report(site: Site, observer: Observer, es, args, t0: float) -> None:
    items = list(site.items)
    print(f"\n{'feed':>4} {'item':>4} {'published':>10} {'seen in feed':>13} {'searchable after':>17}")
    lags, detections = [], []
    for item in items:
        found = observer.found.get(item.url)
        served = site.first_served.get(item.url)
        lag = None if found is None else found - item.published
        detect = None if served is None else served - item.published
        if lag is not None:
            lags.append(lag)
        if detect is not None:
            detections.append(detect)
        print(f"{item.feed:>4} {item.number:>4} {item.published - t0:>9.1f}s "
              f"{'-' if detect is None else f'{detect:.1f}s':>13} {'LOST' if lag is None else f'{lag:.1f}s':>17}")
    runs = stream_runs(es)
    run_seconds = [r["duration_seconds"] for r in runs if r.get("duration_seconds") is not None]
    median_run = statistics.median(run_seconds) if run_seconds else 0.0
    lost = len(items) - len(lags)
    twice = duplicates(es)
    hours = max(time.time() - t0, 1.0) / HOUR
    req = site.requests
    feed_requests = req[("feed", 200)] + req[("feed", 304)]

    print(f"\nitems published: {len(items)} on {args.feeds} feeds over {args.minutes:g} min; "
          f"watch min_interval {args.min_interval}, max_interval {args.max_interval}")
    print(f"stream runs: {len(runs)}; median run {median_run:.1f}s (from the run reports)")
    print(f"load average (1 min) at start {LOAD_AT_START:.1f}, now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"lost (not searchable {args.grace:g}s after the last publication): {lost}")
    print(f"indexed more than once: {twice}")
    print(f"site requests: feed {req[('feed', 200)]} x 200 + {req[('feed', 304)]} x 304 "
          f"({feed_requests / hours / args.feeds:.0f} per feed-hour), pages {req[('page', 200)]}, "
          f"other {sum(v for (k, _), v in req.items() if k == 'other')}")
    if detections:
        print(stats_line("first read of the feed listing it", detections))
    if lags:
        print(stats_line("stream (measured)", lags))
    # The hourly schedule, computed: each item waits for the next top of the hour, then one run.
    hourly_actual = [HOUR - (i.published % HOUR) + median_run for i in items]
    print(stats_line("hourly schedule (these items)", hourly_actual))
    phase = [HOUR * (n + 0.5) / 1000 + median_run for n in range(1000)]
    print(stats_line("hourly schedule (any time of day)", phase))
    print(f"hourly schedule requests: 1 feed request per feed-hour, plus the same pages")
    verdict = lags and percentile(lags, 95) <= TARGET_P95 and lost == 0 and twice == 0
    print(f"\ntarget p95 <= {TARGET_P95:.0f}s, none lost, none twice: {'MET' if verdict else 'NOT MET'}")


if __name__ == "__main__":
    sys.exit(main())

"""The production topology as local processes: one object to start, use and stop it.

``Stack.running(...)`` starts a local news site, Postgres, Redis, a three-node secured
Elasticsearch and Airflow with two Celery workers, all on 127.0.0.1, and stops every process
when the block ends. Used by the stack tests (``tests/stack``) and ``bench/bench_topology.py``.
"""

from __future__ import annotations

import contextlib
import gzip
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from support.webserver import Route, WebServer

from .airflow import Airflow, dotenv_for
from .services import ESCluster, Postgres, Redis, secret

REPO = Path(__file__).resolve().parents[2]
FIXTURE_PAGES = REPO / "tests" / "fixtures" / "pages"
DAG_ID = "newswire_ingest"
INDEX_PREFIX = "newswire"  # the compose default (NEWSWIRE_INDEX_PREFIX unset)
MAX_DOCS = 5000  # an audit reads at most this many articles


@dataclass(frozen=True, kw_only=True)
class Site:
    """The local news site: which feed lists which page."""

    feeds: dict[str, list[str]]  # source name -> page URLs it lists
    pages: dict[str, str]  # URL -> original page file name

    @property
    def urls(self) -> set[str]:
        return set(self.pages)


def serve_site(server: WebServer, pages_dir: Path, *, feeds: int, shared: int, limit: int | None = None,
               delay: float = 0.0) -> Site:
    """Real article pages split between ``feeds`` RSS feeds; ``shared`` of them also appear in the next feed.

    A shared page is listed by a second source under another URL (``/syndicated/...``, the
    same bytes): the same story reaching two sources fetched in parallel, which the run's
    reconcile step must merge into one cluster. ``delay`` seconds before each page answers
    keeps the ingest tasks running long enough to be interrupted.
    """
    files = sorted(pages_dir.glob("*.html.gz"))[:limit]
    if len(files) < feeds:
        raise ValueError(f"{pages_dir}: {len(files)} pages for {feeds} feeds")
    listing: dict[str, list[tuple[str, str]]] = {f"wire-{i}": [] for i in range(feeds)}
    pages: dict[str, str] = {}
    base = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
    for n, file in enumerate(files):
        html = gzip.decompress(file.read_bytes())
        slug = file.name.removesuffix(".html.gz")
        routes = [(f"/news/{slug}.html", n % feeds)]
        if n < shared:
            routes.append((f"/syndicated/{slug}.html", (n + 1) % feeds))
        for path, feed in routes:
            url = server.add(path, Route(body=html, delay=delay))
            pages[url] = file.name
            listing[f"wire-{feed}"].append((url, f"story {n}"))
    for name, items in listing.items():
        entries = "".join(
            f"<item><title>{escape(title)}</title><link>{escape(url)}</link><guid>{escape(url)}</guid>"
            f"<pubDate>{format_datetime(base + timedelta(minutes=i))}</pubDate></item>"
            for i, (url, title) in enumerate(items)
        )
        server.add(f"/{name}.xml", body=f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                   f"<title>{name}</title><link>{server.base_url}/</link><description>local wire</description>"
                   f"{entries}</channel></rss>", content_type="application/rss+xml; charset=utf-8")
    server.robots("User-agent: *\nAllow: /\n")
    return Site(feeds={name: [url for url, _ in items] for name, items in listing.items()}, pages=pages)


def write_sources(path: Path, server: WebServer, site: Site) -> Path:
    """The sources file: one feed source per wire (loopback allowed explicitly, no schedule)."""
    entries = "".join(f"""  - name: {name}
    type: feed
    url: {server.url(f"/{name}.xml")}
    schedule: null
""" for name in site.feeds)
    path.write_text(f"""defaults:
  allowed_networks: [127.0.0.1/32]   # the local news site is on loopback
  rate_limit: 50
  max_concurrency: 2
  max_items: 500
  retries: 1
sources:
{entries}""", encoding="utf-8")
    return path


@dataclass(frozen=True, kw_only=True)
class RunResult:
    run_id: str
    state: str
    seconds: float
    task_instances: list[dict]
    merged: int  # articles the reconcile task updated (XCom)

    def mapped(self) -> list[dict]:
        return [ti for ti in self.task_instances if ti["task_id"] == "ingest_source"]


@dataclass(frozen=True, kw_only=True)
class Audit:
    """What the articles index holds after a run."""

    versions: dict[str, int]  # article id -> _version
    urls: dict[str, str]  # article id -> url
    count: int  # the count API's answer, against the search's

    @property
    def writes(self) -> int:
        return sum(self.versions.values())


@dataclass(kw_only=True)
class Stack:
    web: WebServer
    site: Site
    postgres: Postgres
    redis: Redis
    es: ESCluster
    airflow: Airflow
    started_seconds: float
    hosts_seen: set[str] = field(default_factory=set)  # worker hosts that ran a mapped ingest_source

    @classmethod
    @contextlib.contextmanager
    def running(cls, *, pages_dir: Path = FIXTURE_PAGES, feeds: int = 4, shared: int = 4, limit: int | None = None,
                delay: float = 0.0, workers: int = 2, worker_concurrency: int = 2,
                es_heap: str = "512m") -> Iterator["Stack"]:
        started = time.monotonic()
        with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="newswire-stack-") as tmp:
            web = stack.enter_context(WebServer())
            site = serve_site(web, pages_dir, feeds=feeds, shared=shared, limit=limit, delay=delay)
            sources = write_sources(Path(tmp) / "sources.yaml", web, site)
            postgres = Postgres.start(password=secret())
            stack.callback(postgres.stop)
            redis = Redis.start(password=secret())
            stack.callback(redis.stop)
            # Airflow's database set-up runs while the nodes start; newswire-init waits for green.
            es = ESCluster.start(heap=es_heap, newswire_password=secret(), index_prefix=INDEX_PREFIX, wait=False)
            stack.callback(es.stop)
            airflow = Airflow.start(postgres=postgres, redis=redis, es=es, sources=sources, workers=workers,
                                    dotenv=dotenv_for(es, postgres, redis, worker_concurrency=worker_concurrency))
            stack.callback(airflow.stop)
            airflow.wait_dag(DAG_ID)
            airflow.api.unpause(DAG_ID)
            yield cls(web=web, site=site, postgres=postgres, redis=redis, es=es, airflow=airflow,
                      started_seconds=time.monotonic() - started)

    def reset(self) -> None:
        """Empty newswire's indices (and so its source state), then set up again as newswire-init does."""
        with self.es.client() as es:
            es.indices.delete(index=f"{INDEX_PREFIX}-*", expand_wildcards="all", ignore_unavailable=True,
                              allow_no_indices=True)
        self.airflow.newswire_init()
        self.web.clear_log()

    def run_ingest(self, timeout: float = 900, on_poll=None) -> RunResult:
        """Trigger the ingestion DAG through the REST API and wait for it through the API."""
        api = self.airflow.api
        started = time.monotonic()
        run_id = api.trigger(DAG_ID)
        state = api.wait_run(DAG_ID, run_id, timeout, on_poll=on_poll)
        seconds = time.monotonic() - started
        tis = api.task_instances(DAG_ID, run_id)
        for ti in tis:
            if ti["task_id"] == "ingest_source" and ti["state"] == "success" and ti.get("hostname"):
                self.hosts_seen.add(ti["hostname"])
        merged = api.xcom(DAG_ID, run_id, "reconcile") if state == "success" else 0
        return RunResult(run_id=run_id, state=state, seconds=seconds, task_instances=tis, merged=int(merged or 0))

    def audit(self) -> Audit:
        """Every article document with its ``_version`` (read as the superuser, after a refresh)."""
        alias = f"{INDEX_PREFIX}-articles"
        with self.es.client() as es:
            es.indices.refresh(index=alias)
            count = es.count(index=alias)["count"]
            hits = es.search(index=alias, size=MAX_DOCS, version=True, source=["url"], query={"match_all": {}},
                             track_total_hits=True)["hits"]["hits"]
        return Audit(versions={h["_id"]: h["_version"] for h in hits}, urls={h["_id"]: h["_source"]["url"] for h in hits},
                     count=count)

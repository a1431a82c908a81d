"""Compose the stages for one source's batch, and the run-level steps around them.

``ingest_source`` is what one mapped Airflow task (or ``newswire run``) does for one
source: discover entries, skip what the index already holds, fetch, extract, score
claims, fingerprint and cluster, index, and save the source's state. Item-level
problems (a broken page, a page with no article) are counted in the returned
``SourceReport`` and the batch goes on; Elasticsearch errors propagate, so the task
fails and Airflow's retry finishes the work (ids are deterministic and already
indexed entries are skipped, so nothing is indexed twice).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from typing import TYPE_CHECKING

from elasticsearch import Elasticsearch

from newswire.config import SourceConfig, SourcesConfig
from newswire.fetch import Fetcher, FetchPolicy
from newswire.index.admin import ensure_indices
from newswire.index.bulk import (
    BulkOptions, add_entry_urls, article_document, delete_stale_claims, index_articles, index_claims,
)
from newswire.index.claim_groups import update_groups
from newswire.index.clusters import assign_clusters, duplicates_since, reconcile
from newswire.index.story_claims import sync_story_claims, touched_clusters
from newswire.index.state import known_urls, load_state, remember_rejected, save_state, write_run_report
from newswire.models import Article, Entry, Fingerprint, ItemOutcome, Page, RunReport, SourceReport
from newswire.settings import Settings
from newswire.sources import discover
from newswire.sources.directory import read_entry
from newswire.workers import PageProcessor, PendingChunk, PendingScores, Processed

if TYPE_CHECKING:
    from newswire.claims import ClaimExtractor

log = logging.getLogger(__name__)

TASK_FAILED = "task failed after its retries: see its Airflow log"
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5"
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")  # others fail before their body is read
CHUNK_SIZE = 50  # entries fetched, extracted and indexed together: memory stays flat however long the feed
CHUNKS_IN_FLIGHT = 2  # chunks being extracted before this thread settles the oldest
UNREFRESHED = BulkOptions(refresh=False)
NEW_ARTICLES = BulkOptions(create=True)  # an article another source wrote first is left as it is
PARALLEL_SOURCES = 4  # sources `newswire run` ingests at once, as the DAG's max_active_tis_per_dagrun


@dataclass(kw_only=True, slots=True)
class Stages:
    """What is costly to build (the claim model, worker processes) and is reused across sources in one process.

    Close it when done (or use it as a context manager): that stops the workers.
    """

    claims: ClaimExtractor | None = None  # None: articles are indexed without claims
    claims_model: str | None = None
    processor: PageProcessor = field(default_factory=lambda: PageProcessor(None))

    @classmethod
    def load(cls, workers: int = 1) -> "Stages":
        """The claim model, and up to ``workers`` processes for extraction and claims (started when needed)."""
        from newswire.claims import ClaimExtractor
        from newswire.claims.embedding import ClaimEmbedder

        extractor = ClaimExtractor()  # loads the ONNX model: once per task, or once per `newswire run`
        embedder = ClaimEmbedder()  # claim vectors for claim groups; worker processes load their own
        return cls(claims=extractor, claims_model=claims_model_id(extractor),
                   processor=PageProcessor(extractor, workers=workers, embedder=embedder))

    def close(self) -> None:
        self.processor.close()

    def __enter__(self) -> "Stages":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def claims_model_id(extractor) -> str:
    """A short id of the claim model (its metadata names the artefact's hash), stored with each article.

    The maintenance DAG re-scores articles whose stored id differs from the current one.
    """
    metadata = json.dumps(extractor.scorer.info.metadata, sort_keys=True).encode()
    return hashlib.sha256(metadata).hexdigest()[:16]


@contextmanager
def es_session(settings: Settings) -> Iterator[Elasticsearch]:
    """A client for the duration of one task; never kept in a global."""
    client = settings.es_client()
    try:
        yield client
    finally:
        client.close()


class _Timer:
    """Adds each stage's wall time to the report's ``durations``."""

    def __init__(self, report: SourceReport):
        self.report = report

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.report.durations[stage] = round(
                self.report.durations.get(stage, 0.0) + time.monotonic() - started, 4
            )


def prepare_indices(settings: Settings) -> dict:
    """Create templates, versioned indices and aliases if missing (idempotent)."""
    with es_session(settings) as es:
        return ensure_indices(es, settings.index_prefix)


def _fetch_pages(source: SourceConfig, entries: list[Entry], fetcher) -> list[Page | Exception]:
    """The entries' pages in entry order; a failure is returned in its slot, never raised."""
    if source.type == "directory":
        pages: list[Page | Exception] = []
        for entry in entries:
            try:
                pages.append(read_entry(entry, max_bytes=int(source.max_bytes)))
            except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the batch
                pages.append(exc)
        return pages
    return list(fetcher.fetch_many([entry.url for entry in entries], accept=PAGE_ACCEPT, content_types=PAGE_TYPES))


def ingest_source(
    source: SourceConfig,
    settings: Settings,
    *,
    stages: Stages | None = None,
    now: datetime | None = None,
) -> SourceReport:
    """Run one source's batch end to end and return its report.

    Raises:
        elasticsearch exceptions when the index cannot be read or written: the
        caller (an Airflow task) fails and is retried.
    """
    if stages is None:
        with Stages.load(workers=settings.worker_count) as own:
            return ingest_source(source, settings, stages=own, now=now)
    now = now or datetime.now(timezone.utc)
    prefix = settings.index_prefix
    report = SourceReport(source=source.name, started_at=now)
    timed = _Timer(report)

    with es_session(settings) as es, Fetcher(FetchPolicy.from_source(source)) as fetcher:
        with timed("discover"):
            state = load_state(es, source.name, prefix)
            discovery = discover(source, state, fetcher, now)
        report.seen = discovery.seen
        report.warning = discovery.warning[:500] if discovery.warning else None  # a parser message: bounded
        if discovery.warning:
            log.warning("source %s: feed recovered from %s", source.name, discovery.warning)
        report.failed.extend(o for o in discovery.errors if discovery.error is None or o.reason != discovery.error)
        if discovery.error is not None:
            report.status, report.error = "failed", discovery.error
        elif discovery.skipped is not None:
            report.status = "skipped"
            report.error = discovery.skipped
        elif discovery.not_modified:
            report.status = "not-modified"

        entries = discovery.entries
        new_state = discovery.new_state
        if entries:
            with timed("seen-check"):
                known = known_urls(es, [e.url for e in entries], now, prefix)
            new_entries = [e for e in entries if e.url not in known]
            report.skipped.extend(known[e.url] for e in entries if e.url in known)
            report.new = len(new_entries)
            stored_all = _ingest_entries(es, source, new_entries, fetcher, stages, report, timed, prefix, now)
            if report.claims:
                es.indices.refresh(index=f"{prefix}-claims")  # once per batch: nothing reads claims mid-run
                with timed("claim-groups"):
                    update_groups(es, prefix, since=now)
            if not stored_all:
                # Some writes were refused: keep the old validators so the next run reads the
                # feed again instead of getting a 304; the seen-check skips what was stored.
                new_state = replace(new_state, etag=state.etag, last_modified=state.last_modified,
                                    body_hash=state.body_hash)

        with timed("state"):
            save_state(es, new_state, prefix)

    if report.status == "ok" and report.failed:
        report.status = "partial"
    report.finished_at = datetime.now(timezone.utc)
    return report


def _ingest_entries(es: Elasticsearch, source: SourceConfig, entries: list[Entry], fetcher: Fetcher, stages: Stages,
                    report: SourceReport, timed: _Timer, prefix: str, now: datetime) -> bool:
    """Fetch, process and store new entries chunk by chunk; False if any write was refused.

    A chunk goes through two rounds of work in the workers: extraction, then (after dedup,
    for the articles that head their story) claims. While the workers run those, this thread
    stores the chunk before, settles the next one and fetches a third, so the workers never
    wait for it. Chunks are settled (deduplicated) in order, each after the one before was
    stored, so a copy of an article of an earlier chunk finds it in the index.
    """
    stored_all = True
    taken: set[str] = set()  # article ids of this run, across chunks
    extracting: deque[PendingChunk] = deque()
    scoring: deque[_Settled] = deque()

    def advance() -> bool:
        stored = _store_chunk(es, scoring.popleft(), report, timed, prefix, stages) if scoring else True
        if extracting:
            scoring.append(_settle_chunk(es, source, extracting.popleft(), report, timed, prefix, now, stages, taken))
        return stored

    try:
        for start in range(0, len(entries), CHUNK_SIZE):
            chunk = entries[start:start + CHUNK_SIZE]
            with timed("fetch"):
                pages = _fetch_pages(source, chunk, fetcher)
            fetched = []
            for entry, page in zip(chunk, pages):
                if isinstance(page, Exception):
                    report.failed.append(ItemOutcome.failure(entry.url, page))
                else:
                    fetched.append((entry, page))
            report.fetched += len(fetched)
            extracting.append(stages.processor.submit(fetched, batch_size=len(entries),
                                                      page_budget=source.page_timeout.total_seconds()))
            if len(extracting) > CHUNKS_IN_FLIGHT:
                stored_all &= advance()
        while extracting or scoring:
            stored_all &= advance()
    finally:
        for pending in extracting:  # an error above: nothing more is waited for
            pending.cancel()
        for settled in scoring:
            settled.scores.cancel()
    return stored_all


@dataclass(frozen=True, slots=True)
class _Settled:
    """A chunk after extraction and dedup: its new articles with their fingerprints, clusters and entries,
    and the pending claims of those that head their story (``scored``, in order)."""

    articles: list[Article]
    fingerprints: dict[str, Fingerprint]
    clusters: dict[str, dict]
    entries: dict[str, Entry]
    scored: list[str]
    scores: PendingScores


def _settle_chunk(es: Elasticsearch, source: SourceConfig, pending: PendingChunk, report: SourceReport,
                  timed: _Timer, prefix: str, now: datetime, stages: Stages, taken: set[str]) -> _Settled:
    """Wait for a chunk's extraction, report what is not an article, cluster the rest, and start scoring the claims
    of the articles that head their story (a copy's claims are its canonical's)."""
    with timed("wait"):  # time this thread waited for the CPU-bound stages
        batches = pending.results()
    processed: list[Processed] = []
    for batch in batches:
        processed.extend(batch.items)
        _add_seconds(report, batch.seconds)
    articles: list[Article] = []
    entry_of: dict[str, Entry] = {}
    fingerprints: dict[str, Fingerprint] = {}
    rejected: list[tuple[list[str], str]] = []
    for item in processed:
        if item.article is None:
            (report.failed if item.failed else report.skipped).append(item.outcome)
            if not item.failed and item.outcome is not None:
                rejected.append(([item.entry.url, *item.urls], item.outcome.reason))
        elif item.article.id in taken:  # two entries whose pages name the same canonical URL
            report.skipped.append(ItemOutcome(url=item.article.url, reason="same-canonical-url"))
        else:
            taken.add(item.article.id)
            articles.append(item.article)
            entry_of[item.article.id] = item.entry
            fingerprints[item.article.id] = item.fingerprint
    if rejected:
        with timed("state"):
            remember_rejected(es, rejected, source.name, now, now + source.remember_rejected, prefix)
    clusters: dict[str, dict] = {}
    if articles:
        with timed("dedup"):
            clusters = assign_clusters(es, [(a, fingerprints[a.id]) for a in articles], prefix)
    heads = [a for a in articles if clusters.get(a.id, {}).get("is_canonical", True)]
    return _Settled(articles=articles, fingerprints=fingerprints, clusters=clusters, entries=entry_of,
                    scored=[a.id for a in heads], scores=stages.processor.score(heads))


def _add_seconds(report: SourceReport, seconds: dict[str, float]) -> None:
    for stage, spent in seconds.items():
        report.durations[stage] = round(report.durations.get(stage, 0.0) + spent, 4)


def _store_chunk(es: Elasticsearch, settled: _Settled, report: SourceReport, timed: _Timer, prefix: str,
                 stages: Stages) -> bool:
    """Wait for a settled chunk's claims, then write its articles and claims; False if any write was refused."""
    with timed("wait"):
        scores = settled.scores.results()
    _add_seconds(report, scores.seconds)
    if not settled.articles:
        return True
    claims_of = dict(zip(settled.scored, scores.claims))
    articles = [replace(a, claims=claims_of.get(a.id, [])) for a in settled.articles]
    entry_of, fingerprints, clusters = settled.entries, settled.fingerprints, settled.clusters
    with timed("index"):
        written_at = datetime.now(timezone.utc)  # indexed_at: the write time, not the batch's start
        docs = [article_document(a, fingerprints[a.id], clusters.get(a.id), indexed_at=written_at,
                                 entry_url=entry_of[a.id].url) for a in articles]
        if stages.claims_model:
            for doc in docs:
                doc["claims_model"] = stages.claims_model
        # Claims first: the article is what the next run's seen-check looks for, so a run
        # that stops between the two writes redoes both rather than leaving claims out.
        claims = index_claims(es, list(zip(articles, docs)), prefix, options=UNREFRESHED)
        report.failed.extend(claims.outcomes())
        result = index_articles(es, docs, prefix, options=NEW_ARTICLES)
        report.failed.extend(result.outcomes())
        report.dead_lettered += claims.dead_lettered + result.dead_lettered
        report.deadletter_failed += claims.deadletter_failed + result.deadletter_failed
        report.stale_claims_failed += claims.stale_claims_failed
        failed_ids = {f.id for f in result.failed}
        if failed_ids:  # their claims must not outlive them; the next run writes both again
            report.stale_claims_failed += delete_stale_claims(es, sorted(failed_ids), set(), prefix)[1]
        existed = set(result.existed)
        if existed:  # written first by another source: this one's link now leads there too
            add_entry_urls(es, [d for d in docs if d["id"] in existed], prefix)
        for doc in docs:
            if doc["id"] in existed:
                report.skipped.append(ItemOutcome(url=doc["url"], reason="already-indexed"))
            elif doc["id"] not in failed_ids:
                report.indexed += 1
                report.claims += doc.get("claim_count", 0)
                if (lag := doc.get("freshness_lag_seconds")) is not None:  # article_document computed it
                    report.freshness_lag_seconds.append(round(lag, 1))
    return not (result.failed or claims.failed)


def reconcile_run(settings: Settings, since: datetime) -> int:
    """Merge clusters across sources fetched in parallel during this run; returns documents updated.

    Then the claims of every story touched in the run are stored once, under its (maybe new)
    canonical, listing all the outlets that carried it.
    """
    with es_session(settings) as es:
        merged = reconcile(es, settings.index_prefix, since=since)
        sync_story_claims(es, settings.index_prefix, touched_clusters(es, settings.index_prefix, since))
        update_groups(es, settings.index_prefix, since=since)  # across the sources of this run
        return merged


def write_report(settings: Settings, run_id: str, started_at: datetime, reports: list[SourceReport],
                 merged_clusters: int = 0) -> RunReport:
    """Store the run's report (one document per source plus a summary) for the dashboard.

    Call it after ``reconcile_run``: each source's ``duplicates`` is counted then, in the
    index (its articles of this run that are not their cluster's canonical), because the
    reconcile step moves canonical flags after the sources counted theirs.
    """
    with es_session(settings) as es:
        settled = duplicates_since(es, started_at, settings.index_prefix)
        reports = [replace(r, duplicates=settled.get(r.source, 0)) for r in reports]
        run = RunReport(run_id=run_id, started_at=started_at, finished_at=datetime.now(timezone.utc),
                        sources=reports, merged_clusters=merged_clusters)
        write_run_report(es, run, settings.index_prefix)
    return run


def new_run_id(started: datetime) -> str:
    """A run id no concurrent run shares: the start to the microsecond plus a random tag.

    Seconds were not enough: two runs started in the same second overwrote each other's report.
    """
    return f"manual__{started.strftime('%Y%m%dT%H%M%S.%f')}_{secrets.token_hex(4)}"


def run_once(config: SourcesConfig, settings: Settings, *, run_id: str | None = None,
             stages: Stages | None = None) -> RunReport:
    """The whole pipeline once, in this process, without a scheduler (``newswire run``).

    Sources run concurrently, at most ``PARALLEL_SOURCES`` at a time as in the DAG, each with
    its own fetcher (so per-host limits hold per source), sharing the claim model and the
    extraction workers; then reconcile, then the report.
    """
    if stages is None:
        with Stages.load(workers=settings.worker_count) as own:
            return run_once(config, settings, run_id=run_id, stages=own)
    started = datetime.now(timezone.utc)
    run_id = run_id or new_run_id(started)
    prepare_indices(settings)

    def one(source: SourceConfig) -> SourceReport:
        try:
            return ingest_source(source, settings, stages=stages, now=datetime.now(timezone.utc))
        except Exception as exc:  # noqa: BLE001 - reported; the other sources still run
            log.exception("source %s failed", source.name)
            return SourceReport(source=source.name, status="failed", error=f"{type(exc).__name__}: {exc}")

    sources = config.enabled
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_SOURCES, len(sources)))) as pool:
        reports = list(pool.map(one, sources))
    merged = reconcile_run(settings, since=started)
    return write_report(settings, run_id, started, reports, merged)


def latest_run(settings: Settings) -> RunReport | None:
    """The newest run report in the index, rebuilt from its summary and per-source documents."""
    from dataclasses import fields

    runs = f"{settings.index_prefix}-runs"
    with es_session(settings) as es:
        found = es.search(index=runs, query={"term": {"kind": "run"}}, sort=[{"@timestamp": "desc"}], size=1,
                          ignore_unavailable=True)["hits"]["hits"]
        if not found:
            return None
        summary = found[0]["_source"]
        docs = es.search(index=runs, query={"bool": {"filter": [{"term": {"kind": "source"}},
                                                               {"term": {"run_id": summary["run_id"]}}]}},
                         size=1000)["hits"]["hits"]
    names = {f.name for f in fields(SourceReport)}
    sources = [SourceReport.from_dict({k: v for k, v in d["_source"].items() if k in names}) for d in docs]
    return RunReport(run_id=summary["run_id"], started_at=datetime.fromisoformat(summary["started_at"]),
                     finished_at=datetime.fromisoformat(summary["finished_at"]),
                     sources=sorted(sources, key=lambda r: r.source),
                     merged_clusters=summary.get("merged_clusters", 0))


def reports_for(names: list[str], reports) -> list[SourceReport]:
    """One report per source of the run; a source whose task failed for good gets a failed report.

    ``reports`` holds the mapped tasks' return values; a failed task left none.
    """
    by_name: dict[str, SourceReport] = {}
    for item in reports or []:
        if item:
            report = SourceReport.from_dict(item)
            by_name[report.source] = report
    return [by_name.get(name) or SourceReport(source=name, status="failed", error=TASK_FAILED) for name in names]


def summary_lines(run: RunReport) -> list[str]:
    """A per-source table for people: counts, errors, and every failure reason with its count."""
    lines = [f"{'source':<24} {'status':<13} {'seen':>5} {'new':>5} {'indexed':>7} {'dups':>5} {'claims':>6} "
             f"{'skipped':>7} {'failed':>6}  note"]
    for r in run.sources:
        reasons = Counter(o.reason for o in r.failed)
        note = "; ".join(filter(None, [r.error, ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))]))
        lines.append(f"{r.source:<24} {r.status:<13} {r.seen:>5} {r.new:>5} {r.indexed:>7} {r.duplicates:>5} "
                     f"{r.claims:>6} {len(r.skipped):>7} {len(r.failed):>6}  {note}")
    return lines

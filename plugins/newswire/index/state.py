"""What the pipeline remembers in Elasticsearch: source state, seen URLs, rejected pages, run reports.

Reads here use realtime GET/mget (no refresh needed to see a write), so a run
sees what the previous task wrote a second ago.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from newswire.index import names
from newswire.index.documents import stored_datetime
from newswire.ids import url_key
from newswire.models import ItemOutcome, RunReport, SourceReport, SourceState, to_dict
from newswire.urls import canonicalize

log = logging.getLogger(__name__)

MGET_CHUNK = 1000
#: Outcomes listed per list (skipped, failed) in a run-report document; the rest are counted per
#: reason. 80,000 refused items in one document passed Elasticsearch's limit on objects per
#: document and failed the whole report.
MAX_LISTED_OUTCOMES = 500
_STATE_DATES = tuple(
    f.name for f in dataclasses.fields(SourceState) if "datetime" in str(f.type)
)


def load_state(es: Elasticsearch, source: str, prefix: str = names.DEFAULT_PREFIX) -> SourceState:
    """The stored state of a source, or a fresh one if it never ran."""
    try:
        doc = es.get(index=names.alias(prefix, "sources"), id=source)["_source"]
    except NotFoundError:
        return SourceState(source=source)
    known = {f.name for f in dataclasses.fields(SourceState)}
    values = {k: v for k, v in doc.items() if k in known}
    for key in _STATE_DATES:
        values[key] = stored_datetime(values.get(key))
    return SourceState(**values)


def save_state(es: Elasticsearch, state: SourceState, prefix: str = names.DEFAULT_PREFIX) -> None:
    """Store a source's state under its name.

    A partial update (fields that are None are stored as null): the state document also carries the
    stream watcher's pending mark (``newswire.watch.pending``), which this write must leave alone.
    """
    doc = {**to_dict(state), "updated_at": datetime.now(UTC).isoformat()}
    es.update(index=names.alias(prefix, "sources"), id=state.source, doc=doc, doc_as_upsert=True,
              retry_on_conflict=5, require_alias=True)


def known_urls(es: Elasticsearch, urls: Iterable[str], now: datetime,
               prefix: str = names.DEFAULT_PREFIX) -> dict[str, ItemOutcome]:
    """The URLs (entry links) not worth fetching, each with the skipped outcome that says why.

    ``already-indexed``: an article has this URL as its canonical URL (realtime ``mget`` on
    ``newswire.ids.url_key``) or was listed under it before (``entry_urls``: the link
    redirected, or the page named another canonical URL). ``already-rejected``: the URL
    led to a page that is not an article less than its source's ``remember_rejected``
    ago (the detail names the reason).
    """
    keys = {url: url_key(url) for url in dict.fromkeys(urls)}
    found: dict[str, ItemOutcome] = {}
    articles = names.alias(prefix, "articles")
    indexed = _found_ids(es, articles, list(keys.values()))
    for url, key in keys.items():
        if key in indexed:
            found[url] = ItemOutcome(url=url, reason="already-indexed")
    rest = [url for url in keys if url not in found]
    spellings = {canonicalize(url): url for url in rest}
    for start in range(0, len(spellings), MGET_CHUNK):
        chunk = list(spellings)[start : start + MGET_CHUNK]
        hits = es.search(index=articles, query={"terms": {"entry_urls": chunk}}, size=len(chunk) * 4,
                         source=["entry_urls"], track_total_hits=False)["hits"]["hits"]
        for hit in hits:
            for spelling in hit["_source"].get("entry_urls") or []:
                if spelling in spellings:
                    found[spellings[spelling]] = ItemOutcome(url=spellings[spelling], reason="already-indexed")
    rest = [url for url in rest if url not in found]
    outcomes = names.alias(prefix, "outcomes")
    for start in range(0, len(rest), MGET_CHUNK):
        chunk = rest[start : start + MGET_CHUNK]
        response = es.mget(index=outcomes, ids=[keys[url] for url in chunk])
        for url, doc in zip(chunk, response["docs"]):
            if doc.get("found") and (until := stored_datetime(doc["_source"].get("until"))) and until > now:
                found[url] = ItemOutcome(url=url, reason="already-rejected", detail=doc["_source"].get("reason"))
    return found


def _found_ids(es: Elasticsearch, index: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), MGET_CHUNK):
        response = es.mget(index=index, ids=ids[start : start + MGET_CHUNK], source=False)
        found.update(doc["_id"] for doc in response["docs"] if doc.get("found"))
    return found


def remember_rejected(es: Elasticsearch, rejected: list[tuple[list[str], str]], source: str, now: datetime,
                      until: datetime, prefix: str = names.DEFAULT_PREFIX) -> int:
    """Remember pages that are not articles, each under every URL it is known by; returns documents written.

    ``rejected`` holds (urls, reason) per page: its entry link, final URL and declared
    canonical URL, so another source listing any of them skips the page too.
    """
    target = names.alias(prefix, "outcomes")
    actions = [
        {"_index": target, "_id": url_key(url),
         "_source": {"url": url, "reason": reason, "source": source, "checked_at": now.isoformat(),
                     "until": until.isoformat()}}
        for urls, reason in rejected for url in dict.fromkeys(u for u in urls if u)
    ]
    if not actions:
        return 0
    written, _ = helpers.bulk(es, actions, require_alias=True, raise_on_error=False)
    return written


def _lag_stats(lags: list[float]) -> dict[str, float]:
    if not lags:
        return {}
    return {
        "freshness_lag_median_seconds": float(statistics.median(lags)),
        "freshness_lag_p95_seconds": percentile(lags, 95),
        "freshness_lag_max_seconds": float(max(lags)),
    }


def percentile(values: list[float], pct: float) -> float:
    """The ``pct``-th percentile (linear between closest ranks, as numpy's default); values non-empty."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


#: What a refused run-report document is rewritten with: identity, status and counts.
_COUNTS_ONLY = frozenset({
    "@timestamp", "kind", "run_id", "source", "status", "error", "started_at", "finished_at", "seen", "new",
    "fetched", "indexed", "duplicates", "claims", "skipped_count", "failed_count", "sources", "sources_failed",
    "dead_lettered", "deadletter_failed", "stale_claims_failed", "warning",
})


def listed_outcomes(outcomes: list[ItemOutcome], limit: int = MAX_LISTED_OUTCOMES) -> list[dict[str, Any]]:
    """The first ``limit`` outcomes, then one line per reason counting those left out."""
    listed = [to_dict(o) for o in outcomes[:limit]]
    rest = Counter(o.reason for o in outcomes[limit:])
    listed += [{"url": "", "reason": reason, "detail": f"{count} more not listed"} for reason, count in rest.most_common()]
    return listed


def source_report_document(run_id: str, report: SourceReport, timestamp: str) -> dict[str, Any]:
    """The run-report document of one source in one run (outcome lists capped, see ``listed_outcomes``)."""
    data = to_dict(report)
    data["skipped"] = listed_outcomes(report.skipped)
    data["failed"] = listed_outcomes(report.failed)
    lags = data.pop("freshness_lag_seconds")
    doc = {
        **data,
        **_lag_stats(lags),
        "@timestamp": timestamp,
        "kind": "source",
        "run_id": run_id,
        "skipped_count": len(report.skipped),
        "failed_count": len(report.failed),
        "duplicate_ratio": report.duplicates / report.indexed if report.indexed else 0.0,
    }
    if report.started_at and report.finished_at:
        doc["duration_seconds"] = (report.finished_at - report.started_at).total_seconds()
    return {k: v for k, v in doc.items() if v is not None}


def run_summary_document(report: RunReport, timestamp: str) -> dict[str, Any]:
    """The summary document of a run: totals over its sources."""
    totals = {
        key: sum(getattr(s, key) for s in report.sources)
        for key in ("seen", "new", "fetched", "indexed", "duplicates", "claims", "dead_lettered",
                    "deadletter_failed", "stale_claims_failed")
    }
    lags = [lag for s in report.sources for lag in s.freshness_lag_seconds]
    return {
        "@timestamp": timestamp,
        "kind": "run",
        "run_id": report.run_id,
        "status": "ok" if all(s.status != "failed" for s in report.sources) else "partial",
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "duration_seconds": (report.finished_at - report.started_at).total_seconds(),
        "sources": len(report.sources),
        "sources_failed": sum(1 for s in report.sources if s.status == "failed"),
        **totals,
        "duplicate_ratio": totals["duplicates"] / totals["indexed"] if totals["indexed"] else 0.0,
        "skipped_count": sum(len(s.skipped) for s in report.sources),
        "failed_count": sum(len(s.failed) for s in report.sources),
        "merged_clusters": report.merged_clusters,
        **_lag_stats(lags),
    }


def write_run_report(es: Elasticsearch, report: RunReport, prefix: str = names.DEFAULT_PREFIX) -> int:
    """Write one document per source plus a run summary to ``{prefix}-runs``; returns how many.

    Ids are ``<run_id>:<source>`` and ``<run_id>:_run``, so re-reporting a run replaces
    its documents. All documents carry ``@timestamp`` = the run's finish time, the
    time field of the Kibana dashboard.
    """
    target = names.alias(prefix, "runs")
    timestamp = report.finished_at.isoformat()
    actions = [
        {"_index": target, "_id": f"{report.run_id}:{s.source}", "_source": source_report_document(report.run_id, s, timestamp)}
        for s in report.sources
    ]
    actions.append({"_index": target, "_id": f"{report.run_id}:_run", "_source": run_summary_document(report, timestamp)})
    written, errors = helpers.bulk(es, actions, refresh=True, require_alias=True, raise_on_error=False)
    if not errors:
        return written
    # A refused document must not cost the run its report: write it again with its counts
    # only, saying why it was refused.
    retry = []
    by_id = {a["_id"]: a for a in actions}
    for error in errors:
        failure = next(iter(error.values()))
        action = by_id.get(failure.get("_id"))
        reason = " ".join(str(failure.get("error", failure.get("status"))).split())[:500]
        log.error("run report document %s refused: %s", failure.get("_id"), reason)
        if action is None:
            continue
        slim = {k: v for k, v in action["_source"].items() if k in _COUNTS_ONLY}
        slim["error"] = f"{slim.get('error') or ''} (report document refused: {reason})".strip()[:2000]
        retry.append({**action, "_source": slim})
    more, still = helpers.bulk(es, retry, refresh=True, require_alias=True, raise_on_error=False)
    for error in still:
        log.error("run report document refused twice: %s", error)
    return written + more

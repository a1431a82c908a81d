"""What the pipeline remembers in Elasticsearch: source state, seen articles, run reports.

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
from newswire.models import ItemOutcome, RunReport, SourceReport, SourceState, to_dict

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
    """Store a source's state under its name (replacing the previous one)."""
    doc = {k: v for k, v in to_dict(state).items() if v is not None}
    doc["updated_at"] = datetime.now(UTC).isoformat()
    es.index(index=names.alias(prefix, "sources"), id=state.source, document=doc, require_alias=True)


def existing_ids(es: Elasticsearch, ids: Iterable[str], prefix: str = names.DEFAULT_PREFIX) -> set[str]:
    """Which of these article ids are already indexed (realtime ``mget``, no document bodies)."""
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    target = names.alias(prefix, "articles")
    for start in range(0, len(wanted), MGET_CHUNK):
        chunk = wanted[start : start + MGET_CHUNK]
        response = es.mget(index=target, ids=chunk, source=False)
        found.update(doc["_id"] for doc in response["docs"] if doc.get("found"))
    return found


def _lag_stats(lags: list[float]) -> dict[str, float]:
    if not lags:
        return {}
    return {
        "freshness_lag_median_seconds": float(statistics.median(lags)),
        "freshness_lag_max_seconds": float(max(lags)),
    }


#: What a refused run-report document is rewritten with: identity, status and counts.
_COUNTS_ONLY = frozenset({
    "@timestamp", "kind", "run_id", "source", "status", "error", "started_at", "finished_at", "seen", "new",
    "fetched", "indexed", "duplicates", "claims", "skipped_count", "failed_count", "sources", "sources_failed",
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
        for key in ("seen", "new", "fetched", "indexed", "duplicates", "claims")
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

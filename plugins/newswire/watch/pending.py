"""The per-source "changed since" mark in the source state: how stream runs know their work.

The watcher (in the triggerer) sets ``changed_at`` on a source's state document when it sees new
entries, *before* it fires the event. A stream run ingests every watched source whose mark is newer
than what was last ingested (``change_ingested_at``), then moves that field up to the mark it read
*before* ingesting. Airflow may fold several events into one run (apache/airflow#56749), and the
watcher may mark a source again while its ingestion runs; neither loses work, because the run takes
its list from the marks, not from the events, and a mark set during a run stays newer than the one
that run consumed, so the next run takes that source again.

Each field has one writer (the watcher ``changed_at``, the stream run ``change_ingested_at``) and
both are partial updates, as is :func:`newswire.index.state.save_state`, so none overwrites another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from elasticsearch import Elasticsearch, NotFoundError

from newswire.index import names
from newswire.index.documents import stored_datetime

CHANGED = "changed_at"
INGESTED = "change_ingested_at"
RETRY_ON_CONFLICT = 5  # the watcher and a run may update one state document at the same moment


@dataclass(frozen=True, kw_only=True, slots=True)
class Mark:
    """A source's pending mark as read at one moment."""

    source: str
    changed_at: datetime | None
    ingested_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.changed_at is not None and (self.ingested_at is None or self.changed_at > self.ingested_at)


def mark_changed(es: Elasticsearch, sources: Iterable[str], at: datetime, prefix: str = names.DEFAULT_PREFIX) -> None:
    """Record that these sources announced new entries at ``at`` (creates the state if it is missing)."""
    index = names.alias(prefix, "sources")
    for source in sources:
        es.update(index=index, id=source, doc={"source": source, CHANGED: at.isoformat()}, doc_as_upsert=True,
                  retry_on_conflict=RETRY_ON_CONFLICT, require_alias=True)


def read_marks(es: Elasticsearch, sources: Iterable[str], prefix: str = names.DEFAULT_PREFIX) -> list[Mark]:
    """The marks of these sources (realtime ``mget``: a mark written a moment ago is seen)."""
    wanted = list(dict.fromkeys(sources))
    if not wanted:
        return []
    try:
        docs = es.mget(index=names.alias(prefix, "sources"), ids=wanted, source_includes=[CHANGED, INGESTED])["docs"]
    except NotFoundError:  # no indices yet: nothing was ever marked
        docs = [{} for _ in wanted]
    marks = []
    for name, doc in zip(wanted, docs):
        body = (doc.get("_source") or {}) if doc.get("found") else {}
        marks.append(Mark(source=name, changed_at=stored_datetime(body.get(CHANGED)),
                          ingested_at=stored_datetime(body.get(INGESTED))))
    return marks


def pending_sources(es: Elasticsearch, sources: Iterable[str], prefix: str = names.DEFAULT_PREFIX) -> list[str]:
    """Those of ``sources`` with changes not yet ingested, in the given order."""
    return [m.source for m in read_marks(es, sources, prefix) if m.pending]


def mark_ingested(es: Elasticsearch, mark: Mark, prefix: str = names.DEFAULT_PREFIX) -> None:
    """Record that the changes up to ``mark.changed_at`` (read before the ingestion began) are ingested."""
    if mark.changed_at is None:
        return
    es.update(index=names.alias(prefix, "sources"), id=mark.source, doc={INGESTED: mark.changed_at.isoformat()},
              doc_as_upsert=True, retry_on_conflict=RETRY_ON_CONFLICT, require_alias=True)

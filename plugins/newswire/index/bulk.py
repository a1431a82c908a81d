"""Bulk writes: deterministic ids, retries with backoff, failures reported and parked.

Every document is written under the deterministic ``_id`` it carries in ``id``
(derived in ``newswire.ids``), so writing the same article again never duplicates it.
The ``index`` op replaces a document; the ``create`` op (``BulkOptions.create``, what
the pipeline uses for new articles) leaves an existing one alone and reports its id
in ``BulkResult.existed``: another source or task wrote that article first.

Failure handling, per document:

* transient (429, 502/503/504, timeouts, dropped connections): retried with
  exponential backoff, first by the transport for whole requests, then by
  ``helpers.streaming_bulk`` for the items Elasticsearch rejected;
* permanent (a 4xx such as a mapping error): reported in ``BulkResult.failed``
  with Elasticsearch's reason, and the document is parked in ``{prefix}-deadletter``
  so nothing is silently lost. The rest of the batch is indexed regardless.

Batch runs refresh once at the end rather than per document.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, helpers

from newswire.ids import deadletter_id
from newswire.index import names
from newswire.index.documents import article_document, claim_documents
from newswire.models import Article, ItemOutcome

__all__ = [
    "BulkFailure", "BulkOptions", "BulkResult", "article_document", "claim_documents",
    "index_articles", "index_claims", "index_documents",
]

log = logging.getLogger(__name__)

#: Statuses worth retrying: overload and gateway errors.
RETRY_STATUSES = (429, 502, 503, 504)


@dataclass(frozen=True, kw_only=True, slots=True)
class BulkOptions:
    """How to send a batch; the defaults suit scheduled batch runs."""

    chunk_size: int = 500
    max_chunk_bytes: int = 10 * 1024 * 1024
    max_retries: int = 5
    initial_backoff: float = 1.0  # seconds before the first item retry; doubles each time
    max_backoff: float = 60.0
    refresh: bool = True  # refresh the target once at the end of the batch
    dead_letter: bool = True  # park permanently refused documents in {prefix}-deadletter
    create: bool = False  # write only documents whose id is new; the others land in BulkResult.existed


DEFAULT_OPTIONS = BulkOptions()


@dataclass(kw_only=True, slots=True)
class BulkFailure:
    """A document Elasticsearch did not accept, and why."""

    id: str | None
    index: str
    status: int  # HTTP status of the item; 0 when refused before sending
    error_type: str
    reason: str
    url: str | None = None

    @property
    def transient(self) -> bool:
        return self.status in RETRY_STATUSES

    def to_outcome(self) -> ItemOutcome:
        """As an ``ItemOutcome`` for the run report."""
        return ItemOutcome(url=self.url or self.id or "", reason=f"index-{self.error_type}", detail=self.reason)


@dataclass(kw_only=True, slots=True)
class BulkResult:
    """What a bulk write did: counts, and every failure with its reason."""

    indexed: int = 0  # created + updated
    created: int = 0
    updated: int = 0
    failed: list[BulkFailure] = field(default_factory=list)
    existed: list[str] = field(default_factory=list)  # ids a ``create`` found already written
    dead_lettered: int = 0
    deadletter_failed: int = 0  # refused documents the dead-letter index did not take either (logged)
    stale_claims_failed: int = 0  # leftover claims whose delete failed (logged)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def outcomes(self) -> list[ItemOutcome]:
        return [f.to_outcome() for f in self.failed]



def _retrying(es: Elasticsearch, options: BulkOptions) -> Elasticsearch:
    """The client with request-level retries (connection errors, timeouts, 429/5xx) and backoff."""
    return es.options(
        max_retries=options.max_retries,
        retry_on_status=RETRY_STATUSES,
        retry_on_timeout=True,
        retry_backoff_base=options.initial_backoff / 2,
        retry_backoff_cap=options.max_backoff,
    )


def index_documents(
    es: Elasticsearch,
    docs: Iterable[dict[str, Any]],
    *,
    kind: str,
    prefix: str = names.DEFAULT_PREFIX,
    options: BulkOptions = DEFAULT_OPTIONS,
) -> BulkResult:
    """Index documents of one kind through its alias; see the module docstring for failures."""
    started = time.perf_counter()
    target = names.alias(prefix, kind)
    result = BulkResult()
    by_id: dict[str, dict[str, Any]] = {}
    refused: list[tuple[BulkFailure, dict[str, Any]]] = []
    op = "create" if options.create else "index"

    def actions() -> Iterator[dict[str, Any]]:
        for doc in docs:
            doc_id = str(doc["id"]) if doc.get("id") else None
            if doc_id is None:
                failure = BulkFailure(
                    id=None, index=target, status=0, error_type="missing_id",
                    reason="document has no id (newswire.ids derives it before the write)", url=doc.get("url"),
                )
                refused.append((failure, doc))
                continue
            by_id[doc_id] = doc
            yield {"_op_type": op, "_index": target, "_id": doc_id, "_source": doc}

    for ok, item in helpers.streaming_bulk(
        _retrying(es, options),
        actions(),
        chunk_size=options.chunk_size,
        max_chunk_bytes=options.max_chunk_bytes,
        raise_on_error=False,
        raise_on_exception=False,
        max_retries=options.max_retries,
        initial_backoff=options.initial_backoff,
        max_backoff=options.max_backoff,
        retry_on_status=RETRY_STATUSES,
        require_alias=True,  # never auto-create a concrete index where the alias should be
    ):
        info = next(iter(item.values()))
        if ok:
            result.indexed += 1
            if info.get("result") == "created":
                result.created += 1
            else:
                result.updated += 1
            continue
        doc_id = info.get("_id")
        if options.create and info.get("status") == 409:
            result.existed.append(doc_id)
            continue
        error = info.get("error") or {}
        if isinstance(error, str):  # a whole-request failure reported per item
            error = {"type": "request_failed", "reason": error}
        doc = by_id.get(doc_id, {})
        failure = BulkFailure(
            id=doc_id, index=target, status=int(info.get("status") or 0),
            error_type=str(error.get("type", "unknown")), reason=_reason(error), url=doc.get("url"),
        )
        if failure.transient:
            result.failed.append(failure)  # not parked: the next run retries it
        else:
            refused.append((failure, doc))
    for failure, _ in refused:
        log.warning("refused %s %s: %s %s", kind, failure.id, failure.error_type, failure.reason)
        result.failed.append(failure)
    if refused and options.dead_letter:
        result.dead_lettered, result.deadletter_failed = park(es, refused, prefix)
    if options.refresh and result.indexed:
        es.indices.refresh(index=target)
    result.seconds = time.perf_counter() - started
    return result


def _reason(error: dict[str, Any]) -> str:
    reason = str(error.get("reason", ""))
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        reason = f"{reason}: {cause['reason']}"
    return reason


def park(es: Elasticsearch, refused: list[tuple[BulkFailure, dict[str, Any]]], prefix: str) -> tuple[int, int]:
    """Write refused documents with their reasons to ``{prefix}-deadletter``. Returns (parked, not parked).

    A failed write is logged and counted, never raised: the documents are already
    reported as failed items, and the run goes on.

    The dead-letter id is derived from target and document id, so a document that
    keeps failing run after run occupies one entry, updated with the latest reason.
    """
    now = datetime.now(UTC).isoformat()
    target = names.alias(prefix, "deadletter")
    actions = []
    for failure, doc in refused:
        actions.append(
            {
                "_op_type": "index",
                "_index": target,
                "_id": deadletter_id(failure.index, failure.id or repr(sorted(doc.items()))),
                "_source": {
                    "@timestamp": now,
                    "target": failure.index,
                    "doc_id": failure.id,
                    "status": failure.status,
                    "error_type": failure.error_type,
                    "reason": failure.reason,
                    "document": doc,
                },
            }
        )
    try:
        parked, errors = helpers.bulk(
            es, actions, raise_on_error=False, refresh="wait_for", require_alias=True
        )
    except ApiError as err:
        log.error("could not write %d documents to %s: %s", len(actions), target, err)
        return 0, len(actions)
    for error in errors:
        log.error("dead-letter write failed: %s", error)
    return parked, len(errors)


def index_articles(
    es: Elasticsearch,
    articles_docs: list[dict[str, Any]],
    prefix: str = names.DEFAULT_PREFIX,
    options: BulkOptions = DEFAULT_OPTIONS,
) -> BulkResult:
    """Index article documents (from ``article_document``) under their deterministic ids."""
    return index_documents(es, articles_docs, kind="articles", prefix=prefix, options=options)


def index_claims(
    es: Elasticsearch,
    articles: list[tuple[Article, dict[str, Any]]],
    prefix: str = names.DEFAULT_PREFIX,
    options: BulkOptions = DEFAULT_OPTIONS,
) -> BulkResult:
    """Index one document per claim of each (article, article document), and drop claims they no longer have.

    One bulk request for the whole batch. A re-extracted article can yield fewer claims
    than before; the leftovers (same article id, sentence indices no longer present) are
    deleted, so the claims index always mirrors the articles' current claims. (The
    leftover lookup is a search, so it sees claims of earlier, refreshed batches.)
    """
    docs = [doc for article, article_doc in articles for doc in claim_documents(article, article_doc)]
    _, undeleted = delete_stale_claims(
        es, [article_doc["id"] for _, article_doc in articles], {d["id"] for d in docs}, prefix)
    result = index_documents(es, docs, kind="claims", prefix=prefix, options=options)
    result.stale_claims_failed = undeleted
    return result


def delete_stale_claims(es: Elasticsearch, article_ids: list[str], keep: set[str], prefix: str) -> tuple[int, int]:
    """Delete the claim documents of these articles whose ids are not in ``keep``. Returns (deleted, failed).

    A failed delete is logged and counted (the caller reports it): that claim outlives its article.
    """
    if not article_ids:
        return 0, 0
    target = names.alias(prefix, "claims")
    found = helpers.scan(es, index=target, query={"query": {"terms": {"article_id": article_ids}}}, _source=False)
    stale = [hit["_id"] for hit in found if hit["_id"] not in keep]
    if not stale:
        return 0, 0
    deleted, errors = helpers.bulk(
        es, ({"_op_type": "delete", "_index": target, "_id": i} for i in stale), raise_on_error=False, refresh=True
    )  # rare (a re-scored article lost claims), so refreshed at once: searches never show them again
    for error in errors:
        log.error("stale claim delete failed: %s", error)
    return deleted, len(errors)


def add_entry_urls(es: Elasticsearch, docs: list[dict[str, Any]], prefix: str = names.DEFAULT_PREFIX) -> int:
    """Add these documents' ``entry_urls`` to the stored articles of the same ids; returns articles updated.

    For an article another source wrote first under another link: the seen-check then knows
    both links. (No scripts on the core-only server: read, then a partial update.)
    """
    target = names.alias(prefix, "articles")
    wanted = {d["id"]: d.get("entry_urls") or [] for d in docs}
    if not wanted:
        return 0
    stored = es.mget(index=target, ids=list(wanted), source=["entry_urls"])["docs"]
    actions = []
    for doc in stored:
        if not doc.get("found"):
            continue
        have = doc["_source"].get("entry_urls") or []
        union = list(dict.fromkeys([*have, *wanted[doc["_id"]]]))
        if union != have:
            actions.append({"_op_type": "update", "_index": doc["_index"], "_id": doc["_id"],
                            "doc": {"entry_urls": union}})
    if not actions:
        return 0
    updated, _ = helpers.bulk(es, actions, raise_on_error=False, refresh=True)
    return updated

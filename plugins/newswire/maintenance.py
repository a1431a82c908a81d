"""Upkeep steps for the maintenance DAG: set-up, reindex, claim re-scoring, retention.

Each step is idempotent: running it twice in a row does nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import closing
from itertools import islice
from datetime import datetime, timezone

from elasticsearch import helpers

from newswire.index import names
from newswire.index.admin import ensure_indices
from newswire.index.bulk import index_claims
from newswire.index.documents import claim_fields
from newswire.index.reindex import reindex
from newswire.index.retention import delete_older_than
from newswire.kibana import KibanaTarget, install
from newswire.models import Article
from newswire.pipeline import claims_model_id, es_session
from newswire.settings import Settings

log = logging.getLogger(__name__)


def setup(settings: Settings, kibana_url: str | None = None) -> dict:
    """Templates, indices and aliases; Kibana's saved objects when a Kibana URL is known."""
    with es_session(settings) as es:
        summary = ensure_indices(es, settings.index_prefix)
    target = KibanaTarget.from_env(settings, kibana_url)
    if target is not None:
        result = install(target, settings.index_prefix, wait_seconds=120)
        summary["kibana"] = {"success": result.get("success"), "count": result.get("successCount")}
    return summary


def reindex_outdated(settings: Settings) -> dict:
    """Move every index whose mapping version is behind the code to a new version (scan, bulk, alias swap)."""
    moved = {}
    with es_session(settings) as es:
        status = ensure_indices(es, settings.index_prefix)["indices"]
        for kind, info in status.items():
            if info["status"] == "outdated":
                result = reindex(es, kind, settings.index_prefix)
                moved[kind] = {"from": info["index"], "to": result.target_index, "documents": result.copied}
    return moved


def rescore_claims(settings: Settings, extractor=None, batch_size: int = 50) -> int:
    """Re-extract the claims of articles scored by another claim model; returns articles updated.

    Works through the stale articles ``batch_size`` at a time (one model call, one bulk
    update and one claims write per batch), so memory stays flat however many there are,
    and an interrupted run resumes where it stopped: the updated ones carry the new id.
    """
    if extractor is None:
        from newswire.claims import ClaimExtractor

        extractor = ClaimExtractor()
    model = claims_model_id(extractor)
    prefix = settings.index_prefix
    articles = names.alias(prefix, "articles")
    updated = 0
    with es_session(settings) as es:
        es.indices.refresh(index=articles)
        stale = helpers.scan(
            es, index=articles, size=batch_size,
            query={"query": {"bool": {"must_not": {"term": {"claims_model": model}}}}},
            _source=["id", "url", "source", "text", "language", "published", "cluster_id", "is_canonical"],
        )
        for batch in _batched(stale, batch_size):
            pairs = []
            for hit in batch:
                doc = hit["_source"]
                article = Article(id=hit["_id"], url=doc.get("url", ""), source=doc.get("source", ""),
                                  text=doc.get("text", ""), language=doc.get("language"))
                pairs.append((article, {**doc, "id": hit["_id"]}))
            # A copy's claims are its canonical's: it is marked as done without running the model.
            heads = [article for article, doc in pairs if doc.get("is_canonical", True)]
            scored = dict(zip((a.id for a in heads), extractor.extract_many([(a.text, a.language) for a in heads])))
            for article, _ in pairs:
                article.claims = scored.get(article.id, [])
            index_claims(es, pairs, prefix)
            helpers.bulk(es, ({"_op_type": "update", "_index": articles, "_id": article.id, "doc": {
                "claims": [claim_fields(c) for c in article.claims],
                "claim_count": len(article.claims),
                "claims_model": model,
            }} for article, _ in pairs), refresh=True)
            updated += len(pairs)
    log.info("re-scored the claims of %d articles with model %s", updated, model)
    return updated


def backfill_claim_groups(settings: Settings, embedder=None, batch_size: int = 200) -> dict[str, int]:
    """Embed the stored claims that have no vector from the current model, then group the ungrouped ones.

    Batched (``batch_size`` claims per model pass, bulk update and group update) and
    resumable: each batch's vectors are stored before the next is read, and a claim
    counts as grouped once it carries ``group_size``, so an interrupted run picks up
    the rest. A second run finds nothing to do.
    """
    from newswire.claims.embedding import ClaimEmbedder
    from newswire.index.claim_groups import update_groups
    from newswire.index.documents import embedding_fields

    embedder = embedder or ClaimEmbedder()
    prefix = settings.index_prefix
    claims = names.alias(prefix, "claims")
    counts = {"embedded": 0, "grouped": 0, "updated": 0}
    with es_session(settings) as es:
        es.indices.refresh(index=claims)
        stale = helpers.scan(es, index=claims, size=batch_size, _source=["text"],
                             query={"query": {"bool": {"must_not": {"term": {"embedding_model": embedder.model_id}}}}})
        with closing(stale):  # an interrupted batch clears its scroll while the client is still open
            for batch in _batched(stale, batch_size):
                texts = [hit["_source"].get("text") or "" for hit in batch]
                helpers.bulk(es, ({"_op_type": "update", "_index": claims, "_id": hit["_id"],
                                   "doc": {**embedding_fields(text, vector), "group_size": None}}
                                  for hit, text, vector in zip(batch, texts, embedder.vectors(texts))), refresh=True)
                counts["embedded"] += len(batch)
        ungrouped = helpers.scan(es, index=claims, size=batch_size, _source=False, query={"query": {"bool": {
            "filter": [{"exists": {"field": "embedding_model"}}],
            "must_not": [{"exists": {"field": "group_size"}}]}}})
        with closing(ungrouped):
            for batch in _batched(ungrouped, batch_size):
                result = update_groups(es, prefix, claim_ids=[hit["_id"] for hit in batch])
                counts["grouped"] += len(batch)
                counts["updated"] += result.updated
    log.info("claim groups backfill: %s", counts)
    return counts


def _batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` items (the last one shorter); itertools.batched from Python 3.12."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def apply_retention(settings: Settings, days: int | None = None) -> dict[str, int]:
    """Delete articles and claims older than ``days`` (default ``settings.retention_days``, from
    ``$NEWSWIRE_RETENTION_DAYS``; unset: keep all)."""
    days = settings.retention_days if days is None else days
    if days is None:
        return {}
    with es_session(settings) as es:
        deleted = delete_older_than(es, days, settings.index_prefix)
    log.info("retention (%d days) deleted %s at %s", days, deleted, datetime.now(timezone.utc).isoformat())
    return deleted

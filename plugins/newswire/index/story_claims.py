"""Claims once per story: the claims index holds each story's claims once, under its canonical.

Articles are written with claim documents for canonicals only (``documents.claim_documents``).
Clusters change afterwards: ``reconcile`` joins clusters and picks a new, earlier canonical,
and a copy that arrives later adds its outlet to a story already stored. ``sync_story_claims``
brings the claims index in line for the stories touched: for each cluster it writes the
claim documents of its canonical (listing every outlet and URL of the cluster) and deletes
the claim documents of its other members, so the claims move when the canonical changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from newswire.index import names
from newswire.index.claim_groups import keep_vectors
from newswire.index.documents import story_claim_documents

log = logging.getLogger(__name__)

STORY_FIELDS = ["id", "url", "source", "title", "published", "language", "indexed_at", "claims", "cluster_id",
                "is_canonical", "duplicate_count", "copy_sources", "copy_urls"]
BATCH = 500  # clusters per round trip


def touched_clusters(es: Elasticsearch, prefix: str, since: datetime) -> set[str]:
    """The clusters of the articles indexed at or after ``since``."""
    found = helpers.scan(es, index=names.alias(prefix, "articles"),
                         query={"query": {"range": {"indexed_at": {"gte": since.isoformat()}}}},
                         _source=["cluster_id", "id"])
    return {hit["_source"].get("cluster_id") or hit["_source"]["id"] for hit in found}


def sync_story_claims(es: Elasticsearch, prefix: str, clusters: Iterable[str]) -> int:
    """Rewrite the claims of these clusters from their articles. Returns the claim documents written.

    Idempotent: a second call writes the same documents under the same ids and deletes nothing.
    """
    clusters = sorted(set(clusters))
    written = 0
    for start in range(0, len(clusters), BATCH):
        written += _sync_batch(es, prefix, clusters[start:start + BATCH])
    return written


def _sync_batch(es: Elasticsearch, prefix: str, clusters: list[str]) -> int:
    articles = names.alias(prefix, "articles")
    claims_alias = names.alias(prefix, "claims")
    es.indices.refresh(index=articles)
    members: dict[str, list[dict[str, Any]]] = {}
    for hit in helpers.scan(es, index=articles, query={"query": {"terms": {"cluster_id": clusters}}},
                            _source=STORY_FIELDS):
        members.setdefault(hit["_source"]["cluster_id"], []).append(hit["_source"])
    wanted: list[dict[str, Any]] = []
    for docs in members.values():
        canonical = next((d for d in docs if d.get("is_canonical", True)), None)
        if canonical is None:
            continue
        with_claims = canonical if canonical.get("claims") else max(docs, key=lambda d: len(d.get("claims") or []))
        wanted.extend(story_claim_documents(with_claims, canonical))
    wanted = keep_vectors(es, prefix, wanted)  # claim groups (issue 17): vectors and groups survive the rewrite
    member_ids = [d["id"] for docs in members.values() for d in docs]
    keep = {d["id"] for d in wanted}
    stale = [hit["_id"] for hit in helpers.scan(
        es, index=claims_alias, _source=False,
        query={"query": {"bool": {"should": [{"terms": {"article_id": member_ids}},
                                             {"terms": {"cluster_id": clusters}}]}}})
             if hit["_id"] not in keep]
    actions = [{"_op_type": "index", "_index": claims_alias, "_id": d["id"], "_source": d} for d in wanted]
    actions += [{"_op_type": "delete", "_index": claims_alias, "_id": i} for i in stale]
    if not actions:
        return 0
    ok, errors = helpers.bulk(es, actions, raise_on_error=False, refresh=True, require_alias=True)
    for error in errors:
        log.error("story claims: write failed: %s", error)
    return len(wanted) - sum(1 for e in errors if "index" in e)

"""Near-duplicate clusters in Elasticsearch: the LSH index lives on the article documents.

Band keys are keyword terms on each article (``band_keys``), so finding the
candidates of a fingerprint is one query against all history, from any worker,
surviving restarts. Cluster fields are computed with the pure functions of
``newswire.dedup`` and written as partial updates (no scripts: the core-only
server has none), only where they change, so a re-run writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from newswire.dedup import DEFAULT_PARAMS, DedupItem, DedupParams, cluster, cluster_fields, is_duplicate
from newswire.dedup.cluster import stated_date
from newswire.index import names
from newswire.index.documents import CLUSTER_FIELDS, stored_datetime
from newswire.models import Article, Fingerprint

log = logging.getLogger(__name__)

FINGERPRINT_FIELDS = ("exact_hash", "band_keys", "minhash", "shingle_count")
SOURCE_FIELDS = ("id", "url", "source", "published", "date_source", "fetched_at", *FINGERPRINT_FIELDS, *CLUSTER_FIELDS)
MSEARCH_CHUNK = 50  # candidate queries per _msearch request
MAX_CLUSTER_NODES = 10_000  # a component this large is a pathology: stop growing it and say so


def articles_alias(prefix: str) -> str:
    """The articles alias for an index prefix."""
    return names.alias(prefix, "articles")


def item_from_source(doc: dict[str, Any]) -> DedupItem:
    """A ``DedupItem`` from an article document's ``_source``."""
    return DedupItem(
        id=doc["id"],
        fingerprint=Fingerprint(
            exact_hash=doc.get("exact_hash") or "",
            minhash=list(doc.get("minhash") or []),
            band_keys=list(doc.get("band_keys") or []),
            shingle_count=int(doc.get("shingle_count") or 0),
        ),
        published=stated_date(stored_datetime(doc.get("published")), doc.get("date_source")),
        fetched_at=stored_datetime(doc.get("fetched_at")),
        source=doc.get("source") or "",
        url=doc.get("url") or "",
    )


def item_from_article(article: Article, fp: Fingerprint) -> DedupItem:
    """A ``DedupItem`` for an article about to be indexed."""
    return DedupItem(
        id=article.id,
        fingerprint=fp,
        published=stated_date(article.published, article.date_source),
        fetched_at=article.fetched_at,
        source=article.source,
        url=article.canonical_url or article.url,
    )


def candidate_query(
    fp: Fingerprint, exclude_ids: Iterable[str] = (), params: DedupParams = DEFAULT_PARAMS, ranked: bool = False
) -> dict:
    """The search body finding a fingerprint's LSH candidates.

    By default one ``terms`` filter on ``band_keys`` or'ed with a ``term`` on
    ``exact_hash``, sorted by id: constant-score filter context, the cheapest
    lookup per index segment. ``ranked=True`` is the fallback for when that
    fills ``params.max_candidates``: a bool of constant-score term clauses where
    each shared band counts 1 and an identical body more than all bands, so the
    most similar documents are the ones kept (ties by id: deterministic).
    """
    exact = {"term": {"exact_hash": fp.exact_hash}}
    if ranked:
        should: list[dict] = [{"constant_score": {"filter": {"term": {"band_keys": key}}}} for key in fp.band_keys]
        should.append({"constant_score": {"filter": exact, "boost": len(fp.band_keys) + 1}})
        query: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1}}
        sort: list[dict] = [{"_score": "desc"}, {"id": "asc"}]
    else:
        match = {"bool": {"should": [{"terms": {"band_keys": list(fp.band_keys)}}, exact], "minimum_should_match": 1}}
        query = {"bool": {"filter": [match]}}
        sort = [{"id": "asc"}]
    exclude = sorted(set(exclude_ids))
    if exclude:
        query["bool"]["must_not"] = [{"ids": {"values": exclude}}]
    return {
        "query": query,
        "size": params.max_candidates,
        "sort": sort,
        "_source": list(SOURCE_FIELDS),
        "track_total_hits": False,
    }


def _search_candidates(es: Elasticsearch, index: str, fp: Fingerprint, exclude: list[str], params: DedupParams):
    """One candidate search; only a full page (more candidates than allowed) is asked again, ranked."""
    hits = es.search(index=index, **candidate_query(fp, exclude, params))["hits"]["hits"]
    if len(hits) >= params.max_candidates:
        hits = es.search(index=index, **candidate_query(fp, exclude, params, ranked=True))["hits"]["hits"]
    return hits


def find_candidates(
    es: Elasticsearch,
    fingerprint: Fingerprint,
    prefix: str,
    exclude_id: str | None = None,
    params: DedupParams = DEFAULT_PARAMS,
) -> list[dict]:
    """Article documents (``_source``) sharing a band key or the exact hash with a fingerprint.

    One search request over the articles alias (a second, ranked one only when
    more than ``params.max_candidates`` match). Empty texts have no candidates.
    """
    if fingerprint.shingle_count == 0:
        return []
    hits = _search_candidates(es, articles_alias(prefix), fingerprint, [exclude_id] if exclude_id else [], params)
    return [hit["_source"] for hit in hits]


Hit = tuple[str, dict]  # (concrete index, _source)


def _candidates_many(
    es: Elasticsearch, fps: list[tuple[str, Fingerprint]], prefix: str, params: DedupParams
) -> dict[str, list[Hit]]:
    """Candidates of many fingerprints, one ``_msearch`` per chunk; keyed by the asking id."""
    out: dict[str, list[Hit]] = {}
    asks = [(item_id, fp) for item_id, fp in fps if fp.shingle_count]
    for start in range(0, len(asks), MSEARCH_CHUNK):
        chunk = asks[start : start + MSEARCH_CHUNK]
        searches: list[dict] = []
        for item_id, fp in chunk:
            searches.append({"index": articles_alias(prefix)})
            searches.append(candidate_query(fp, [item_id], params))
        response = es.msearch(searches=searches)
        for (item_id, fp), result in zip(chunk, response["responses"]):
            if "error" in result:
                raise RuntimeError(f"candidate query for {item_id} failed: {result['error']}")
            hits = result["hits"]["hits"]
            if len(hits) >= params.max_candidates:
                hits = _search_candidates(es, articles_alias(prefix), fp, [item_id], params)
            out[item_id] = [(hit["_index"], hit["_source"]) for hit in hits]
    return out


def _cluster_members(es: Elasticsearch, prefix: str, cluster_ids: set[str]) -> list[Hit]:
    """All article documents currently in the given clusters (paged with search_after)."""
    docs: list[Hit] = []
    ids = sorted(cluster_ids)
    for start in range(0, len(ids), 1000):
        query = {"terms": {"cluster_id": ids[start : start + 1000]}}
        after = None
        while len(docs) < MAX_CLUSTER_NODES:
            kwargs: dict[str, Any] = {"search_after": after} if after else {}
            response = es.search(
                index=articles_alias(prefix), query=query, size=1000, sort=[{"id": "asc"}],
                _source=list(SOURCE_FIELDS), track_total_hits=False, **kwargs,
            )
            hits = response["hits"]["hits"]
            docs.extend((hit["_index"], hit["_source"]) for hit in hits)
            if len(hits) < 1000:
                break
            after = hits[-1]["sort"]
    return docs


def assign_clusters(
    es: Elasticsearch,
    articles: list[tuple[Article, Fingerprint]],
    prefix: str,
    params: DedupParams = DEFAULT_PARAMS,
) -> dict[str, dict]:
    """Cluster fields for a batch of articles before they are indexed.

    Candidates come from Elasticsearch (one query per article, sent as
    ``_msearch``) and from within the batch; each is verified. Verified
    documents bring their current cluster along, so the canonical is chosen
    over the whole known cluster by the fixed rule.

    Returns:
        ``{article_id: {cluster_id, is_canonical, duplicate_of, duplicate_count,
        copy_sources, copy_urls}}`` for the batch's articles. Documents already in
        the index whose fields change (a new, earlier canonical; two clusters
        joined) are left to ``reconcile``, which the caller runs after indexing.
    """
    batch = {article.id: item_from_article(article, fp) for article, fp in articles}
    if len(batch) != len(articles):
        raise ValueError("assign_clusters: two articles in the batch share an id")
    found = _candidates_many(es, [(i, item.fingerprint) for i, item in batch.items()], prefix, params)
    known: dict[str, dict] = {}
    joined_clusters: set[str] = set()
    for item_id, hits in found.items():
        for _, doc in hits:
            if doc["id"] in batch or doc["id"] in known:
                continue
            candidate = item_from_source(doc)
            if is_duplicate(batch[item_id].fingerprint, candidate.fingerprint, params):
                known[doc["id"]] = doc
                if doc.get("cluster_id"):
                    joined_clusters.add(doc["cluster_id"])
    if joined_clusters:
        for _, doc in _cluster_members(es, prefix, joined_clusters):
            if doc["id"] not in batch:
                known.setdefault(doc["id"], doc)
    items = list(batch.values()) + [item_from_source(doc) for doc in known.values()]
    fields = cluster_fields(cluster(items, params), items)
    return {item_id: fields[item_id] for item_id in batch}


def _seed_docs(
    es: Elasticsearch, prefix: str, article_ids: Iterable[str] | None, since: datetime | str | None
) -> dict[str, Hit]:
    """The documents reconcile starts from: by id and/or indexed at or after ``since``."""
    seeds: dict[str, Hit] = {}
    ids = sorted(set(article_ids or ()))
    for start in range(0, len(ids), 1000):
        response = es.mget(index=articles_alias(prefix), ids=ids[start : start + 1000], _source=list(SOURCE_FIELDS))
        for doc in response["docs"]:
            if doc.get("found"):
                seeds[doc["_id"]] = (doc["_index"], doc["_source"])
    if since is not None:
        stamp = since.isoformat() if isinstance(since, datetime) else since
        after = None
        while True:
            kwargs: dict[str, Any] = {"search_after": after} if after else {}
            response = es.search(
                index=articles_alias(prefix), query={"range": {"indexed_at": {"gte": stamp}}}, size=1000,
                sort=[{"id": "asc"}], _source=list(SOURCE_FIELDS), track_total_hits=False, **kwargs,
            )
            hits = response["hits"]["hits"]
            for hit in hits:
                seeds[hit["_id"]] = (hit["_index"], hit["_source"])
            if len(hits) < 1000:
                break
            after = hits[-1]["sort"]
    return seeds


def _changed(doc: dict, wanted: dict) -> bool:
    return any(doc.get(name) != wanted[name] for name in CLUSTER_FIELDS)


def reconcile(
    es: Elasticsearch,
    prefix: str,
    article_ids: Iterable[str] | None = None,
    since: datetime | str | None = None,
    params: DedupParams = DEFAULT_PARAMS,
    refresh: bool = True,
) -> int:
    """Recompute the clusters touching some articles and write what changed.

    Run after all parallel source tasks of a run. Starting from the given
    articles (by id, and/or every article with ``indexed_at >= since``), it
    follows verified candidate edges transitively (and the current members of
    their clusters), clusters that closed set with ``newswire.dedup.cluster``,
    picks each canonical by the fixed rule and writes the cluster fields with
    bulk partial updates, only for documents whose fields differ. Two copies
    indexed at the same moment by two tasks thus end in one cluster, and a
    second run writes nothing.

    Returns:
        The number of article documents updated.
    """
    alias = articles_alias(prefix)
    es.indices.refresh(index=alias)
    nodes = _seed_docs(es, prefix, article_ids, since)
    frontier = sorted(nodes)
    seen_clusters: set[str] = set()
    while frontier and len(nodes) < MAX_CLUSTER_NODES:
        items = {node: item_from_source(nodes[node][1]) for node in frontier}
        found = _candidates_many(es, [(i, item.fingerprint) for i, item in items.items()], prefix, params)
        fresh: dict[str, Hit] = {}
        for node, hits in found.items():
            for index, hit_doc in hits:
                hit_id = hit_doc["id"]
                if hit_id in nodes or hit_id in fresh:
                    continue
                if is_duplicate(items[node].fingerprint, item_from_source(hit_doc).fingerprint, params):
                    fresh[hit_id] = (index, hit_doc)
        clusters = {nodes[n][1].get("cluster_id") for n in frontier} | {d.get("cluster_id") for _, d in fresh.values()}
        clusters = {c for c in clusters if c} - seen_clusters
        seen_clusters |= clusters
        if clusters:
            for index, doc in _cluster_members(es, prefix, clusters):
                if doc["id"] not in nodes and doc["id"] not in fresh:
                    fresh[doc["id"]] = (index, doc)
        nodes.update(fresh)
        frontier = sorted(fresh)
    if len(nodes) >= MAX_CLUSTER_NODES:
        log.warning("reconcile: stopped growing at %d connected articles", len(nodes))
    items = [item_from_source(doc) for _, doc in nodes.values()]
    wanted = cluster_fields(cluster(items, params), items)
    actions = [
        {"_op_type": "update", "_index": index, "_id": doc_id, "doc": wanted[doc_id]}
        for doc_id, (index, doc) in sorted(nodes.items())
        if _changed(doc, wanted[doc_id])
    ]
    if actions:
        helpers.bulk(es, actions, refresh=refresh)
    return len(actions)


def duplicates_since(es: Elasticsearch, since: datetime, prefix: str) -> dict[str, int]:
    """Per source, its articles indexed at or after ``since`` that are not their cluster's canonical."""
    alias = articles_alias(prefix)
    es.indices.refresh(index=alias)
    response = es.search(
        index=alias, size=0, track_total_hits=False,
        query={"bool": {"filter": [{"range": {"indexed_at": {"gte": since.isoformat()}}},
                                   {"term": {"is_canonical": False}}]}},
        aggs={"by_source": {"terms": {"field": "source", "size": 10_000}}},
    )
    return {b["key"]: b["doc_count"] for b in response["aggregations"]["by_source"]["buckets"]}

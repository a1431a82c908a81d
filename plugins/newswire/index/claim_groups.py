"""Claim groups in Elasticsearch: find each claim's "same claim" neighbours by kNN, write the groups.

``update_groups`` starts from some claims (by article, by id, or indexed since a time),
follows "same claim" edges transitively (kNN over ``embedding`` among claims with the
same ``quantity_key``, then ``MatchRule.decide_cosine`` on each candidate's cosine as Elasticsearch
scored it, or ``MatchRule.decide`` on the vectors when that is close to the threshold), adds the current
members of every group it touches, recomputes those groups with
``newswire.claims.groups.group_claims`` and writes the group fields as partial
updates, only where they change: a second run writes nothing, and since the groups
are connected components of the whole stored set, the order claims arrived in does
not matter.

Only claims stored under a canonical article are members (claims are stored once per
story, ``newswire.index.story_claims``); a copy shows up as one more carrier (outlet,
URL, date) of each of its canonical's groups. The article documents are read for that,
so a claim whose story changed canonical since it was written is placed by the
article's current state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from newswire.claims.groups import Carrier, ClaimNode, MatchRule, group_claims
from newswire.index import names
from newswire.index.documents import stored_datetime

log = logging.getLogger(__name__)

NEIGHBOURS = 20  # kNN hits per claim: more same-claim neighbours than this still connect through each other
CANDIDATES = 100  # kNN num_candidates
MSEARCH_CHUNK = 50
#: A kNN hit whose score is this close to the threshold is decided on the vectors themselves, in float64 as
#: ``newswire claims same`` does (Elasticsearch's float32 cosine is within 2e-6 of it, so the decision
#: never differs from the exact one).
EXACT_MARGIN = 1e-3
MAX_NODES = 5_000  # a component this large is a pathology (boilerplate): stop growing it and say so
CLAIM_FIELDS = ["id", "article_id", "canonical_id", "text", "embedding", "quantity_key", "published", "indexed_at",
                "is_canonical", "cluster_id", "group_id", "group_first", "group_first_claim", "group_size",
                "group_outlets", "group_outlet_count", "group_carrier_count", "group_first_published",
                "group_carriers"]
GROUP_FIELDS = ("group_id", "group_first", "group_first_claim", "group_size", "group_outlets", "group_outlet_count",
                "group_carrier_count", "group_first_published", "group_carriers")
#: What a claim that is no member (its article is a copy, or gone) carries: group_size 0 marks it as checked.
NO_GROUP = {"group_id": None, "group_first": None, "group_first_claim": None, "group_size": 0,
            "group_outlets": [], "group_outlet_count": 0, "group_carrier_count": 0, "group_first_published": None,
            "group_carriers": []}


@dataclass(kw_only=True, slots=True)
class GroupUpdate:
    claims_seen: int = 0
    groups: int = 0
    updated: int = 0


def _source_with_vectors() -> dict[str, Any]:
    # Elasticsearch 9 may leave dense vectors out of _source; ask for them explicitly.
    return {"includes": CLAIM_FIELDS, "exclude_vectors": False}


def _scan_claims(es: Elasticsearch, alias: str, query: dict) -> Iterable[dict]:
    after = None
    while True:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        hits = es.search(index=alias, query=query, size=500, sort=[{"id": "asc"}], _source=_source_with_vectors(),
                         track_total_hits=False, **kwargs)["hits"]["hits"]
        yield from (hit["_source"] for hit in hits)
        if len(hits) < 500:
            return
        after = hits[-1]["sort"]


def _seeds(es: Elasticsearch, prefix: str, claim_ids, article_ids, since) -> dict[str, dict]:
    claims = names.alias(prefix, "claims")
    seeds = _with_vectors(es, prefix, set(claim_ids or ()))
    articles = set(article_ids or ())
    if since is not None:
        stamp = since.isoformat() if isinstance(since, datetime) else since
        for doc in _scan_claims(es, claims, {"range": {"indexed_at": {"gte": stamp}}}):
            seeds[doc["id"]] = doc
        # Articles that changed cluster in this run (a new, earlier copy arrived) have old claims:
        # every article in the clusters of recently indexed articles is looked at again.
        recent = _articles(es, prefix, {"range": {"indexed_at": {"gte": stamp}}})
        clusters = sorted({a.get("cluster_id") or a["id"] for a in recent.values()})
        for start in range(0, len(clusters), 500):
            articles |= set(_articles(es, prefix, {"terms": {"cluster_id": clusters[start:start + 500]}}))
    listed = sorted(articles)
    for start in range(0, len(listed), 500):
        for doc in _scan_claims(es, claims, {"terms": {"article_id": listed[start:start + 500]}}):
            seeds[doc["id"]] = doc
    return seeds


ARTICLE_FIELDS = ["id", "source", "url", "published", "fetched_at", "cluster_id", "is_canonical"]


def _articles(es: Elasticsearch, prefix: str, query: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    after = None
    while True:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        hits = es.search(index=names.alias(prefix, "articles"), query=query, size=1000, sort=[{"id": "asc"}],
                         _source=ARTICLE_FIELDS, track_total_hits=False, **kwargs)["hits"]["hits"]
        out.update((hit["_source"]["id"], hit["_source"]) for hit in hits)
        if len(hits) < 1000 or len(out) >= 10 * MAX_NODES:
            return out
        after = hits[-1]["sort"]


def _neighbours(es: Elasticsearch, prefix: str, docs: list[dict], rule: MatchRule) -> dict[str, list[tuple[dict, float]]]:
    """kNN candidates of each claim, with their cosine: other articles' claims with the same quantities, cosine
    near the rule's floor. The hits come without their vectors (most are rejected: sending 384 floats each cost
    Elasticsearch and this process a third of the step); the cosine is the one Elasticsearch scored them by."""
    claims = names.alias(prefix, "claims")
    out: dict[str, list[tuple[dict, float]]] = {}
    asks = [d for d in docs if d.get("embedding")]
    for start in range(0, len(asks), MSEARCH_CHUNK):
        chunk = asks[start:start + MSEARCH_CHUNK]
        searches: list[dict] = []
        for doc in chunk:
            keys = [{"term": {"quantity_key": doc.get("quantity_key") or ""}}] if rule.check_numbers else []
            searches.append({"index": claims})
            searches.append({
                "knn": {
                    "field": "embedding", "query_vector": doc["embedding"], "k": NEIGHBOURS,
                    "num_candidates": CANDIDATES,
                    "similarity": max(-1.0, rule.min_cosine - 0.01),  # raw cosine; exact decision below
                    "filter": {"bool": {"filter": keys, "must_not": [{"term": {"article_id": doc["article_id"]}}]}},
                },
                "size": NEIGHBOURS, "_source": {"includes": [f for f in CLAIM_FIELDS if f != "embedding"]},
            })
        for doc, result in zip(chunk, es.msearch(searches=searches)["responses"]):
            if "error" in result:
                raise RuntimeError(f"kNN search for claim {doc['id']} failed: {result['error']}")
            # Elasticsearch scores cosine as (1 + cos) / 2, from the stored float vectors
            out[doc["id"]] = [(hit["_source"], round(2.0 * float(hit["_score"]) - 1.0, 6))
                              for hit in result["hits"]["hits"]]
    return out


def _with_vectors(es: Elasticsearch, prefix: str, ids: set[str]) -> dict[str, dict]:
    """The stored claims with these ids, vectors included."""
    found: dict[str, dict] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), 500):
        for doc in _scan_claims(es, names.alias(prefix, "claims"), {"ids": {"values": listed[start:start + 500]}}):
            found[doc["id"]] = doc
    return found


def _members(es: Elasticsearch, prefix: str, group_ids: set[str]) -> list[dict]:
    docs: list[dict] = []
    listed = sorted(group_ids)
    for start in range(0, len(listed), 500):
        docs.extend(_scan_claims(es, names.alias(prefix, "claims"), {"terms": {"group_id": listed[start:start + 500]}}))
    return docs


def update_groups(
    es: Elasticsearch,
    prefix: str,
    *,
    claim_ids: Iterable[str] | None = None,
    article_ids: Iterable[str] | None = None,
    since: datetime | str | None = None,
    rule: MatchRule | None = None,
    refresh: bool = True,
) -> GroupUpdate:
    """Recompute the groups touching some claims and write what changed (see the module docstring)."""
    rule = rule or MatchRule.load()
    claims_alias = names.alias(prefix, "claims")
    es.indices.refresh(index=f"{claims_alias},{names.alias(prefix, 'articles')}")
    nodes = _seeds(es, prefix, claim_ids, article_ids, since)
    pairs: set[tuple[str, str]] = set()
    frontier = sorted(nodes)
    seen_groups: set[str] = set()
    while frontier and len(nodes) < MAX_NODES:
        found = _neighbours(es, prefix, [nodes[i] for i in frontier], rule)
        same: list[tuple[str, str]] = []
        close: list[tuple[str, str]] = []  # decided again on the exact cosine
        for node_id, hits in found.items():
            node = nodes[node_id]
            for hit, cos in hits:
                decision = rule.decide_cosine(node["text"], hit["text"], cos)
                if rule.is_close(decision, EXACT_MARGIN):
                    close.append((node_id, hit["id"]))
                elif decision.same:
                    same.append((node_id, hit["id"]))
        stored = _with_vectors(es, prefix, {hit_id for _, hit_id in same + close if hit_id not in nodes})
        for node_id, hit_id in close:
            node, hit = nodes[node_id], nodes.get(hit_id) or stored.get(hit_id)
            if hit and hit.get("embedding") and rule.decide(node["text"], hit["text"], node["embedding"],
                                                           hit["embedding"]).same:
                same.append((node_id, hit_id))
        fresh: dict[str, dict] = {}
        for node_id, hit_id in same:
            if hit_id not in nodes and hit_id not in stored:
                continue  # deleted since the search
            pairs.add((min(node_id, hit_id), max(node_id, hit_id)))
            if hit_id not in nodes:
                fresh[hit_id] = stored[hit_id]
        groups = {d.get("group_id") for i in frontier for d in [nodes[i]]} | {d.get("group_id") for d in fresh.values()}
        groups = {g for g in groups if g} - seen_groups
        seen_groups |= groups
        for doc in _members(es, prefix, groups):
            if doc["id"] not in nodes:
                fresh.setdefault(doc["id"], doc)
        nodes.update(fresh)
        frontier = sorted(fresh)
    if len(nodes) >= MAX_NODES:
        log.warning("claim groups: stopped growing at %d connected claims", len(nodes))

    articles = _load_articles(es, prefix, {_story_article(d) for d in nodes.values()})
    clusters = sorted({a.get("cluster_id") or a["id"] for a in articles.values() if a.get("is_canonical", True)})
    copies: dict[str, list[dict]] = {}
    for start in range(0, len(clusters), 500):
        for article in _articles(es, prefix, {"terms": {"cluster_id": clusters[start:start + 500]}}).values():
            copies.setdefault(article.get("cluster_id") or article["id"], []).append(article)
    members: list[ClaimNode] = []
    for doc in nodes.values():
        article = articles.get(_story_article(doc))
        if article is None or not article.get("is_canonical", True) or not doc.get("embedding"):
            continue
        story = article.get("cluster_id") or article["id"]
        carriers = [Carrier(source=a.get("source") or "", url=a.get("url") or "",
                            published=stored_datetime(a.get("published")), article_id=a["id"],
                            claim_id=doc["id"] if a["id"] == article["id"] else None)
                    for a in copies.get(story, [article])]
        if not any(c.article_id == article["id"] for c in carriers):
            carriers.append(Carrier(source=article.get("source") or "", url=article.get("url") or "",
                                    published=stored_datetime(article.get("published")), article_id=article["id"],
                                    claim_id=doc["id"]))
        members.append(ClaimNode(
            id=doc["id"], story=story, vector=tuple(doc["embedding"]), quantity_key=doc.get("quantity_key") or "",
            published=stored_datetime(article.get("published")), fetched_at=stored_datetime(article.get("fetched_at")),
            carriers=tuple(carriers),
        ))
    grouped = group_claims(members, pairs)
    wanted: dict[str, dict] = {claim_id: dict(NO_GROUP) for claim_id in nodes}
    for group in grouped:
        for claim_id in group.members:
            wanted[claim_id] = group.fields_for(claim_id)
    actions = [
        {"_op_type": "update", "_index": claims_alias, "_id": claim_id, "doc": fields}
        for claim_id, fields in sorted(wanted.items())
        if any(_stored(nodes[claim_id].get(k)) != _stored(v) for k, v in fields.items())
    ]
    if actions:
        helpers.bulk(es, actions, refresh=refresh)
    return GroupUpdate(claims_seen=len(nodes), groups=len(grouped), updated=len(actions))


def _story_article(doc: dict) -> str:
    """The article a claim is stored under: its story's canonical (claims once per story), else its own."""
    return doc.get("canonical_id") or doc["article_id"]


def _stored(value: Any) -> Any:
    """A value as it reads back from _source, for change detection (dates as written, lists as lists)."""
    if isinstance(value, tuple):
        return list(value)
    return value


def _load_articles(es: Elasticsearch, prefix: str, ids: set[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), 1000):
        response = es.mget(index=names.alias(prefix, "articles"), ids=listed[start:start + 1000],
                           _source=ARTICLE_FIELDS)
        for doc in response["docs"]:
            if doc.get("found"):
                out[doc["_id"]] = {**doc["_source"], "id": doc["_id"]}
    return out


KEPT_FIELDS = ("embedding", "embedding_model", "quantity_key", *GROUP_FIELDS)


def keep_vectors(es: Elasticsearch, prefix: str, docs: list[dict]) -> list[dict]:
    """``docs`` (claim documents about to replace stored ones) with the stored vector and group fields
    carried over where the stored claim has the same text, so rewriting a story's claims does not
    send them back to the backfill. Group fields are then brought up to date by ``update_groups``."""
    ids = [d["id"] for d in docs]
    stored: dict[str, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        hits = es.search(index=names.alias(prefix, "claims"), query={"ids": {"values": chunk}}, size=len(chunk),
                         _source={"includes": ["text", *KEPT_FIELDS], "exclude_vectors": False})["hits"]["hits"]
        stored.update((hit["_id"], hit["_source"]) for hit in hits)  # a search: mget cannot ask for vectors
    out = []
    for doc in docs:
        old = stored.get(doc["id"])
        if old and old.get("text") == doc.get("text") and old.get("embedding") and "embedding" not in doc:
            doc = {**doc, **{k: old[k] for k in KEPT_FIELDS if old.get(k) is not None}}
        out.append(doc)
    return out

"""Dedup against a real Elasticsearch: LSH candidates, cluster assignment and reconcile."""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import datetime, timedelta, timezone

from elasticsearch import helpers

from newswire.dedup import DEFAULT_PARAMS, fingerprint
from newswire.ids import article_id
from newswire.index import clusters as es_clusters
from newswire.index.admin import ensure_indices
from newswire.index.documents import article_document
from newswire.models import Article
from test_dedup import BRIEF_A, BRIEF_B, CHROME_BOTTOM, CHROME_TOP, abridged, seed_text, truncated, wire

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)

def make_article(name: str, text: str, source: str, published: datetime | None, fetched: datetime) -> Article:
    url = f"https://{source}.example.org/{name}"
    return Article(id=article_id(url), url=url, canonical_url=url, source=source, title=name, text=text,
                   published=published, date_source="feed" if published else None, fetched_at=fetched)


def corpus() -> list[Article]:
    """Two copy families (one with a published-date tie), unrelated seeds and templated briefs."""
    s2, s4 = seed_text(2), seed_text(4)
    return [
        make_article("s2-orig", s2, "alpha", T0, T0),
        make_article("s2-trunc", truncated(s2), "beta", T0, T0 + timedelta(minutes=1)),
        make_article("s2-wire", wire(s2), "wire", T0 + timedelta(hours=1), T0),
        make_article("s4-orig", s4, "gamma", None, T0 + timedelta(hours=3)),
        make_article("s4-abr", abridged(s4), "delta", None, T0 + timedelta(hours=2)),
        make_article("s0", seed_text(0), "alpha", T0, T0),
        make_article("s1", seed_text(1), "beta", T0, T0),
        make_article("s3", seed_text(3), "gamma", T0, T0),
        make_article("page-a", CHROME_TOP + BRIEF_A + CHROME_BOTTOM, "courier", T0, T0),
        make_article("page-b", CHROME_TOP + BRIEF_B + CHROME_BOTTOM, "courier", T0, T0),
    ]


def index_batch(es, prefix: str, batch: list[Article]) -> None:
    """What the pipeline does per batch: fingerprint, assign clusters, bulk-index."""
    pairs = [(article, fingerprint(article.text)) for article in batch]
    fields = es_clusters.assign_clusters(es, pairs, prefix)
    assert set(fields) == {a.id for a in batch}
    actions = [
        {"_index": f"{prefix}-articles", "_id": a.id, "_source": article_document(a, fp, fields[a.id])}
        for a, fp in pairs
    ]
    helpers.bulk(es, actions, refresh=True)


def cluster_state(es, prefix: str) -> dict[str, dict]:
    es.indices.refresh(index=f"{prefix}-articles")
    hits = es.search(index=f"{prefix}-articles", size=100, query={"match_all": {}},
                     _source=["title", *es_clusters.CLUSTER_FIELDS])["hits"]["hits"]
    fields = ("title", *es_clusters.CLUSTER_FIELDS)
    return {hit["_id"]: {name: hit["_source"].get(name) for name in fields} for hit in hits}


def ingest(es, prefix: str, articles: list[Article], batch_size: int) -> dict[str, dict]:
    ensure_indices(es, prefix)
    for start in range(0, len(articles), batch_size):
        index_batch(es, prefix, articles[start : start + batch_size])
    es_clusters.reconcile(es, prefix, article_ids=[a.id for a in articles])
    return cluster_state(es, prefix)


def test_find_candidates_is_one_lsh_query(es, index_prefix):
    articles = corpus()
    ensure_indices(es, index_prefix)
    index_batch(es, index_prefix, articles)
    original = articles[0]
    found = es_clusters.find_candidates(es, fingerprint(original.text), index_prefix, exclude_id=original.id)
    ids = {doc["id"] for doc in found}
    assert {articles[1].id, articles[2].id} <= ids  # its truncated and wire copies
    assert original.id not in ids
    assert articles[5].id not in ids and articles[6].id not in ids  # unrelated reports share no band
    assert all(len(doc["minhash"]) == 256 for doc in found)


def test_clusters_in_es_do_not_depend_on_order_and_rerun_changes_nothing(es, index_prefix):
    articles = corpus()
    by_name = {a.title: a.id for a in articles}
    first = ingest(es, index_prefix, articles, batch_size=3)

    canonical = {doc["title"]: doc for doc in first.values()}
    assert canonical["s2-orig"]["is_canonical"] and canonical["s2-orig"]["duplicate_count"] == 2
    assert canonical["s2-orig"]["copy_sources"] == ["beta", "wire"]
    assert canonical["s2-orig"]["copy_urls"] == sorted(["https://beta.example.org/s2-trunc",
                                                        "https://wire.example.org/s2-wire"])
    for name in ("s2-trunc", "s2-wire"):
        assert canonical[name]["duplicate_of"] == by_name["s2-orig"] and not canonical[name]["is_canonical"]
        assert canonical[name]["cluster_id"] == by_name["s2-orig"]
    # no published date on either: earliest fetched wins
    assert canonical["s4-abr"]["is_canonical"] and canonical["s4-orig"]["duplicate_of"] == by_name["s4-abr"]
    for name in ("s0", "s1", "s3", "page-a", "page-b"):
        assert canonical[name]["cluster_id"] == by_name[name] and canonical[name]["duplicate_count"] == 0

    assert es_clusters.reconcile(es, index_prefix, article_ids=list(by_name.values())) == 0
    assert cluster_state(es, index_prefix) == first

    shuffled = articles[:]
    random.Random(7).shuffle(shuffled)
    second = ingest(es, f"{index_prefix}-b", shuffled, batch_size=4)
    assert second == first


def test_parallel_batches_end_in_one_cluster_after_reconcile(es, index_prefix):
    """Two tasks index two copies at the same moment; neither sees the other; reconcile joins them."""
    ensure_indices(es, index_prefix)
    s1 = seed_text(1)
    original = make_article("orig", s1, "alpha", T0, T0 + timedelta(minutes=5))
    copy = make_article("copy", truncated(s1), "beta", T0 + timedelta(minutes=30), T0)
    seen: dict[str, dict] = {}
    barrier = threading.Barrier(2)

    def task(article: Article) -> None:
        pairs = [(article, fingerprint(article.text))]
        barrier.wait()  # both look up candidates before either has indexed
        seen.update(es_clusters.assign_clusters(es, pairs, index_prefix))
        barrier.wait()
        index_batch(es, index_prefix, [article])

    threads = [threading.Thread(target=task, args=(a,)) for a in (original, copy)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen[original.id]["is_canonical"] and seen[copy.id]["is_canonical"]  # two clusters so far

    assert es_clusters.reconcile(es, index_prefix, since=T0 - timedelta(days=365 * 30)) >= 1
    state = cluster_state(es, index_prefix)
    assert state[original.id]["cluster_id"] == state[copy.id]["cluster_id"] == original.id
    assert state[original.id]["is_canonical"] and state[original.id]["copy_sources"] == ["beta"]
    assert state[copy.id]["duplicate_of"] == original.id
    assert es_clusters.reconcile(es, index_prefix, article_ids=[copy.id]) == 0


def test_a_new_earlier_article_takes_over_the_cluster(es, index_prefix):
    ensure_indices(es, index_prefix)
    s3 = seed_text(3)
    later = make_article("later", s3, "alpha", T0 + timedelta(days=1), T0)
    index_batch(es, index_prefix, [later])
    earlier = make_article("earlier", truncated(s3), "beta", T0, T0)
    index_batch(es, index_prefix, [earlier])
    assert es_clusters.reconcile(es, index_prefix, article_ids=[earlier.id]) == 1  # only the old canonical changes
    state = cluster_state(es, index_prefix)
    assert state[earlier.id]["is_canonical"] and state[earlier.id]["copy_urls"] == [later.url]
    assert state[later.id]["duplicate_of"] == earlier.id and state[later.id]["cluster_id"] == earlier.id


def test_more_candidates_than_allowed_keeps_the_most_similar(es, index_prefix):
    """When the cheap lookup fills ``max_candidates``, a ranked one keeps those sharing most bands."""
    ensure_indices(es, index_prefix)
    s0 = seed_text(0)
    near = make_article("near", wire(s0), "wire", T0, T0)
    far = [make_article(f"cut{i}", truncated(s0, share), "beta", T0, T0) for i, share in enumerate((0.3, 0.4))]
    index_batch(es, index_prefix, [near, *far, make_article("other", seed_text(1), "alpha", T0, T0)])
    probe = fingerprint(s0)
    everything = es_clusters.find_candidates(es, probe, index_prefix)
    assert {doc["id"] for doc in everything} == {near.id, far[0].id, far[1].id}
    params = dataclasses.replace(DEFAULT_PARAMS, max_candidates=2)
    capped = es_clusters.find_candidates(es, probe, index_prefix, params=params)
    assert [doc["id"] for doc in capped][0] == near.id and len(capped) == 2
    assert es_clusters.find_candidates(es, probe, index_prefix, params=params) == capped

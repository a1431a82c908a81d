"""Bulk writes, source state and run reports against the real Elasticsearch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import uuid

import pytest

from newswire.ids import article_id, claim_id
from newswire.index import admin, bulk, names, state
from newswire.index.bulk import article_document
from newswire.models import Article, Claim, Fingerprint, ItemOutcome, RunReport, SourceReport, SourceState


@pytest.fixture(scope="module")
def prefix(es):
    """One set of indices for this module (creating indices is the slow part)."""
    prefix = f"t-bulk-{uuid.uuid4().hex[:8]}"
    admin.ensure_indices(es, prefix)
    yield prefix
    admin.drop(es, prefix)


def _article(n: int, **kw) -> Article:
    url = f"https://news.example/{n}"
    fields = dict(
        id=article_id(url), url=url, canonical_url=url, source="wire", title=f"Story {n}", text=f"Body of story {n}. " * 20,
        published=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(hours=n), language="en",
    )
    fields.update(kw)
    return Article(**fields)


def test_article_document_fields():
    fp = Fingerprint(exact_hash="h", minhash=[1, 2, 3], band_keys=["b0:1", "b1:2"], shingle_count=40)
    art = _article(1, language="de", claims=[Claim(text="x", score=0.8, checkworthy=True, sentence_index=3)])
    doc = article_document(art, fp, indexed_at=datetime(2025, 3, 2, tzinfo=UTC))
    assert doc["id"] == article_id("https://news.example/1")
    assert doc["band_keys"] == ["b0:1", "b1:2"] and doc["minhash"] == [1, 2, 3]
    assert doc["is_canonical"] is True and doc["cluster_id"] == doc["id"] and doc["duplicate_count"] == 0
    assert doc["text_de"] == art.text and doc["title_de"] == art.title
    assert doc["claim_count"] == 1 and doc["claims"][0]["sentence_index"] == 3
    assert doc["freshness_lag_seconds"] == pytest.approx(23 * 3600)
    with pytest.raises(ValueError):
        article_document(_article(2), cluster={"cluster_id": "c", "colour": "red"})


def test_same_article_twice_updates_and_never_duplicates(es, prefix):
    doc = article_document(_article(10))
    first = bulk.index_articles(es, [doc], prefix)
    changed = {**doc, "title": "Story 10, corrected"}
    second = bulk.index_articles(es, [changed], prefix)
    assert (first.created, second.updated, second.created) == (1, 1, 0)
    hits = es.search(index=names.alias(prefix, "articles"), query={"term": {"url": doc["url"]}})["hits"]
    assert hits["total"]["value"] == 1
    assert hits["hits"][0]["_id"] == article_id(doc["canonical_url"])
    assert hits["hits"][0]["_source"]["title"] == "Story 10, corrected"


def test_one_malformed_document_is_reported_and_parked_the_rest_indexed(es, prefix):
    docs = [article_document(_article(n)) for n in range(20, 24)]
    bad = article_document(_article(24))
    bad["published"] = "last tuesday"  # not a date
    unknown = {**article_document(_article(25)), "colour": "red"}  # not in the strict mapping
    result = bulk.index_articles(es, docs[:2] + [bad] + docs[2:] + [unknown], prefix)

    assert result.indexed == 4
    assert {f.id: f.error_type for f in result.failed} == {
        bad["id"]: "document_parsing_exception",
        unknown["id"]: "strict_dynamic_mapping_exception",
    }
    assert all(f.status == 400 and f.reason for f in result.failed)
    assert "published" in next(f.reason for f in result.failed if f.id == bad["id"])
    assert result.dead_lettered == 2
    assert {(o.url, o.reason) for o in result.outcomes()} == {
        (bad["url"], "index-document_parsing_exception"), (unknown["url"], "index-strict_dynamic_mapping_exception")
    }
    # Refreshed once at the end: the good ones are searchable right away.
    ids = [d["id"] for d in docs]
    assert es.count(index=names.alias(prefix, "articles"), query={"ids": {"values": ids}})["count"] == 4
    parked = es.search(index=names.alias(prefix, "deadletter"), query={"term": {"doc_id": bad["id"]}})["hits"]["hits"]
    assert len(parked) == 1
    assert parked[0]["_source"]["document"]["published"] == "last tuesday"
    assert parked[0]["_source"]["error_type"] == "document_parsing_exception"


def test_writes_never_create_an_index_where_the_alias_belongs(es):
    result = bulk.index_articles(es, [article_document(_article(30))], "t-nosetup")
    assert result.indexed == 0 and result.failed[0].status == 404
    assert not es.indices.exists(index="t-nosetup-articles")


def test_claims_one_document_each_and_stale_ones_removed(es, prefix):
    claims = [Claim(text=f"Unemployment fell to {n} percent.", score=0.9, checkworthy=True, sentence_index=n,
                    speaker="The minister", numbers=[str(n)]) for n in (1, 4, 7)]
    art = _article(40, claims=claims)
    doc = article_document(art)
    result = bulk.index_claims(es, [(art, doc)], prefix)
    assert result.indexed == 3
    stored = es.get(index=names.alias(prefix, "claims"), id=claim_id(doc["id"], 4))["_source"]
    assert stored["article_id"] == doc["id"] and stored["speaker"] == "The minister" and stored["source"] == "wire"

    art.claims = claims[:1]  # re-extracted in a later run: only one claim left
    bulk.index_claims(es, [(art, article_document(art))], prefix)
    left = es.search(index=names.alias(prefix, "claims"), query={"term": {"article_id": doc["id"]}})["hits"]["hits"]
    assert [h["_id"] for h in left] == [claim_id(doc["id"], 1)]


def test_source_state_round_trip(es, prefix):
    assert state.load_state(es, "feed-a", prefix) == SourceState(source="feed-a")
    saved = SourceState(
        source="feed-a", etag='"v2"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
        last_success=datetime(2025, 1, 1, 12, tzinfo=UTC), consecutive_failures=3, last_error="timeout",
    )
    state.save_state(es, saved, prefix)
    assert state.load_state(es, "feed-a", prefix) == saved  # realtime GET: no refresh needed


def test_seen_check_finds_articles_by_canonical_and_by_entry_url_and_remembers_rejections(es, prefix):
    now = datetime(2025, 3, 5, 12, tzinfo=UTC)
    by_canonical = article_document(_article(50))
    redirected = article_document(_article(51), entry_url="http://news.example/go/51?ref=rss&utm_source=x")
    bulk.index_articles(es, [by_canonical, redirected], prefix, options=bulk.BulkOptions(refresh=True))
    state.remember_rejected(es, [(["http://news.example/menu?utm_medium=rss", "https://news.example/menu"],
                                  "not-article")], "wire", now, now + timedelta(days=7), prefix)
    state.remember_rejected(es, [(["https://news.example/old-paywall"], "paywall")], "wire",
                            now - timedelta(days=8), now - timedelta(days=1), prefix)
    asked = ["https://news.example/50?utm_campaign=feed",  # tracking parameters: the same canonical URL
             "http://news.example/go/51?ref=rss",  # the link it was listed under (a redirect)
             "https://news.example/menu", "https://news.example/old-paywall", "https://news.example/never"]
    known = state.known_urls(es, asked, now, prefix)
    assert {url: (o.reason, o.detail) for url, o in known.items()} == {
        asked[0]: ("already-indexed", None),
        asked[1]: ("already-indexed", None),
        asked[2]: ("already-rejected", "not-article"),
    }  # the paywall's memory has expired; the last URL was never seen


def test_create_leaves_an_existing_article_and_reports_it(es, prefix):
    doc = article_document(_article(60))
    first = bulk.index_articles(es, [doc], prefix, options=bulk.BulkOptions(create=True))
    again = bulk.index_articles(es, [{**doc, "source": "other"}], prefix, options=bulk.BulkOptions(create=True))
    assert (first.created, again.indexed, again.existed, again.failed, again.dead_lettered) == (
        1, 0, [doc["id"]], [], 0)
    assert es.get(index=names.alias(prefix, "articles"), id=doc["id"])["_source"]["source"] == "wire"


def test_an_article_without_id_is_refused_not_given_one(es, prefix):
    with pytest.raises(ValueError):
        article_document(_article(61, id=""))
    result = bulk.index_articles(es, [{"url": "https://news.example/62", "title": "no id"}], prefix)
    assert result.indexed == 0 and result.failed[0].error_type == "missing_id"


def test_run_report_documents(es, prefix):
    end = datetime(2025, 3, 5, 12, tzinfo=UTC)
    report = RunReport(
        run_id="run-1", started_at=end - timedelta(minutes=5), finished_at=end, merged_clusters=1,
        sources=[
            SourceReport(source="a", seen=10, new=6, fetched=6, indexed=5, duplicates=1, claims=4,
                         failed=[ItemOutcome(url="https://a/x", reason="http-500")],
                         durations={"fetch": 2.5, "extract": 0.4}, freshness_lag_seconds=[60, 120, 600],
                         started_at=end - timedelta(minutes=4), finished_at=end),
            SourceReport(source="b", status="failed", error="connect timeout"),
        ],
    )
    assert state.write_run_report(es, report, prefix) == 3
    runs = names.alias(prefix, "runs")
    a = es.get(index=runs, id="run-1:a")["_source"]
    assert a["failed_count"] == 1 and a["failed"][0]["reason"] == "http-500"
    assert a["freshness_lag_median_seconds"] == 120 and a["duplicate_ratio"] == pytest.approx(0.2)
    assert a["durations"] == {"fetch": 2.5, "extract": 0.4} and a["@timestamp"].startswith("2025-03-05T12")
    summary = es.get(index=runs, id="run-1:_run")["_source"]
    assert (summary["kind"], summary["sources"], summary["sources_failed"], summary["indexed"]) == ("run", 2, 1, 5)
    # The dashboard's "failed fetches per source" aggregation works on these documents.
    aggs = es.search(index=runs, size=0, query={"term": {"kind": "source"}},
                     aggs={"by": {"terms": {"field": "source"}, "aggs": {"f": {"sum": {"field": "failed_count"}}}}})
    assert {b["key"]: b["f"]["value"] for b in aggs["aggregations"]["by"]["buckets"]} == {"a": 1.0, "b": 0.0}

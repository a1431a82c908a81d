"""Claims once per story, against the real Elasticsearch: stored under the canonical, listing every
outlet that carried the story, and moved when an earlier copy becomes the canonical."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from newswire.dedup import fingerprint
from newswire.ids import article_id, claim_id
from newswire.index import admin, names
from newswire.index.bulk import article_document, index_articles, index_claims
from newswire.index.clusters import assign_clusters, reconcile
from newswire.index.story_claims import sync_story_claims, touched_clusters
from newswire.models import Article, Claim

STORY = (
    "The harbor authority said on Friday that two of its five cranes failed during the storm and that "
    "forty containers fell into the water near the eastern pier. Repairs will take about a month, the "
    "authority's chief engineer told reporters, and ships are being sent to the northern terminal until "
    "then. The port handled 1.2 million containers last year, a record for the city. Union leaders said "
    "the cranes had not been inspected since 2019 and called for an independent review of maintenance. "
) * 3


@pytest.fixture(scope="module")
def prefix(es):
    prefix = f"t-story-{uuid.uuid4().hex[:8]}"
    admin.ensure_indices(es, prefix)
    yield prefix
    admin.drop(es, prefix)


def _article(source: str, hours: int) -> Article:
    url = f"https://{source}.example/harbor"
    claims = [Claim(text="Two of its five cranes failed.", score=0.9, checkworthy=True, sentence_index=0,
                    speaker="harbor authority", speaker_key="harbor authority", numbers=["five"]),
              Claim(text="The port handled 1.2 million containers last year.", score=0.8, checkworthy=True,
                    sentence_index=2)]
    return Article(id=article_id(url), url=url, canonical_url=url, source=source, title="Cranes fail", text=STORY,
                   published=datetime(2025, 5, 2, tzinfo=UTC) + timedelta(hours=hours), language="en",
                   claims=claims)


def _store(es, prefix: str, articles: list[Article]) -> None:
    """What one run does: cluster, write claims and articles, reconcile, then sync the stories' claims."""
    since = datetime.now(UTC)
    prints = {a.id: fingerprint(a.text) for a in articles}
    clusters = assign_clusters(es, [(a, prints[a.id]) for a in articles], prefix)
    docs = [article_document(a, prints[a.id], clusters.get(a.id), indexed_at=since) for a in articles]
    index_claims(es, list(zip(articles, docs)), prefix)
    index_articles(es, docs, prefix)
    reconcile(es, prefix, since=since)
    sync_story_claims(es, prefix, touched_clusters(es, prefix, since))


def _claims(es, prefix: str) -> dict[str, dict]:
    hits = es.search(index=names.alias(prefix, "claims"), size=100)["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def test_a_story_is_stored_once_and_moves_with_its_canonical(es, prefix):
    first = _article("wire-a", hours=5)
    _store(es, prefix, [first])
    assert set(_claims(es, prefix)) == {claim_id(first.id, 0), claim_id(first.id, 2)}

    copy = _article("wire-b", hours=8)  # a later copy: refers to the stored claims, adds its outlet
    _store(es, prefix, [copy])
    stored = _claims(es, prefix)
    assert set(stored) == {claim_id(first.id, 0), claim_id(first.id, 2)}  # no second set of rows
    claim = stored[claim_id(first.id, 0)]
    assert claim["outlets"] == ["wire-a", "wire-b"] and claim["urls"] == [first.url, copy.url]
    assert claim["copy_count"] == 1 and claim["speaker_key"] == "harbor authority"
    copy_doc = es.get(index=names.alias(prefix, "articles"), id=copy.id)["_source"]
    assert copy_doc["duplicate_of"] == first.id == claim["cluster_id"]

    earlier = _article("wire-c", hours=1)  # published first: the canonical rule makes it the canonical
    _store(es, prefix, [earlier])
    stored = _claims(es, prefix)
    assert set(stored) == {claim_id(earlier.id, 0), claim_id(earlier.id, 2)}  # moved, none left behind
    claim = stored[claim_id(earlier.id, 0)]
    assert claim["outlets"] == ["wire-a", "wire-b", "wire-c"] and claim["url"] == earlier.url
    assert claim["canonical_id"] == earlier.id == claim["cluster_id"] and claim["copy_count"] == 2

    before = _claims(es, prefix)
    assert sync_story_claims(es, prefix, {earlier.id}) == 2 and _claims(es, prefix) == before  # idempotent

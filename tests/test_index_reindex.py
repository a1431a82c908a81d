"""Reindex to a new version and retention, against the real Elasticsearch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from newswire import cli
from newswire.ids import article_id
from newswire.index import admin, bulk, names, retention
from newswire.index.bulk import article_document
from newswire.index.reindex import ReindexError, reindex
from newswire.models import Article, SourceState
from newswire.index import state


@pytest.fixture(scope="module")
def prefix(es):
    """One set of indices for the reindex tests; each test moves a different kind."""
    prefix = f"t-reindex-{uuid.uuid4().hex[:8]}"
    admin.ensure_indices(es, prefix, kinds=["articles", "claims", "sources"])
    yield prefix
    admin.drop(es, prefix)


def _docs(n: int, start: datetime) -> list[dict]:
    return [
        article_document(Article(id=article_id(f"https://r.example/{i}"), url=f"https://r.example/{i}", source="s", title=f"T{i}", text=f"text {i}",
                                 published=start + timedelta(minutes=i)))
        for i in range(n)
    ]


def test_reindex_keeps_every_document_and_moves_the_alias(es, prefix):
    index_prefix = prefix
    docs = _docs(300, datetime(2025, 1, 1, tzinfo=UTC))
    assert bulk.index_articles(es, docs, index_prefix).indexed == 300
    alias = names.alias(index_prefix, "articles")
    before = {h["_id"]: h["_source"] for h in es.search(index=alias, size=1000)["hits"]["hits"]}

    result = reindex(es, "articles", index_prefix, batch_size=100)

    assert (result.source_index, result.target_index) == (f"{alias}-v1", f"{alias}-v2")
    assert result.copied == 300
    aliases = es.indices.get_alias(name=alias).body
    assert list(aliases) == [f"{alias}-v2"] and aliases[f"{alias}-v2"]["aliases"][alias]["is_write_index"]
    after = {h["_id"]: h["_source"] for h in es.search(index=alias, size=1000)["hits"]["hits"]}
    assert after == before  # same ids, same documents
    assert es.count(index=f"{alias}-v1")["count"] == 300  # the old index is kept until deleted
    # Writes now go to v2, and set-up sees the alias as current.
    assert bulk.index_articles(es, _docs(1, datetime(2025, 2, 1, tzinfo=UTC)), index_prefix).indexed == 1
    assert es.count(index=f"{alias}-v2")["count"] == 300
    assert admin.ensure_indices(es, index_prefix, kinds=["articles"])["indices"]["articles"] == {
        "alias": alias, "index": f"{alias}-v2", "status": "exists"}


def test_reindex_that_loses_documents_leaves_the_alias(es, prefix):
    for n in range(5):
        state.save_state(es, SourceState(source=f"feed-{n}", consecutive_failures=n), prefix)

    def break_one(doc):
        return {**doc, "last_attempt": "garbage"} if doc["source"] == "feed-3" else doc

    with pytest.raises(ReindexError, match="4 of 5"):
        reindex(es, "sources", prefix, transform=break_one)
    alias = names.alias(prefix, "sources")
    assert list(es.indices.get_alias(name=alias).body) == [f"{alias}-v1"]


def test_reindex_command(es, prefix, monkeypatch, capsys):
    index_prefix = prefix
    monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", index_prefix)
    assert cli.main(["reindex", "--index", "claims", "--delete-old"]) == 0
    alias = names.alias(index_prefix, "claims")
    current = names.MAPPING_VERSIONS["claims"]  # the command creates the current version, then moves to the next
    assert '"to": "%s-v%d"' % (alias, current + 1) in capsys.readouterr().out
    assert list(es.indices.get_alias(name=alias).body) == [f"{alias}-v{current + 1}"]
    assert not es.indices.exists(index=f"{alias}-v{current}")


def test_delete_older_than(es, index_prefix):
    admin.ensure_indices(es, index_prefix, kinds=["articles", "claims"])
    now = datetime.now(UTC)
    old = _docs(3, now - timedelta(days=40))
    fresh = [{**d, "id": "f" * 39 + str(i), "url": d["url"] + "f"} for i, d in enumerate(_docs(2, now - timedelta(days=1)))]
    undated_old = {**_docs(1, now)[0], "id": "u" * 40, "url": "https://r.example/undated",
                   "indexed_at": (now - timedelta(days=50)).isoformat()}
    undated_old.pop("published")
    bulk.index_articles(es, old + fresh + [undated_old], index_prefix)
    assert retention.delete_older_than(es, 30, index_prefix) == {"articles": 4, "claims": 0}
    left = {h["_id"] for h in es.search(index=names.alias(index_prefix, "articles"))["hits"]["hits"]}
    assert left == {d["id"] for d in fresh}

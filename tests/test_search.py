"""Search against the real Elasticsearch, over the seed articles plus a copy and a German story."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswire import cli
from newswire.index import admin, bulk
from newswire.index.bulk import article_document
from newswire.index.search import search_articles, search_claims
from newswire.ids import article_id
from newswire.models import Article, Claim

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
GERMAN = (
    "Die Bundesregierung hat am Montag neue Regeln für den Zugverkehr beschlossen. "
    "Die Bahnen sollen künftig pünktlicher fahren, sagte die Verkehrsministerin in Berlin."
)


def _seed_articles() -> list[Article]:
    articles = []
    for n, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        lines = [line.strip().lstrip("#").strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        url = f"https://seed.example/{path.stem}"
        articles.append(Article(
            id=article_id(url), url=url, canonical_url=url, source="alpha" if n % 2 == 0 else "beta",
            title=lines[0], text="\n".join(lines[1:]), language="en",
            published=datetime(2024, 1, 1 + n, 9, tzinfo=UTC),
        ))
    return articles


def _phrase(article: Article) -> str:
    """Twenty words from the article's longest paragraph: a sentence a reader might paste."""
    return " ".join(max(article.text.splitlines(), key=len).split()[:20])


@pytest.fixture(scope="module")
def corpus(es):
    """Index the seeds, a copy of seed 2 from another outlet, and a German article; once per module."""
    prefix = f"t-search-{uuid.uuid4().hex[:8]}"
    admin.ensure_indices(es, prefix, kinds=["articles", "claims", "deadletter"])
    seeds = _seed_articles()
    original = seeds[2]
    docs = [article_document(a) for a in seeds]
    canonical_id = docs[2]["id"]
    docs[2].update(duplicate_count=1, copy_sources=["gamma"], copy_urls=["https://copy.example/1"])
    copy = Article(**{**{f: getattr(original, f) for f in original.__slots__},
                      "id": article_id("https://copy.example/1"), "url": "https://copy.example/1",
                      "canonical_url": "https://copy.example/1", "source": "gamma"})
    docs.append(article_document(copy, cluster={"cluster_id": canonical_id, "is_canonical": False, "duplicate_of": canonical_id}))
    german = Article(id=article_id("https://de.example/zug"), url="https://de.example/zug", canonical_url="https://de.example/zug", source="beta",
                     title="Neue Regeln für die Bahn", text=GERMAN, language="de",
                     published=datetime(2024, 1, 20, tzinfo=UTC),
                     claims=[Claim(text="Die Bahnen sollen künftig pünktlicher fahren.", score=0.7, checkworthy=True,
                                   sentence_index=1, speaker="die Verkehrsministerin")])
    docs.append(article_document(german))
    claimed = seeds[0]
    claimed.claims = [Claim(text=claimed.text.splitlines()[0], score=0.9, checkworthy=True, sentence_index=0,
                            speaker="DEBKA Weekly", verb="reveal")]
    docs[0] = article_document(claimed)
    result = bulk.index_articles(es, docs, prefix)
    assert result.ok and result.indexed == len(docs)
    bulk.index_claims(es, [(claimed, docs[0]), (german, docs[-1])], prefix)
    yield {"prefix": prefix, "seeds": seeds, "docs": docs, "canonical_id": canonical_id, "copy_id": docs[5]["id"]}
    admin.drop(es, prefix)


def test_phrase_from_a_seed_article_finds_it_first(es, corpus):
    for n in (0, 3):
        seed_doc = corpus["docs"][n]
        result = search_articles(es, _phrase(corpus["seeds"][n]), prefix=corpus["prefix"])
        assert result.hits[0].id == seed_doc["id"], n
        assert any("<em>" in f for f in result.hits[0].fragments())


def test_duplicates_hidden_by_default_and_shown_on_request(es, corpus):
    phrase = _phrase(corpus["seeds"][2])
    default = search_articles(es, phrase, prefix=corpus["prefix"])
    assert default.hits[0].id == corpus["canonical_id"]
    assert corpus["copy_id"] not in {h.id for h in default.hits}
    everything = search_articles(es, phrase, include_duplicates=True, prefix=corpus["prefix"])
    assert {h.id for h in everything.hits[:2]} == {corpus["canonical_id"], corpus["copy_id"]}
    assert everything.total == default.total + 1


def test_source_filter(es, corpus):
    result = search_articles(es, "Russian", source="beta", prefix=corpus["prefix"])
    assert result.total >= 1 and {h.doc["source"] for h in result.hits} == {"beta"}
    unfiltered = search_articles(es, "Russian", prefix=corpus["prefix"], size=50)
    assert {h.doc["source"] for h in unfiltered.hits} >= {"alpha", "beta"}


def test_date_filter(es, corpus):
    result = search_articles(es, "", since="2024-01-04", prefix=corpus["prefix"], size=50)
    expected = {d["id"] for d in corpus["docs"] if d["published"] >= "2024-01-04" and d.get("is_canonical")}
    assert {h.id for h in result.hits} == expected and len(expected) == 3
    assert [h.doc["published"] for h in result.hits] == sorted((h.doc["published"] for h in result.hits), reverse=True)
    until = search_articles(es, "", until="2024-01-02T23:59:59Z", prefix=corpus["prefix"], size=50)
    assert len(until.hits) == 2


def test_language_filter_and_language_field(es, corpus):
    result = search_articles(es, "Zugverkehr Bahnen", lang="de", prefix=corpus["prefix"])
    assert [h.doc["title"] for h in result.hits] == ["Neue Regeln für die Bahn"]
    assert "text_de" in result.hits[0].highlights
    assert search_articles(es, "Zugverkehr", lang="en", prefix=corpus["prefix"]).total == 0


def test_claims_search_by_text_and_speaker(es, corpus):
    result = search_claims(es, "Spetsnaz Palmyra", prefix=corpus["prefix"])
    assert result.hits[0].doc["speaker"] == "DEBKA Weekly"
    assert result.hits[0].doc["article_id"] == corpus["docs"][0]["id"]
    by_speaker = search_claims(es, "", speaker="Verkehrsministerin", prefix=corpus["prefix"])
    assert [h.doc["language"] for h in by_speaker.hits] == ["de"]


def test_cli_search_json_and_human(es, corpus, monkeypatch, capsys):
    monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", corpus["prefix"])
    phrase = _phrase(corpus["seeds"][3])
    assert cli.main(["search", phrase, "--json", "--size", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hits"][0]["id"] == corpus["docs"][3]["id"] and data["hits"][0]["highlights"]
    assert cli.main(["search", "Zugverkehr", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    assert "1 match" in out and "Neue Regeln für die Bahn" in out and "*Zugverkehr*" in out
    assert cli.main(["search", "Bahnen", "--claims", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["speaker"] == "die Verkehrsministerin"
    assert cli.main(["search", "x", "--since", "not-a-date"]) == 2

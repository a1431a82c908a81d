"""Maintenance steps against the real Elasticsearch, and the maintenance DAG through Airflow."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import REPO
from newswire import maintenance, pipeline
from newswire.index.bulk import article_document, index_articles
from newswire.ids import article_id
from newswire.models import Article
from newswire.settings import Settings


@pytest.fixture
def settings(es_url, index_prefix):
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    return settings


@pytest.fixture(scope="module")
def stages():
    return pipeline.Stages.load()


def _article(n: int, published: datetime, text: str) -> Article:
    url = f"https://news.example.org/story/{n}"
    return Article(id=article_id(url), url=url, canonical_url=url, source="test", title=f"Story {n}", text=text,
                   published=published, language="en", quality=0.9)


TEXT = ("The defence ministry said on Friday that 1,000 militants were killed in the offensive.\n\n"
        "Residents described a quiet night in the old town, where shops reopened.")


def test_setup_is_idempotent(settings):
    first = maintenance.setup(settings)
    second = maintenance.setup(settings)
    assert {k: v["index"] for k, v in first["indices"].items()} == {k: v["index"] for k, v in second["indices"].items()}
    assert all(v["status"] == "exists" for v in second["indices"].values())
    assert maintenance.reindex_outdated(settings) == {}  # every index is at the current mapping version


def test_rescore_claims_only_touches_articles_of_another_model(es, settings, stages):
    now = datetime.now(timezone.utc)
    docs = []
    for n in range(3):
        article = _article(n, now, TEXT)
        article.claims = stages.claims.extract(article.text)
        doc = article_document(article, indexed_at=now)
        doc["claims_model"] = "an-older-model" if n < 2 else stages.claims_model
        docs.append(doc)
    assert index_articles(es, docs, settings.index_prefix).indexed == 3

    assert maintenance.rescore_claims(settings, extractor=stages.claims) == 2
    assert maintenance.rescore_claims(settings, extractor=stages.claims) == 0  # idempotent
    stored = es.search(index=f"{settings.index_prefix}-articles", size=10)["hits"]["hits"]
    assert {h["_source"]["claims_model"] for h in stored} == {stages.claims_model}
    assert all(h["_source"]["claim_count"] >= 1 for h in stored)
    es.indices.refresh(index=f"{settings.index_prefix}-claims")
    claims = es.search(index=f"{settings.index_prefix}-claims", query={"match": {"text": "militants"}})
    assert claims["hits"]["total"]["value"] >= 2


def test_retention_is_off_by_default_and_deletes_old_articles_when_set(es, settings):
    now = datetime.now(timezone.utc)
    docs = [article_document(_article(1, now - timedelta(days=400), TEXT), indexed_at=now),
            article_document(_article(2, now - timedelta(days=2), TEXT), indexed_at=now)]
    index_articles(es, docs, settings.index_prefix)
    unset = Settings.from_env({"ELASTICSEARCH_URL": settings.es_url, "NEWSWIRE_INDEX_PREFIX": settings.index_prefix})
    assert maintenance.apply_retention(unset) == {}
    configured = Settings.from_env({"ELASTICSEARCH_URL": settings.es_url, "NEWSWIRE_INDEX_PREFIX": settings.index_prefix,
                                    "NEWSWIRE_RETENTION_DAYS": "30"})
    assert maintenance.apply_retention(configured)["articles"] == 1
    es.indices.refresh(index=f"{settings.index_prefix}-articles")
    left = es.search(index=f"{settings.index_prefix}-articles")["hits"]["hits"]
    assert [h["_source"]["url"] for h in left] == ["https://news.example.org/story/2"]


def test_maintenance_dag_runs_through_airflow(es, index_prefix, airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", index_prefix)
    monkeypatch.delenv("KIBANA_URL", raising=False)
    dag = DagBag(dag_folder=str(REPO / "dags" / "newswire_maintenance.py")).dags["newswire_maintenance"]
    run = dag.test()
    assert run.state == "success"
    assert es.indices.exists_alias(name=f"{index_prefix}-articles")

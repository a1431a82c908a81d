"""End to end through Airflow: a local feed of real pages plus the seeds, into the real Elasticsearch.

A real HTTP server on 127.0.0.1 serves an RSS feed of 30 real article pages (24 distinct
pages from the article-extraction benchmark and 6 copies of some of them under other URLs);
``dag.test()`` runs the ingestion DAG; then a second run must add nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, record_fact
from support.newssite import EXACT_COPIES, TRUNCATED_COPIES, count, ingest_dag, serve_news_site, write_config
from support.webserver import WebServer


@pytest.fixture
def pipeline_env(es, index_prefix, airflow_db, tmp_path, monkeypatch):
    """A web server, a sources file naming it, and the environment the DAG reads."""
    with WebServer() as server:
        served = serve_news_site(server)
        config = write_config(tmp_path / "sources.yaml", server)
        monkeypatch.setenv("NEWSWIRE_SOURCES", str(config))
        monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", index_prefix)
        yield server, served, config


def mapped_sources(dag_run) -> int:
    return len([ti for ti in dag_run.get_task_instances() if ti.task_id == "ingest_source"])


def test_ingest_dag_end_to_end_then_idempotent(es, index_prefix, pipeline_env):
    server, served, config = pipeline_env
    articles, claims, runs = (f"{index_prefix}-{kind}" for kind in ("articles", "claims", "runs"))

    first = ingest_dag().test()
    assert first.state == "success"
    assert mapped_sources(first) == 2
    record_fact("Airflow DAG run", f"newswire_ingest {first.run_id}: {first.state}")

    # every page of the feed was fetched exactly once, and the seeds were read
    assert all(server.hits(path) == 1 for path in served)
    total = count(es, articles)
    seeds = count(es, articles, {"term": {"source": "seeds"}})
    assert seeds == 5
    assert total >= 5 + 24  # the benchmark pages are real articles; copies may share a canonical URL
    # each copy shares one cluster with its original; distinct stories are never merged
    docs = es.search(index=articles, query={"term": {"source": "local-wire"}}, size=100,
                     source=["url", "cluster_id", "is_canonical", "duplicate_of", "duplicate_count"])["hits"]["hits"]
    cluster_of_page: dict[str, set[str]] = {}
    for hit in docs:
        path = re.sub(r"^https?://[^/]+", "", hit["_source"]["url"])
        cluster_of_page.setdefault(served[path], set()).add(hit["_source"]["cluster_id"])
    assert all(len(clusters) == 1 for clusters in cluster_of_page.values())
    assert len({c for clusters in cluster_of_page.values() for c in clusters}) == 24
    duplicates = [h["_source"] for h in docs if not h["_source"]["is_canonical"]]
    assert len(duplicates) == EXACT_COPIES + TRUNCATED_COPIES
    for dup in duplicates:
        canonical = es.get(index=articles, id=dup["duplicate_of"])["_source"]
        assert canonical["is_canonical"] is True and canonical["duplicate_count"] == 1
        assert canonical["cluster_id"] == dup["cluster_id"]
    assert count(es, articles, {"term": {"is_canonical": True}}) == total - len(duplicates)
    # claims are searchable on their own, and the run left its report
    assert count(es, claims) > 0
    assert count(es, runs, {"term": {"kind": "run"}}) == 1
    source_docs = es.search(index=runs, query={"term": {"kind": "source"}})["hits"]["hits"]
    by_source = {d["_source"]["source"]: d["_source"] for d in source_docs}
    assert by_source["seeds"]["indexed"] == 5
    assert by_source["local-wire"]["indexed"] + by_source["seeds"]["indexed"] == total

    # second run: a conditional GET answered 304, no page fetched again, nothing new indexed
    server.clear_log()
    second = ingest_dag().test()
    assert second.state == "success"
    feed_requests = server.requests_for("/feed.xml")
    assert len(feed_requests) == 1 and feed_requests[0].headers.get("if-none-match") == '"feed-v1"'
    assert all(server.hits(path) == 0 for path in served)
    assert count(es, articles) == total
    assert count(es, runs, {"term": {"kind": "run"}}) == 2
    latest = es.search(index=runs, query={"bool": {"filter": [{"term": {"kind": "run"}},
                                                              {"term": {"run_id": second.run_id}}]}})
    assert latest["hits"]["hits"][0]["_source"]["indexed"] == 0

    # a source added to the config gets its own mapped task on the next run, with no code change
    extra = tmp_dir_with_article(config.parent)
    write_config(config, server, extra=f"""  - name: newsroom-drop
    type: directory
    path: {extra}
""")
    third = ingest_dag().test()
    assert third.state == "success"
    assert mapped_sources(third) == 3
    assert count(es, articles, {"term": {"source": "newsroom-drop"}}) == 1


def tmp_dir_with_article(parent: Path) -> Path:
    folder = parent / "drop"
    folder.mkdir()
    seed = sorted((REPO / "seeds").glob("*.txt"))[2].read_text()
    (folder / "note.txt").write_text("A local newsroom note\n\n" + seed.split("\n", 2)[2])
    return folder

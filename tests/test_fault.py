"""Elasticsearch goes down in the middle of a DAG run: the task fails, a retry finishes, nothing twice.

This test runs its own Elasticsearch (it is stopped and restarted on the same data), two feed
sources and the seeds. When the second feed's first page is requested, Elasticsearch is
stopped; a background thread brings it back on the same port and data a few seconds later.
Airflow's own retry of the failed mapped task then completes the run.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from newswire import es_local
from support.newssite import PAGES, count, ingest_dag, serve_news_site, write_config
from support.webserver import Request, Route, WebServer


@pytest.fixture
def own_es(es_url):  # es_url: the session server starts first, so the two never race for the JVM
    servers = {"current": es_local.start(heap="512m")}
    yield servers
    es_local.stop(servers["current"])


def test_es_down_mid_run_then_retry_completes_exactly_once(own_es, airflow_db, tmp_path, monkeypatch):
    from elasticsearch import Elasticsearch

    info = own_es["current"]
    outage: dict[str, object] = {}

    def take_es_down() -> None:
        es_local.stop(info, keep_data=True)
        outage["down"] = True

        def restart() -> None:
            # die_with_parent follows the thread that starts the server: this thread ends soon
            own_es["current"] = es_local.start(port=info.port, data_dir=Path(info.data_dir), heap="512m",
                                               die_with_parent=False)
            outage["back"] = True

        threading.Thread(target=restart, daemon=True).start()

    with WebServer() as server:
        served = serve_news_site(server, feeds=2)
        first_of_second_feed = sorted(PAGES.glob("*.html.gz"))[12].name.removesuffix(".html.gz")
        second_feed_page = f"/news/{first_of_second_feed}.html"
        assert second_feed_page in served
        page_route = server._routes[second_feed_page]

        def stop_es_then_answer(request: Request) -> Route:
            if "down" not in outage:
                take_es_down()
            return page_route

        server.add(second_feed_page, stop_es_then_answer)
        config = write_config(tmp_path / "sources.yaml", server, feeds=2)
        monkeypatch.setenv("NEWSWIRE_SOURCES", str(config))
        monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", "fault")
        monkeypatch.setenv("AIRFLOW_CONN_NEWSWIRE_ES",
                           f'{{"conn_type": "elasticsearch", "host": "127.0.0.1", "port": {info.port}, "schema": "http"}}')

        dag = ingest_dag()
        ingest = dag.get_task("ingest_source")
        ingest.retry_delay = timedelta(seconds=20)  # ES needs about 15 s to come back
        ingest.retry_exponential_backoff = False
        run = dag.test()

    assert outage == {"down": True, "back": True}
    tries = {ti.map_index: ti.try_number for ti in run.get_task_instances() if ti.task_id == "ingest_source"}
    assert max(tries.values()) >= 2, f"a mapped task should have failed and been retried: {tries}"
    assert run.state == "success"

    es = Elasticsearch(own_es["current"].url, request_timeout=60)
    try:
        articles = "fault-articles"
        total = count(es, articles)
        urls = {h["_source"]["url"] for h in es.search(index=articles, size=100, source=["url"])["hits"]["hits"]}
        assert total == len(urls) >= 5 + 24  # every page, each once
        assert count(es, articles, {"term": {"source": "seeds"}}) == 5
        # nothing was written twice: singletons were never rewritten
        singles = es.search(index=articles, size=100, version=True,
                            query={"term": {"duplicate_count": 0}})["hits"]["hits"]
        assert singles and all(hit["_version"] == 1 for hit in singles)
    finally:
        es.close()

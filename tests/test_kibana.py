"""Kibana saved objects: checked against the index mappings, and imported through a real HTTP server."""

from __future__ import annotations

import fnmatch
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newswire import cli
from newswire.index import templates
from newswire.kibana import KibanaImportError, import_saved_objects, ndjson_for, saved_objects, shipped_ndjson
from newswire.kibana.objects import field_references

NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
AGGREGATABLE = NUMERIC | {"keyword", "boolean", "date", "ip"}


def _satisfies(es_type: str, need: str) -> bool:
    return {
        "date": es_type in {"date", "date_nanos"},
        "number": es_type in NUMERIC,
        "aggregatable": es_type in AGGREGATABLE,
        "sortable": es_type in AGGREGATABLE,
        "exists": True,
    }[need]


def test_every_referenced_field_exists_with_the_right_type():
    refs = field_references(saved_objects("newswire"))
    assert len(refs) > 20
    problems = []
    for ref in refs:
        types = templates.field_types(ref.kind)
        matches = [f for f in types if fnmatch.fnmatchcase(f, ref.field)]
        if not matches:
            problems.append(f"{ref.where}: no field {ref.field} in {ref.kind}")
        problems += [f"{ref.where}: {f} is {types[f]}, needs {ref.need}" for f in matches if not _satisfies(types[f], ref.need)]
    assert problems == []


def test_the_check_catches_a_wrong_field():
    objects = saved_objects("newswire")
    lens = next(o for o in objects if o["id"] == "newswire-failed-fetches")
    lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]["layer1"]["columns"]["y"]["sourceField"] = "status"
    ref = next(r for r in field_references(objects) if r.where.endswith("failed-fetches") and r.need == "number")
    assert ref.field == "status" and not _satisfies(templates.field_types("runs")["status"], "number")


def test_objects_are_complete_and_references_resolve():
    objects = saved_objects("newswire")
    by_id = {(o["type"], o["id"]): o for o in objects}
    titles = {o["attributes"]["title"] for o in objects}
    assert {"Latest articles", "Claims by speaker", "Ingestion overview", "Claims carried by several outlets",
            "Most-carried claims"} <= titles
    assert {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"} >= {"newswire-articles", "newswire-claims"}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in by_id, (obj["id"], ref)
    dashboard = by_id[("dashboard", "newswire-ingestion-overview")]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    assert len(panels) == 7  # five charts, latest articles, most-carried claims
    for panel in panels:
        assert refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]["type"] == panel["type"]
    chart_titles = {by_id[(r["type"], r["id"])]["attributes"]["title"] for r in refs.values()}
    assert chart_titles >= {"Articles per source over time", "Duplicate ratio (canonical vs copies)",
                            "Top claim speakers", "Failed fetches per source",
                            "Freshness lag (median seconds, published to indexed)", "Most-carried claims"}
    articles_view = by_id[("index-pattern", "newswire-articles-data-view")]["attributes"]
    assert {f["value"] for f in json.loads(articles_view["sourceFilters"])} >= {"band_keys", "minhash"}


def test_committed_export_is_current():
    assert shipped_ndjson() == ndjson_for("newswire"), "regenerate: newswire setup --skip-es --kibana-export plugins/newswire/kibana/saved_objects.ndjson"
    assert "t-x-articles" in ndjson_for("t-x") and "newswire-" not in ndjson_for("t-x")


class _FakeKibana:
    """A real HTTP server on 127.0.0.1 answering like Kibana's import API, recording each request."""

    def __init__(self, statuses: list[int] | None = None):
        self.requests: list[dict] = []
        self.stored: dict[tuple[str, str], dict] = {}
        self.statuses = list(statuses or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if outer.statuses:
                    return self._reply(outer.statuses.pop(0), {"message": "not ready"})
                if "kbn-xsrf" not in self.headers:
                    return self._reply(400, {"message": "Request must contain a kbn-xsrf header."})
                message = BytesParser(policy=HTTP).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body
                )
                part = next(message.iter_parts())
                objects = [json.loads(line) for line in part.get_payload(decode=True).decode().splitlines() if line]
                overwrite = "overwrite=true" in self.path
                conflicts = [o for o in objects if (o["type"], o["id"]) in outer.stored and not overwrite]
                for obj in objects:
                    outer.stored[(obj["type"], obj["id"])] = obj
                self._reply(200, {"success": not conflicts, "successCount": len(objects) - len(conflicts),
                                  "errors": [{"id": o["id"], "error": {"type": "conflict"}} for o in conflicts]})

            def _reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_import_posts_multipart_with_xsrf_and_is_idempotent():
    ndjson = ndjson_for("newswire")
    with _FakeKibana() as kibana:
        first = import_saved_objects(kibana.url, ndjson, ("elastic", "pw"))
        second = import_saved_objects(kibana.url, ndjson, ("elastic", "pw"))
    assert first["successCount"] == second["successCount"] == len(ndjson.splitlines())
    assert len(kibana.stored) == len(ndjson.splitlines())  # same ids: replaced, not added
    request = kibana.requests[0]
    assert request["path"] == "/api/saved_objects/_import?overwrite=true"
    assert request["headers"]["kbn-xsrf"] and request["headers"]["Authorization"].startswith("Basic ")
    assert request["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="newswire.ndjson"' in request["body"]


def test_import_waits_for_kibana_and_reports_failures():
    with _FakeKibana(statuses=[503, 503]) as kibana:
        result = import_saved_objects(kibana.url, ndjson_for("p"), space="news", wait_seconds=30, retry_interval=0.05)
        assert result["success"] and len(kibana.requests) == 3
        assert kibana.requests[-1]["path"].startswith("/s/news/api/saved_objects/_import")
    with _FakeKibana(statuses=[500]) as kibana, pytest.raises(KibanaImportError, match="500"):
        import_saved_objects(kibana.url, ndjson_for("p"))


def test_setup_command_imports_into_kibana(es, index_prefix, monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", index_prefix)
    export = tmp_path / "objects.ndjson"
    with _FakeKibana() as kibana:
        assert cli.main(["setup", "--kibana-url", kibana.url, "--kibana-export", str(export)]) == 0
    assert export.read_text() == ndjson_for(index_prefix)
    assert ("index-pattern", f"{index_prefix}-articles-data-view") in kibana.stored
    assert es.indices.exists_alias(name=f"{index_prefix}-articles")

"""Kibana saved objects: checked offline against what Kibana enforces, and imported over real HTTP.

No Kibana server runs here. ``newswire.kibana.validate`` holds the rules read from Kibana's
source; these tests show the shipped objects pass them and that each broken variant is caught.
The local HTTP server below stands in for Kibana's import API only to test the client's side
of the exchange (multipart body, headers, waiting, errors), not whether the objects are valid.
"""

from __future__ import annotations

import copy
import json
import time
from email.parser import BytesParser
from email.policy import HTTP

import pytest
import yaml

from newswire import cli
from newswire.index import templates
from newswire.kibana import (
    KibanaImportError,
    KibanaObjectsError,
    KibanaTarget,
    import_saved_objects,
    ndjson_for,
    saved_objects,
    shipped_ndjson,
    validate,
)
from newswire.settings import Settings
from support.compose import COMPOSE_FILE as COMPOSE
from support.jsonapi import JsonApiServer, Request

def _lens(objects, suffix):
    return next(o for o in objects if o["type"] == "lens" and o["id"].endswith(suffix))


def _layer(obj):
    return obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]["layer1"]


def _panels(objects):
    return json.loads(next(o for o in objects if o["type"] == "dashboard")["attributes"]["panelsJSON"])


def _set_panels(objects, panels):
    next(o for o in objects if o["type"] == "dashboard")["attributes"]["panelsJSON"] = json.dumps(panels)


def _edit_panels(edit):
    def apply(objects):
        panels = _panels(objects)
        edit(panels)
        _set_panels(objects, panels)
    return apply


def _old_layout(panels):  # the layout before the fix: y = (n // 2) * 15 put the wide search on p5's row
    for n, panel in enumerate(panels):
        panel["gridData"]["y"] = (n // 2) * 15


def _data_view(objects, kind="articles"):
    return next(o for o in objects if o["type"] == "index-pattern" and o["id"].endswith(f"{kind}-data-view"))


BROKEN = {
    "data view newer than Kibana's ceiling": (
        lambda objs: _data_view(objs).update(typeMigrationVersion="8.1.0"), "newer than 8.0.0"),
    "lens newer than Kibana knows": (
        lambda objs: _lens(objs, "duplicate-ratio").update(typeMigrationVersion="99.0.0"), "newest Kibana knows for lens"),
    "lens older than its formBased shape": (
        lambda objs: _lens(objs, "duplicate-ratio").update(typeMigrationVersion="8.5.0"), "migrations older than 8.6.0"),
    "a type with no known ceiling": (
        lambda objs: objs.append({**copy.deepcopy(objs[0]), "type": "visualization", "id": "v"}),
        "no known typeMigrationVersion ceiling for type visualization"),
    "core version newer than Kibana": (
        lambda objs: objs[0].update(coreMigrationVersion="99.1.0"), "coreMigrationVersion 99.1.0 is newer than Kibana"),
    "reference to a missing object": (lambda objs: objs.remove(_data_view(objs, "runs")), "to missing index-pattern"),
    "panelIndex twice": (_edit_panels(lambda ps: ps[1].update(panelIndex="p1")), "panelIndex p1 is used twice"),
    "gridData.i not the panelIndex": (_edit_panels(lambda ps: ps[0]["gridData"].update(i="other")), "is not its panelIndex"),
    "panel past the grid's edge": (_edit_panels(lambda ps: ps[1]["gridData"].update(x=30)), "leaves the 48-column grid"),
    "overlapping panels (the old layout)": (_edit_panels(_old_layout), "panels p5 and p6 overlap"),
    "panel without its reference": (_edit_panels(lambda ps: ps[2].update(panelRefName="panel_x")), "no reference named p3:panel_x"),
    "panel of another type than its reference": (_edit_panels(lambda ps: ps[0].update(type="search")), "its reference is a lens"),
    "accessor naming no column": (
        lambda objs: _lens(objs, "top-claim-speakers")["attributes"]["state"]["visualization"]["layers"][0].update(accessors=["gone"]),
        "accessor gone names no column"),
    "metric before a bucket column": (
        lambda objs: _layer(_lens(objs, "top-claim-speakers")).update(columnOrder=["n", "speaker"]), "puts a metric before a bucket"),
    "columnOrder missing a column": (
        lambda objs: _layer(_lens(objs, "top-claim-speakers")).update(columnOrder=["speaker"]), "does not list each of the columns"),
    "top sources per interval (the old columnOrder)": (
        lambda objs: _layer(_lens(objs, "articles-per-source")).update(columnOrder=["x", "split", "y"]),
        "terms after the date histogram"),
    "sum of a keyword": (
        lambda objs: _layer(_lens(objs, "failed-fetches"))["columns"]["y"].update(sourceField="status"), "status is keyword"),
    "terms on a text field": (
        lambda objs: _layer(_lens(objs, "top-claim-speakers"))["columns"]["speaker"].update(sourceField="speaker"),
        "speaker is text"),
    "date histogram on a number": (
        lambda objs: _layer(_lens(objs, "failed-fetches"))["columns"]["x"].update(sourceField="failed_count"),
        "failed_count is integer"),
    "field the index does not have": (
        lambda objs: _layer(_lens(objs, "freshness-lag"))["columns"]["y"].update(sourceField="lag"), "which runs does not have"),
    "dataType that is not the field's": (
        lambda objs: _layer(_lens(objs, "duplicate-ratio"))["columns"]["group"].update(dataType="string"), "dataType string"),
    "terms ordered by no metric": (
        lambda objs: _layer(_lens(objs, "top-claim-speakers"))["columns"]["speaker"]["params"]["orderBy"].update(columnId="z"),
        "no metric column"),
    "search sorted on a text field": (
        lambda objs: next(o for o in objs if o["id"].endswith("latest-articles"))["attributes"].update(sort=[["title", "desc"]]),
        "sort field title is text"),
    "query on a missing field": (
        lambda objs: _lens(objs, "failed-fetches")["attributes"]["state"]["query"].update(query="sort : source"),
        "query field sort"),
    "time field that is not a date": (
        lambda objs: _data_view(objs)["attributes"].update(timeFieldName="source"), "not a date"),
}


def test_the_objects_pass_every_check_kibana_enforces():
    for prefix in ("newswire", "t-x"):
        assert validate.problems(saved_objects(prefix), templates.field_types) == []
    # against the Kibana docker-compose.yml pins as well as the oldest one supported
    kibana_tag = yaml.safe_load(COMPOSE.read_text())["services"]["kibana"]["image"].rsplit(":", 1)[1]
    assert validate.problems(saved_objects("newswire"), templates.field_types, kibana_tag) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_variant_is_refused(case):
    objects = copy.deepcopy(saved_objects("newswire"))
    breakage, message = BROKEN[case]
    breakage(objects)
    found = validate.problems(objects, templates.field_types)
    assert any(message in problem for problem in found), found
    with pytest.raises(KibanaObjectsError, match="would not import"):
        validate.check(objects, templates.field_types)


def test_split_charts_rank_terms_over_the_whole_range_and_freshness_is_a_median():
    objects = saved_objects("newswire")
    for suffix in ("articles-per-source", "failed-fetches"):
        assert _layer(_lens(objects, suffix))["columnOrder"] == ["split", "x", "y"]
    freshness = _layer(_lens(objects, "freshness-lag"))
    assert freshness["columnOrder"] == ["x", "y", "y95"]  # p50 and p95 over time, bucket first
    assert {freshness["columns"][c]["operationType"] for c in ("y", "y95")} == {"median"}
    grid = {p["panelIndex"]: p["gridData"] for p in _panels(objects)}
    assert grid["p6"] == {"x": 0, "y": 45, "w": 48, "h": 15, "i": "p6"}  # its own row, under p5


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
                            "Freshness lag p50 and p95 (seconds, published to indexed)", "Most-carried claims"}
    articles_view = by_id[("index-pattern", "newswire-articles-data-view")]["attributes"]
    assert {f["value"] for f in json.loads(articles_view["sourceFilters"])} >= {"band_keys", "minhash"}


def test_committed_export_is_current():
    assert shipped_ndjson() == ndjson_for("newswire"), "regenerate: newswire setup --skip-es --kibana-export plugins/newswire/kibana/saved_objects.ndjson"
    assert "t-x-articles" in ndjson_for("t-x") and "newswire-" not in ndjson_for("t-x")


class _FakeKibana(JsonApiServer):
    """Answers like Kibana's import API (xsrf header, multipart NDJSON, conflicts without overwrite)."""

    def __init__(self, statuses: list[int] | None = None):
        super().__init__(self._import, statuses)
        self.stored: dict[tuple[str, str], dict] = {}

    def _import(self, request: Request) -> tuple[int, dict]:
        if "kbn-xsrf" not in request.headers:
            return 400, {"message": "Request must contain a kbn-xsrf header."}
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + request.body
        )
        part = next(message.iter_parts())
        objects = [json.loads(line) for line in part.get_payload(decode=True).decode().splitlines() if line]
        overwrite = "overwrite=true" in request.path
        conflicts = [o for o in objects if (o["type"], o["id"]) in self.stored and not overwrite]
        for obj in objects:
            self.stored[(obj["type"], obj["id"])] = obj
        return 200, {"success": not conflicts, "successCount": len(objects) - len(conflicts),
                     "errors": [{"id": o["id"], "error": {"type": "conflict"}} for o in conflicts]}


def test_import_posts_multipart_with_xsrf_and_is_idempotent():
    ndjson = ndjson_for("newswire")
    with _FakeKibana() as kibana:
        first = import_saved_objects(kibana.url, ndjson, ("elastic", "pw"))
        second = import_saved_objects(kibana.url, ndjson, ("elastic", "pw"))
    assert first["successCount"] == second["successCount"] == len(ndjson.splitlines())
    assert len(kibana.stored) == len(ndjson.splitlines())  # same ids: replaced, not added
    request = kibana.requests[0]
    assert request.path == "/api/saved_objects/_import?overwrite=true"
    assert request.headers["kbn-xsrf"] and request.headers["Authorization"].startswith("Basic ")
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="newswire.ndjson"' in request.body


def test_import_waits_for_kibana_and_reports_failures():
    with _FakeKibana(statuses=[503, 503]) as kibana:
        result = import_saved_objects(kibana.url, ndjson_for("p"), space="news", wait_seconds=30, retry_interval=0.05)
        assert result["success"] and len(kibana.requests) == 3
        assert kibana.requests[-1].path.startswith("/s/news/api/saved_objects/_import")
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


def test_setup_refuses_invalid_objects_before_sending_them(monkeypatch, capsys):
    broken = copy.deepcopy(saved_objects("newswire"))
    _edit_panels(_old_layout)(broken)
    monkeypatch.setattr("newswire.kibana.deploy.saved_objects", lambda prefix: broken)
    with _FakeKibana() as kibana:
        assert cli.main(["setup", "--skip-es", "--kibana-url", kibana.url]) == 1
    assert kibana.requests == []
    assert "panels p5 and p6 overlap" in capsys.readouterr().err


def test_setup_with_an_empty_kibana_url_skips_kibana(monkeypatch, capsys):
    monkeypatch.setenv("KIBANA_URL", "")
    assert cli.main(["setup", "--skip-es"]) == 0
    assert "Kibana: skipped" in capsys.readouterr().err


def test_setup_reports_an_unreachable_kibana_after_a_bounded_wait(capsys):
    with _FakeKibana() as kibana:
        url = kibana.url  # a port on 127.0.0.1 that nothing listens on once the server is gone
    started = time.monotonic()
    assert cli.main(["setup", "--skip-es", "--kibana-url", url, "--kibana-wait", "1"]) == 1
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert f"cannot reach Kibana at {url} (waited 1 s)" in err and "Traceback" not in err


def test_kibana_credentials_come_from_kibana_variables_else_elasticsearch():
    settings = Settings(es_username="newswire", es_password="espw", es_ca_certs="/ca.crt")
    assert KibanaTarget.from_env(settings, environ={}) is None
    assert KibanaTarget.from_env(settings, environ={"KIBANA_URL": "  "}) is None
    own = KibanaTarget.from_env(settings, environ={"KIBANA_URL": "http://k:5601", "KIBANA_USERNAME": "newswire_kibana",
                                                   "KIBANA_PASSWORD": "kpw"})
    assert (own.url, own.auth, own.api_key, own.verify) == ("http://k:5601", ("newswire_kibana", "kpw"), None, "/ca.crt")
    fallback = KibanaTarget.from_env(settings, "https://k:5601", environ={"KIBANA_CA_CERTS": "/kibana-ca.crt"})
    assert (fallback.auth, fallback.verify) == (("newswire", "espw"), "/kibana-ca.crt")

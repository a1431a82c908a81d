"""Templates and indices against the real Elasticsearch: detection, fallback, mappings, idempotence."""

from __future__ import annotations

import pytest
from elasticsearch import BadRequestError

from newswire.index import admin, names, templates
from newswire.index.templates import Capabilities


def _tokens(es, index: str, analyzer: str, text: str) -> list[str]:
    return [t["token"] for t in es.indices.analyze(index=index, analyzer=analyzer, text=text)["tokens"]]


def test_detection_matches_what_the_cluster_can_do(es):
    caps = admin.detect_capabilities(es)
    assert caps.version  # the nodes answered
    assert caps.analysis_common == ("analysis-common" in caps.modules)
    # The module list and a direct probe of the english analyzer agree.
    assert caps.analysis_common == admin._english_analyzer_works(es)


def test_mappings_are_applied_as_designed(es, index_prefix):
    summary = admin.ensure_indices(es, index_prefix, kinds=["articles"])
    caps = admin.detect_capabilities(es)
    assert summary["analysis"] == caps.analysis
    index = names.versioned(index_prefix, "articles", names.MAPPING_VERSIONS["articles"])
    mapping = es.indices.get_mapping(index=names.alias(index_prefix, "articles"))[index]["mappings"]
    props = mapping["properties"]
    assert mapping["dynamic"] == "strict"
    assert mapping["_meta"]["mapping_version"] == names.MAPPING_VERSIONS["articles"]
    assert props["text"]["analyzer"] == "nw_en"
    assert props["text"]["fields"]["std"] == {"type": "text", "analyzer": "standard"}
    assert props["title"]["fields"]["keyword"]["type"] == "keyword"
    assert props["band_keys"] == {"type": "keyword"}
    assert props["minhash"] == {"type": "long", "index": False, "doc_values": False}
    assert props["published"]["type"] == "date" and props["indexed_at"]["type"] == "date"
    assert props["is_canonical"]["type"] == "boolean" and props["cluster_id"]["type"] == "keyword"
    assert props["text_de"]["analyzer"] == "nw_de" and props["title_fr"]["analyzer"] == "nw_fr"
    assert props["claims"]["properties"]["speaker"]["fields"]["keyword"]["type"] == "keyword"

    # The analyzers do what the detected capabilities promise.
    if caps.analysis_common:
        assert _tokens(es, index, "nw_en", "The running dogs") == ["run", "dog"]
    else:  # standard analyzer with English stop words: no stemming, "the" dropped
        assert _tokens(es, index, "nw_en", "The running dogs") == ["running", "dogs"]
        assert _tokens(es, index, "nw_de", "Die Hunde und die Katzen") == ["hunde", "katzen"]

    settings = es.indices.get_settings(index=index)[index]["settings"]["index"]
    assert settings["number_of_shards"] == "1"


def test_strict_mapping_refuses_unknown_fields(es, index_prefix):
    admin.ensure_indices(es, index_prefix, kinds=["articles"])
    with pytest.raises(BadRequestError) as err:
        es.index(index=names.alias(index_prefix, "articles"), id="x", document={"id": "x", "surprise": 1})
    assert err.value.error == "strict_dynamic_mapping_exception"


def test_language_analyzer_templates_render_for_a_full_cluster():
    full = templates.component_templates("p", Capabilities(analysis_common=True))
    analyzers = full["p-settings"]["template"]["settings"]["index"]["analysis"]["analyzer"]
    assert analyzers["nw_en"] == {"type": "english"}
    assert analyzers["nw_de"] == {"type": "german"}
    assert analyzers["nw_zh"] == {"type": "cjk"}
    core = templates.component_templates("p", Capabilities(analysis_common=False))
    fallback = core["p-settings"]["template"]["settings"]["index"]["analysis"]["analyzer"]
    assert fallback["nw_en"] == {"type": "standard", "stopwords": "_english_"}
    assert fallback["nw_de"] == {"type": "standard", "stopwords": "_german_"}
    assert set(analyzers) == set(fallback)


def test_language_analyzers_are_refused_where_the_module_is_missing(es, index_prefix):
    """Why detection matters: the full-cluster templates do not even load on a core-only server."""
    if admin.detect_capabilities(es).analysis_common:
        pytest.skip("this cluster has analysis-common")
    with pytest.raises(BadRequestError):
        admin.put_templates(es, index_prefix, Capabilities(analysis_common=True))


def test_ensure_indices_is_idempotent(es, index_prefix):
    first = admin.ensure_indices(es, index_prefix)
    second = admin.ensure_indices(es, index_prefix)
    assert {k: v["status"] for k, v in first["indices"].items()} == {k: "created" for k in names.KINDS}
    assert {k: v["status"] for k, v in second["indices"].items()} == {k: "exists" for k in names.KINDS}
    assert len(first["templates"]) == len(names.KINDS) + 1 and second["templates"] == []  # unchanged: not rewritten
    aliases = es.indices.get_alias(index=f"{index_prefix}-*").body
    assert sorted(aliases) == sorted(names.versioned(index_prefix, k, names.MAPPING_VERSIONS[k]) for k in names.KINDS)
    for index, spec in aliases.items():
        ((alias, flags),) = spec["aliases"].items()
        assert names.version_of(index) == names.MAPPING_VERSIONS[alias.removeprefix(f"{index_prefix}-")]
        assert flags["is_write_index"] is True


def test_outdated_index_is_reported(es, index_prefix, monkeypatch):
    admin.ensure_indices(es, index_prefix, kinds=["runs", "sources"])
    monkeypatch.setitem(names.MAPPING_VERSIONS, "runs", 2)
    summary = admin.ensure_indices(es, index_prefix, kinds=["runs", "sources"])
    assert summary["templates"] == [f"{index_prefix}-runs"]  # its mapping _meta changed
    assert summary["indices"]["runs"]["status"] == "outdated"
    assert summary["indices"]["sources"]["status"] == "exists"


def test_a_concrete_index_in_the_alias_place_is_an_error(es, index_prefix):
    es.indices.create(index=names.alias(index_prefix, "sources"))
    with pytest.raises(RuntimeError, match="concrete index"):
        admin.ensure_indices(es, index_prefix, kinds=["sources"])


def test_drop_removes_indices_and_templates(es, index_prefix):
    admin.ensure_indices(es, index_prefix, kinds=["sources"])
    admin.drop(es, index_prefix)
    assert not es.indices.exists(index=f"{index_prefix}-*", allow_no_indices=False)
    assert es.options(ignore_status=404).indices.get_index_template(name=f"{index_prefix}-*").body.get("index_templates", []) == []
    assert not es.cluster.exists_component_template(name=f"{index_prefix}-settings")

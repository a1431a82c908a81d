"""Render the composable templates from the JSON mappings shipped with the package.

Pure functions: what the cluster offers comes in as ``Capabilities``, the template
bodies come out. The mappings live in ``newswire/templates/<kind>.json``; the
analysis settings and the per-language fields are generated here from
``newswire.index.languages`` so both stay in step.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from newswire.index import names
from newswire.index.languages import ENGLISH, LANGUAGE_ANALYZERS, analyzer_name

#: Index kinds whose documents carry a ``language`` and get ``text_<code>`` fields.
LANGUAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "articles": ("title", "text"),
    "claims": ("text",),
}
TEMPLATE_PRIORITY = 200


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What the cluster offers that the templates depend on."""

    analysis_common: bool  # language analyzers and stemmers (module analysis-common)
    modules: frozenset[str] = field(default_factory=frozenset)
    version: str = ""

    @property
    def analysis(self) -> str:
        """``language`` when the built-in language analyzers are used, ``fallback`` otherwise."""
        return "language" if self.analysis_common else "fallback"


def analysis_settings(caps: Capabilities) -> dict[str, Any]:
    """The ``index.analysis`` block: one ``nw_<code>`` analyzer per language.

    With analysis-common each is the built-in language analyzer (``english``,
    ``german``, ...). Without it each falls back to the standard analyzer with that
    language's stop words, which the core server has.
    """
    languages = {ENGLISH: "english", **LANGUAGE_ANALYZERS}
    analyzers: dict[str, Any] = {}
    for code, name in languages.items():
        if caps.analysis_common:
            analyzers[analyzer_name(code)] = {"type": name}
        else:
            analyzers[analyzer_name(code)] = {"type": "standard", "stopwords": f"_{name}_"}
    return {"analyzer": analyzers}


@cache
def _base_mapping(kind: str) -> dict[str, Any]:
    text = resources.files("newswire").joinpath("templates", f"{kind}.json").read_text(encoding="utf-8")
    return json.loads(text)


def mapping(kind: str) -> dict[str, Any]:
    """The full mapping of one index kind, with its language fields and version in ``_meta``."""
    body = copy.deepcopy(_base_mapping(kind))
    for base in LANGUAGE_FIELDS.get(kind, ()):
        for code in sorted(LANGUAGE_ANALYZERS):
            body["properties"][f"{base}_{code}"] = {"type": "text", "analyzer": analyzer_name(code)}
    body.setdefault("_meta", {})["mapping_version"] = names.MAPPING_VERSIONS[kind]
    body["_meta"]["managed_by"] = "newswire"
    return body


def settings_component_name(prefix: str) -> str:
    return f"{prefix}-settings"


def component_templates(prefix: str, caps: Capabilities) -> dict[str, dict[str, Any]]:
    """Component templates by name: the settings and analyzers every index shares.

    The mappings sit in each index template itself: Elasticsearch validates a
    component on its own, and a mapping naming ``nw_*`` analyzers only validates
    once composed with the settings that define them.
    """
    return {
        settings_component_name(prefix): {
            "template": {
                "settings": {
                    "index": {
                        "number_of_shards": 1,
                        # one replica where a second node exists; green on a single node
                        "auto_expand_replicas": "0-1",
                        "analysis": analysis_settings(caps),
                    }
                }
            },
            "_meta": {"managed_by": "newswire", "analysis": caps.analysis},
        }
    }


def index_templates(prefix: str) -> dict[str, dict[str, Any]]:
    """Index templates by name: each matches its kind's versioned indices ``{alias}-v*``."""
    return {
        names.alias(prefix, kind): {
            "index_patterns": [f"{names.alias(prefix, kind)}-v*"],
            "composed_of": [settings_component_name(prefix)],
            "template": {"mappings": mapping(kind)},
            "priority": TEMPLATE_PRIORITY,
            "version": names.MAPPING_VERSIONS[kind],
            "_meta": {"managed_by": "newswire", "mapping_version": names.MAPPING_VERSIONS[kind]},
        }
        for kind in names.KINDS
    }


def field_types(kind: str) -> dict[str, str]:
    """Every field path of a kind's mapping (multi-fields included) with its type.

    ``{"title": "text", "title.keyword": "keyword", "claims.speaker": "text", ...}``;
    used to check that Kibana objects only reference fields that exist.
    """
    out: dict[str, str] = {}

    def walk(properties: dict[str, Any], path: str) -> None:
        for name, spec in properties.items():
            full = f"{path}{name}"
            out[full] = spec.get("type", "object")
            for sub, subspec in spec.get("fields", {}).items():
                out[f"{full}.{sub}"] = subspec["type"]
            if "properties" in spec:
                walk(spec["properties"], f"{full}.")

    walk(mapping(kind)["properties"], "")
    return out

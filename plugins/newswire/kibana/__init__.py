"""Kibana: saved objects generated from the index mappings, and their import.

``saved_objects.ndjson`` next to this file is the generated export for the default
prefix ("newswire"), committed so it can be imported by hand
(Stack Management > Saved objects > Import); ``newswire setup --kibana-export``
regenerates it, and a test checks that it is current.
"""

from __future__ import annotations

from importlib import resources

from newswire.kibana.client import KibanaImportError, import_saved_objects
from newswire.kibana.deploy import KibanaTarget, install
from newswire.kibana.objects import saved_objects, to_ndjson
from newswire.kibana.validate import KibanaObjectsError

__all__ = ["KibanaImportError", "KibanaObjectsError", "KibanaTarget", "import_saved_objects", "install",
           "ndjson_for", "saved_objects", "shipped_ndjson", "to_ndjson"]


def ndjson_for(prefix: str) -> str:
    """The saved objects for an index prefix, as NDJSON."""
    return to_ndjson(saved_objects(prefix))


def shipped_ndjson() -> str:
    """The committed export for the default prefix."""
    return resources.files("newswire").joinpath("kibana", "saved_objects.ndjson").read_text(encoding="utf-8")

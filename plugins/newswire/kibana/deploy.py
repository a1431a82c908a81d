"""Where the Kibana objects go and with which credentials, read once; checked, then imported.

The one Kibana set-up: `newswire setup` and the maintenance DAG both call ``install``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newswire.kibana.client import import_saved_objects
from newswire.kibana.objects import saved_objects, to_ndjson
from newswire.kibana.validate import check
from newswire.settings import Settings


@dataclass(frozen=True, kw_only=True, slots=True)
class KibanaTarget:
    """A Kibana to import into."""

    url: str
    auth: tuple[str, str] | None = None
    api_key: str | None = None
    verify: bool | str = True

    @classmethod
    def from_env(cls, settings: Settings, url: str | None = None,
                 environ: Mapping[str, str] | None = None) -> "KibanaTarget | None":
        """The Kibana of ``url`` (else ``$KIBANA_URL``); None when both are blank: no Kibana.

        Credentials: ``KIBANA_API_KEY``, else ``KIBANA_USERNAME``/``KIBANA_PASSWORD``, else the
        Elasticsearch ones. TLS: ``KIBANA_CA_CERTS``, else the Elasticsearch CA.
        """
        env = os.environ if environ is None else environ
        url = (env.get("KIBANA_URL", "") if url is None else url).strip()
        if not url:
            return None
        if env.get("KIBANA_USERNAME"):
            auth = (env["KIBANA_USERNAME"], env.get("KIBANA_PASSWORD", ""))
        else:
            auth = (settings.es_username, settings.es_password or "") if settings.es_username else None
        return cls(
            url=url,
            auth=auth,
            api_key=env.get("KIBANA_API_KEY") or (None if env.get("KIBANA_USERNAME") else settings.es_api_key),
            verify=env.get("KIBANA_CA_CERTS") or settings.es_ca_certs or True,
        )


def install(target: KibanaTarget, prefix: str, *, wait_seconds: float = 0) -> dict[str, Any]:
    """Check the objects for ``prefix`` against what Kibana enforces, then import them.

    Raises:
        KibanaObjectsError: the objects break a rule Kibana enforces (nothing is sent).
        KibanaImportError: Kibana could not be reached in time or refused the import.
    """
    from newswire.index import templates

    objects = saved_objects(prefix)
    check(objects, templates.field_types)
    return import_saved_objects(target.url, to_ndjson(objects), target.auth, api_key=target.api_key,
                                wait_seconds=wait_seconds, verify=target.verify)

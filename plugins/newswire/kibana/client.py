"""Import saved objects through Kibana's saved objects API, idempotently.

``POST /api/saved_objects/_import?overwrite=true`` with the NDJSON as a multipart
file and the ``kbn-xsrf`` header. The objects have fixed ids, so importing again
replaces them. Kibana starts slowly, so the call waits for it (503 or no
connection) up to ``wait_seconds``; an unreachable Kibana is a KibanaImportError.
"""

from __future__ import annotations

import time
from typing import Any

import httpx


#: Answers of a Kibana still starting, or of a proxy in front of one: worth another try.
NOT_READY = {502, 503, 504}


class KibanaImportError(RuntimeError):
    """Kibana could not be reached, refused the import, or some objects failed to import."""


def import_saved_objects(
    kibana_url: str,
    ndjson: str | bytes,
    auth: tuple[str, str] | None = None,
    *,
    api_key: str | None = None,
    space: str | None = None,
    wait_seconds: float = 0,
    retry_interval: float = 2,
    timeout: float = 30,
    verify: bool | str = True,
) -> dict[str, Any]:
    """Import the NDJSON into Kibana (overwriting objects with the same ids); returns Kibana's answer.

    Args:
        kibana_url: e.g. ``http://kibana:5601``.
        ndjson: the saved objects, one JSON object per line.
        auth: (username, password) for basic auth, or None.
        api_key: an Elasticsearch API key (base64 ``id:key``) instead of ``auth``.
        space: a Kibana space id; the default space when None.
        wait_seconds: keep retrying while Kibana is not up yet, this long,
            every ``retry_interval`` seconds.

    Raises:
        KibanaImportError: Kibana could not be reached in time, answered with an error,
            or reported objects it could not import.
    """
    path = f"/s/{space}/api/saved_objects/_import" if space else "/api/saved_objects/_import"
    url = kibana_url.rstrip("/") + path
    body = ndjson.encode("utf-8") if isinstance(ndjson, str) else ndjson
    headers = {"kbn-xsrf": "newswire"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    deadline = time.monotonic() + wait_seconds
    with httpx.Client(auth=auth, timeout=timeout, verify=verify, headers=headers) as client:
        while True:  # bounded: one attempt, then more only until the deadline
            try:
                response = client.post(
                    url,
                    params={"overwrite": "true"},
                    files={"file": ("newswire.ndjson", body, "application/ndjson")},
                )
                if response.status_code not in NOT_READY:
                    break
            except httpx.TransportError as err:
                if time.monotonic() >= deadline:
                    raise KibanaImportError(f"cannot reach Kibana at {kibana_url} (waited {wait_seconds:g} s): {err}") from err
            if time.monotonic() >= deadline:
                break
            time.sleep(retry_interval)
    if response.status_code != 200:
        raise KibanaImportError(f"Kibana answered {response.status_code}: {response.text[:500]}")
    result = response.json()
    if not result.get("success", False):
        raise KibanaImportError(f"Kibana could not import some objects: {result.get('errors')}")
    return result

"""Local folders (such as ``seeds/``) to :class:`~newswire.models.Entry` values.

Files ending in ``.html``, ``.htm``, ``.txt`` or ``.md`` (searched recursively, hidden ones
skipped, sorted by relative path) become entries with ``path`` set. An optional
``manifest.json`` (or ``manifest.yaml``) in the folder gives each file, by relative path, the
``url`` it was published at, ``published``, ``site_name`` and ``title``::

    {"files": {"000_x.txt": {"url": "https://news.example.org/a", "site_name": "Example News",
                             "published": "2016-10-21T09:30:00Z"}}}

A symbolic link whose target lies outside the folder (``x.txt -> /etc/hostname``) is not read:
it is one skipped item (``link-outside-folder``). Links inside the folder are read as the file they
point to. At most ``MAX_FILES`` files are listed per run.

Files without a manifest URL get their ``file://`` URL (so their article id follows the
checkout's location: give a manifest URL when ids must be stable across machines).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from newswire.models import Entry, ItemOutcome, Page
from newswire.sources.errors import SourceError
from newswire.sources.sitemap import parse_w3c_datetime

SUFFIXES = (".html", ".htm", ".txt", ".md")
MAX_FILES = 100_000  # a folder listing is held in memory: a runaway tree must not grow it without end
MANIFEST_NAMES = ("manifest.json", "manifest.yaml", "manifest.yml")


class DirectoryError(SourceError):
    """The folder cannot be listed (``reason``: ``missing-directory``) or its manifest is broken (``bad-manifest``)."""


def load_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The manifest's ``files`` mapping (relative posix path -> fields); empty without a manifest."""
    for name in MANIFEST_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise DirectoryError("bad-manifest", f"{path}: {exc}") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            raise DirectoryError("bad-manifest", f"{path}: expected a 'files' mapping")
        return {str(k): v for k, v in files.items() if isinstance(v, dict)}
    return {}


def _published(value: Any) -> datetime | None:
    """A manifest date: YAML may already have made it a datetime; JSON gives a W3C string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_w3c_datetime(value)


def list_directory(
    folder: Path, *, source: str = "", language: str | None = None
) -> tuple[list[Entry], list[ItemOutcome], str]:
    """Entries for the folder's files, problems found in the manifest, and a hash of the listing.

    The listing hash covers names, sizes and modification times, so an unchanged folder can be
    reported as not modified.

    Raises:
        DirectoryError: the folder is missing or its manifest cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DirectoryError("missing-directory", str(folder))
    root = folder.resolve()
    manifest = load_manifest(folder)
    entries: list[Entry] = []
    problems: list[ItemOutcome] = []
    digest = hashlib.sha256()
    considered: set[str] = set()  # relative paths looked at (read or reported)
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix.lower() not in SUFFIXES or any(p.startswith(".") for p in rel.split("/")):
            continue
        considered.add(rel)
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):  # a dangling link, a link loop
            problems.append(ItemOutcome(url=rel, reason="unreadable-file", detail="broken or looping link"))
            continue
        if not target.is_relative_to(root):
            problems.append(ItemOutcome(url=rel, reason="link-outside-folder", detail=f"points outside {root}"))
            continue
        if not target.is_file():
            continue
        if len(entries) >= MAX_FILES:
            problems.append(ItemOutcome(url=rel, reason="too-many-files", detail=f"only {MAX_FILES} files per run"))
            break
        stat = target.stat()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        meta = manifest.get(rel, {})
        url = meta.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            problems.append(ItemOutcome(url=str(url), reason="bad-manifest-url", detail=rel))
            url = None
        entries.append(
            Entry(
                url=url or target.as_uri(),
                source=source,
                title=meta.get("title") if isinstance(meta.get("title"), str) else None,
                published=_published(meta.get("published")),
                path=str(target),
                language=meta.get("language") if isinstance(meta.get("language"), str) else language,
                site_name=meta.get("site_name") if isinstance(meta.get("site_name"), str) else None,
            )
        )
    for rel in sorted(set(manifest) - considered):
        problems.append(ItemOutcome(url=str(manifest[rel].get("url", "")), reason="manifest-file-missing", detail=rel))
    return entries, problems, digest.hexdigest()


def read_entry(entry: Entry, *, max_bytes: int = 5_000_000) -> Page:
    """A directory entry's file as a :class:`Page` (status 200; ``truncated`` if longer than ``max_bytes``).

    Raises:
        OSError: the file cannot be read.
    """
    if not entry.path:
        raise ValueError(f"entry {entry.url} has no path")
    path = Path(entry.path)
    with path.open("rb") as handle:
        body = handle.read(max_bytes + 1)
    content_type = {".md": "text/markdown", ".txt": "text/plain"}.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    return Page(
        url=entry.url,
        final_url=entry.url,
        status=200,
        headers={"content-type": content_type},
        body=body[:max_bytes],
        fetched_at=datetime.now(timezone.utc),
        truncated=len(body) > max_bytes,
    )

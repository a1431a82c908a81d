"""Every document id newswire derives, in one place, so that writing the same thing twice updates it.

* an article: SHA-1 of its canonical URL (``article_id``);
* the lookup key of any URL that leads to an article (a feed's entry link, a redirect's
  start, the final URL): the id an article with that URL as canonical would have
  (``url_key``), so the seen-check and the stored id meet whichever spelling a source uses;
* an article without any URL (a local file): a hash of its content (``content_id``);
* a claim: its article's id and its sentence index (``claim_id``);
* a cluster: the id of its canonical article (``cluster_id``);
* a parked document: its target index and id (``deadletter_id``), one entry however often it fails.
"""

from __future__ import annotations

import hashlib

from newswire.urls import canonicalize


def article_id(canonical_url: str) -> str:
    """The article ``_id``: SHA-1 of the canonical URL (already canonicalised), hex (40 chars)."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()


def url_key(url: str) -> str:
    """The lookup key of any URL: ``article_id`` of its canonical spelling."""
    return article_id(canonicalize(url))


def content_id(data: bytes) -> str:
    """The id of an article that has no URL: a hash of its content (prefixed, so it never equals a URL's)."""
    return hashlib.sha1(b"content\0" + data).hexdigest()


def claim_id(article_id_: str, sentence_index: int) -> str:
    """The claim ``_id``: its article's id and the sentence's position in the text."""
    return f"{article_id_}-{sentence_index:04d}"


def cluster_id(canonical_article_id: str) -> str:
    """A cluster's id: its canonical article's id (it moves when the canonical does)."""
    return canonical_article_id


def deadletter_id(target: str, doc_key: str) -> str:
    """The dead-letter entry of a refused document: the same entry each time that document is refused."""
    return hashlib.sha1(f"{target}|{doc_key}".encode("utf-8")).hexdigest()


def claim_group_id(first_claim_id: str) -> str:
    """A claim group's id: SHA-1 of its first-seen claim's id, hex (40 chars)."""
    return hashlib.sha1(f"claim-group\0{first_claim_id}".encode("utf-8")).hexdigest()

"""Deterministic document ids, so that writing the same thing twice updates it."""

from __future__ import annotations

import hashlib


def article_id(canonical_url: str) -> str:
    """The article ``_id``: SHA-1 of the canonical URL, hex (40 chars)."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()


def claim_id(article_id_: str, sentence_index: int) -> str:
    """The claim ``_id``: its article's id and the sentence's position in the text."""
    return f"{article_id_}-{sentence_index:04d}"


def claim_group_id(first_claim_id: str) -> str:
    """A claim group's id: SHA-1 of its first-seen claim's id, hex (40 chars)."""
    return hashlib.sha1(f"claim-group\0{first_claim_id}".encode("utf-8")).hexdigest()

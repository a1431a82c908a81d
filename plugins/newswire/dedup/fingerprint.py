"""Fingerprints of a cleaned article body: exact hash, MinHash and LSH band keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
from datasketch import MinHash

from newswire.dedup.params import DEFAULT_PARAMS, DedupParams
from newswire.models import Fingerprint

# A wire dateline at the start of a paragraph: "WASHINGTON (AP) — ", "LONDON, March 3 (Reuters) - ".
# Copies of one report differ in it, so it is no part of the report's identity.
_DATELINE = re.compile(
    r"^[ \t]*[A-Z][A-Z.'’ ]*[A-Z.]"  # city in capitals, at least two letters
    r"(?:,[ \t]*[A-Za-z .]{2,30}?\d{0,2})?"  # optional ", March 3" / ", Calif."
    r"[ \t]*(?:\([^)\n]{1,40}\))?"  # optional (Agency)
    r"[ \t]*[-–—]{1,2}[ \t]+"
)
_DATELINE_PARAGRAPHS = 3  # datelines sit in the first paragraphs only

# CJK ideographs and kana are written without spaces: each one is a token of its own.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


def strip_datelines(text: str) -> str:
    """Remove a wire dateline from the start of each of the first few paragraphs."""
    paragraphs = re.split(r"(\n\s*\n)", text.strip())
    seen = 0
    for i in range(0, len(paragraphs), 2):
        if seen >= _DATELINE_PARAGRAPHS:
            break
        if paragraphs[i].strip():
            paragraphs[i] = _DATELINE.sub("", paragraphs[i], count=1)
            seen += 1
    return "".join(paragraphs)


def tokens(text: str) -> list[str]:
    """Normalised word tokens of a text: NFKC, case-folded, datelines and punctuation dropped."""
    text = unicodedata.normalize("NFKC", strip_datelines(text))
    return _TOKEN.findall(text.casefold())


def shingles(words: list[str], size: int) -> set[str]:
    """Distinct word ``size``-grams; a text shorter than ``size`` words is one shingle."""
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def exact_hash(words: list[str]) -> str:
    """SHA-1 (hex) of the normalised token sequence: equal for texts that differ only in form."""
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()


def band_keys(hashvalues: np.ndarray, params: DedupParams) -> list[str]:
    """LSH band keys ``"b003:<16 hex>"``: band index plus a hash of the band's MinHash values.

    The parameter tag is hashed in, so keys made under other parameters never match.
    """
    width = max(2, len(str(params.bands - 1)))
    values = np.asarray(hashvalues, dtype="<u8")
    tag = params.tag.encode("ascii")
    keys = []
    for band in range(params.bands):
        chunk = values[band * params.rows : (band + 1) * params.rows].tobytes()
        digest = hashlib.blake2b(tag + chunk, digest_size=8).hexdigest()
        keys.append(f"b{band:0{width}d}:{digest}")
    return keys


def fingerprint(text: str, params: DedupParams = DEFAULT_PARAMS) -> Fingerprint:
    """Fingerprint a cleaned article body (never the raw page).

    Args:
        text: The article text as extraction produced it.
        params: Dedup parameters; the same ones must be used for every text compared.

    Returns:
        A ``Fingerprint``: ``exact_hash`` of the normalised tokens, the MinHash
        signature over distinct word shingles, its LSH band keys (none for texts
        under ``params.min_shingles`` shingles, which only match exactly) and the
        number of distinct shingles.
    """
    words = tokens(text)
    grams = shingles(words, params.shingle_size)
    minhash = MinHash(num_perm=params.num_perm, seed=params.seed)
    if grams:
        minhash.update_batch([g.encode("utf-8") for g in sorted(grams)])
    keys = band_keys(minhash.hashvalues, params) if len(grams) >= params.min_shingles else []
    return Fingerprint(
        exact_hash=exact_hash(words),
        minhash=[int(v) for v in minhash.hashvalues],
        band_keys=keys,
        shingle_count=len(grams),
    )

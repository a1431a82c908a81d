"""Bytes of a page or file to text: the one decoder of the code base.

Order of evidence: a byte-order mark; the charset the HTTP Content-Type declares; an HTML
``<meta charset>`` (or ``http-equiv`` Content-Type) in the first 4 kB; else UTF-8.

A page declared (or assumed) UTF-8 that carries a few stray bytes, typically one Latin-1 or
cp1252 character pasted into UTF-8 text, is decoded as UTF-8 with only those bytes read as
cp1252, so "Köln" stays "Köln" instead of the whole page going through charset detection and
coming out as "KĂ¶ln". Only when the bytes are mostly not UTF-8 (more invalid sequences than
valid multi-byte characters: a wrong declaration) is the
encoding detected (charset_normalizer; windows-1252 wins ties, the web's usual mislabel). A
declared single-byte charset that does not fit the bytes falls back the same way. Never raises.
"""

from __future__ import annotations

import codecs
import re

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", re.I)
_META_CHARSET = re.compile(rb"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I)
_SNIFF_BYTES = 4096
_DETECT_BYTES = 200_000
_NON_ASCII = bytes(range(128, 256))


def _cp1252_bytes(error: UnicodeDecodeError) -> tuple[str, int]:
    """Codec error handler: the offending bytes read as cp1252 (latin-1 where cp1252 has a hole)."""
    chunk = error.object[error.start : error.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in chunk), error.end


codecs.register_error("newswire-cp1252", _cp1252_bytes)


def declared_charset(content_type: str | None) -> str | None:
    """The Python codec named by a Content-Type header's charset parameter, if any and known."""
    match = _HEADER_CHARSET.search(content_type or "")
    return _known_codec(match.group(1)) if match else None


def meta_charset(head: bytes) -> str | None:
    """The codec an HTML page names in a ``<meta>`` element of its first 4 kB, if known.

    Scans tag by tag with ``find`` (no regex over the whole head), so the cost is linear.
    """
    head = head[:_SNIFF_BYTES]
    lower = head.lower()
    start = lower.find(b"<meta")
    while start != -1:
        end = lower.find(b">", start)
        tag = head[start : end if end != -1 else len(head)]
        match = _META_CHARSET.search(tag)
        if match:
            codec = _known_codec(match.group(1).decode("ascii", "ignore"))
            if codec:
                return codec
        if end == -1:
            break
        start = lower.find(b"<meta", end)
    return None


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(data: bytes, content_type: str | None = None) -> str:
    """The text of ``data`` (see the module docstring for the order of evidence)."""
    return decode_with_codec(data, content_type)[0]


def decode_with_codec(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """``(text, codec used)``; the codec is reported with a ``+repaired`` suffix when stray bytes were repaired."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), codec
    declared = declared_charset(content_type) or meta_charset(data)
    if declared in (None, "utf-8", "ascii"):
        text = _utf8(data)
        if text is not None:
            return text
    else:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            text = _utf8(data)  # a page labelled Latin-1 that is really UTF-8
            if text is not None:
                return text
    return _detected(data)


def _utf8(data: bytes) -> tuple[str, str] | None:
    """UTF-8 text, with stray non-UTF-8 bytes read as cp1252; None when the bytes are mostly not UTF-8."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    strict = data.decode("utf-8", errors="replace")
    stray = strict.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    ascii_chars = len(data.translate(None, _NON_ASCII))  # ASCII bytes always decode as themselves
    valid = len(strict) - ascii_chars - strict.count("\ufffd")  # well-formed multi-byte characters
    if stray > valid:
        return None  # mostly not UTF-8: a wrong or missing declaration
    return data.decode("utf-8", errors="newswire-cp1252"), "utf-8+repaired"


def _detected(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes  # lazy: only for mislabelled pages

    matches = list(from_bytes(data[:_DETECT_BYTES]))
    if matches:
        best = matches[0]
        tied = [m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
        # Short Western texts fit several single-byte codecs equally well; the web's usual
        # mislabelled charset is windows-1252 (WHATWG maps "latin1" to it), so it wins ties.
        encoding = "cp1252" if "cp1252" in tied else best.encoding
        return data.decode(encoding, errors="replace"), encoding
    return data.decode("cp1252", errors="replace"), "cp1252"

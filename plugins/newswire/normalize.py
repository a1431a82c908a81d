"""Text normalisation shared by every extraction path (HTML, plain text, Markdown).

The contract for ``Article.text`` produced here: Unicode NFC, mojibake repaired (ftfy),
no control or zero-width characters, runs of spaces collapsed, one paragraph per block and
**paragraphs separated by exactly one blank line ("\\n\\n")**; there is no other newline
inside the text. Dedup and claims rely on this (split on "\\n\\n" to get paragraphs).
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

PARAGRAPH_SEPARATOR = "\n\n"

# ftfy with the repairs that help (mojibake, HTML entities, C1 controls, ligatures, NFC) but
# none that change correct text: curly quotes and full-width characters are kept as written.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_character_width=False,
    explain=False,
    max_decode_length=2_000_000,
)

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\u0085]")


def fix_unicode(text: str) -> str:
    """Repair mojibake and stray escapes with ftfy, then NFC; a no-op on clean text."""
    if not text:
        return ""
    if text.isascii() and "&" not in text and "\x1b" not in text:
        return text  # nothing ftfy could repair: skip its cost
    return unicodedata.normalize("NFC", ftfy.fix_text(text, config=_FTFY_CONFIG))


def clean_line(line: str) -> str:
    """One line with zero-width characters removed and whitespace runs collapsed to one space."""
    return _SPACES.sub(" ", _ZERO_WIDTH.sub("", line)).strip()


def split_lines(text: str) -> list[str]:
    """All lines of ``text`` (any newline convention), cleaned; blank lines kept as ""."""
    return [clean_line(line) for line in _NEWLINES.sub("\n", text).split("\n")]


def join_paragraphs(paragraphs: list[str]) -> str:
    """The canonical text form: non-empty paragraphs separated by one blank line."""
    return PARAGRAPH_SEPARATOR.join(p for p in (clean_line(p) for p in paragraphs) if p)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a normalised text (the inverse of :func:`join_paragraphs`)."""
    return [p for p in text.split(PARAGRAPH_SEPARATOR) if p.strip()]


def normalize_text(text: str) -> str:
    """Normalise extracted text where every non-empty line is one paragraph."""
    return join_paragraphs(split_lines(fix_unicode(text)))


def word_count(text: str) -> int:
    """Number of word tokens (letters/digits runs), language-neutral."""
    return len(re.findall(r"\w+", text))

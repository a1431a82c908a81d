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

# Cheap signs that ftfy has something to repair: UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™"),
# HTML entities, C0/C1 control characters. ftfy's own badness test costs ~2 ms per article.
_NEEDS_FTFY = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
    "|&(?:[a-zA-Z]{2,8}|#\\d{2,6}|#x[0-9a-fA-F]{2,5});|[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]"
)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\u0085]")


def fix_unicode(text: str) -> str:
    """Repair mojibake and stray escapes with ftfy, then NFC; a no-op on clean text."""
    if not text:
        return ""
    if _NEEDS_FTFY.search(text):
        text = ftfy.fix_text(text, config=_FTFY_CONFIG)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def clean_line(line: str) -> str:
    """One line with zero-width characters removed and whitespace runs collapsed to one space."""
    return _SPACES.sub(" ", _ZERO_WIDTH.sub("", line)).strip()


def split_lines(text: str) -> list[str]:
    """All lines of ``text`` (any newline convention), cleaned; blank lines kept as ""."""
    return [clean_line(line) for line in _NEWLINES.sub("\n", text).split("\n")]


def join_paragraphs(paragraphs: list[str]) -> str:
    """The canonical text form: non-empty paragraphs separated by one blank line.

    Paragraphs must already be single cleaned lines (as :func:`split_lines` gives them).
    """
    return PARAGRAPH_SEPARATOR.join(p for p in paragraphs if p)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a normalised text (the inverse of :func:`join_paragraphs`)."""
    return [p for p in text.split(PARAGRAPH_SEPARATOR) if p.strip()]


_WORD_RUN = re.compile(r"\w+")
# Scripts written without spaces between words (Han, kana): a run of them is a phrase, not a
# word; each two characters count as one word (about the mean word length in Chinese and Japanese).
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Number of words: runs of letters and digits, and for Chinese and Japanese one per two characters."""
    runs = len(_WORD_RUN.findall(text))
    unspaced = len(_UNSPACED.findall(text)) if not text.isascii() else 0
    return runs + unspaced // 2

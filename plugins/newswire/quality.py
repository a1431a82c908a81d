"""The quality gate: is this extracted text an article, and how good is it?

``assess`` returns a score in [0, 1] and a reason that is None for an article, or names why
the input is not one. Reasons (stable strings, counted in run reports):

- ``empty``: nothing to read; ``binary``: not text at all; ``too-large``: over the size cap;
- ``error-page``: an HTTP error status or a "page not found"/"access denied" page;
- ``paywall``: a subscriber-only stub (a paywall marker and little text);
- ``not-article``: a list of links or headlines (index, tag or home page), little prose;
- ``too-short``: too few words to be a news article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newswire.normalize import paragraphs, word_count

MIN_WORDS = 50  # below this, not a news article (briefs run from ~80 words)
FULL_LENGTH_WORDS = 300  # length stops adding to the score here
PAYWALL_STUB_WORDS = 250  # a paywall marker with less text than this is a stub
MIN_PROSE_SHARE = 0.4  # share of words in prose paragraphs below which a page is a link list ...
MIN_PROSE_WORDS = 120  # ... unless it still holds this many words of prose (recipes, deal lists)

_ERROR_TITLE = re.compile(
    r"\b(?:404|403|410|500|502|503)\b|page (?:not found|unavailable|does not exist|cannot be found)|not found"
    r"|access denied|forbidden|server error|(?:an )?error (?:occurred|has occurred)|seite nicht gefunden"
    r"|page introuvable|página no encontrada|this page (?:isn't|is not) available",
    re.I,
)
_PAYWALL_TEXT = re.compile(
    r"subscribe (?:now |today )?to (?:continue|keep) reading|(?:this|the) (?:article|story|content) is (?:only )?(?:available|reserved|exclusive) (?:to|for) (?:subscribers|members)"
    r"|subscribers? only|already (?:a )?subscriber\?|to continue reading|log ?in to (?:continue|read)|sign in to (?:continue|read)"
    r"|unlock (?:this|the full) (?:article|story)|you(?:'ve| have) reached your (?:free )?(?:article )?limit"
    r"|free articles? (?:remaining|left)|start your (?:free )?(?:trial|subscription)|premium (?:content|article)",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?…:][\"'”’)\]]*$")


@dataclass(kw_only=True, slots=True)
class Signals:
    """Page-level evidence gathered by the extractor, beyond the text itself."""

    status: int | None = None  # HTTP status when fetched
    paywall_marked: bool = False  # e.g. schema.org isAccessibleForFree=false
    has_date: bool = False
    has_authors: bool = False


def prose_words(text: str) -> tuple[int, int]:
    """(words in paragraphs that read like prose: >= 12 words ending a sentence, all words)."""
    total = prose = 0
    for para in paragraphs(text):
        words = word_count(para)
        total += words
        if words >= 12 and _SENTENCE_END.search(para):
            prose += words
    return prose, total


def assess(text: str, title: str, signals: Signals | None = None) -> tuple[float, str | None]:
    """The quality score in [0, 1] and the reason the text is not an article (None if it is)."""
    signals = signals or Signals()
    prose, words = prose_words(text)
    share = prose / words if words else 0.0
    length = min(1.0, words / FULL_LENGTH_WORDS)
    meta = 0.4 + 0.3 * bool(title) + 0.15 * signals.has_date + 0.15 * signals.has_authors
    score = round(0.45 * length + 0.4 * share + 0.15 * meta, 3)
    reason = _reason(text, title, words, prose, signals)
    if reason is not None:
        score = round(min(score, 0.2), 3)
    return score, reason


def _reason(text: str, title: str, words: int, prose: int, signals: Signals) -> str | None:
    if words == 0:
        return "empty"
    if signals.status is not None and signals.status >= 400:
        return "error-page"
    if _ERROR_TITLE.search(title or "") and words < FULL_LENGTH_WORDS:
        return "error-page"
    if words < PAYWALL_STUB_WORDS and (signals.paywall_marked or _PAYWALL_TEXT.search(text)):
        return "paywall"
    if words < MIN_WORDS:
        return "too-short"
    if prose < MIN_PROSE_SHARE * words and prose < MIN_PROSE_WORDS:
        return "not-article"
    return None

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

from newswire.extract.normalize import paragraphs, word_count

MIN_WORDS = 50  # below this, not a news article (briefs run from ~80 words)
FULL_LENGTH_WORDS = 300  # length stops adding to the score here
PAYWALL_STUB_WORDS = 250  # a paywall marker with less text than this is a stub
MIN_PROSE_SHARE = 0.4  # share of words in prose paragraphs below which a page is a link list ...
MIN_PROSE_WORDS = 120  # ... unless it still holds this many words of prose (recipes, deal lists)
MIN_SENTENCE_WORDS = 6  # a shorter "sentence" is a label, a dateline or an abbreviation's piece
MIN_LIST_LINE_WORDS = 8  # an unpunctuated line this long is a list item or verse, not a menu entry

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
# A sentence break: a run of terminators (then closing quotes or brackets) before a space or the
# end, or a full stop of a script that needs no space after it (CJK, Devanagari and Bengali
# danda, Arabic and Urdu marks). The lookbehind lets a match start only at the first terminator
# of a run and the possessive quantifiers never give back, so each character is read once (a
# run of "!" cannot make the search quadratic).
_SENTENCE_BREAK = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]»]*+(?=\s|$)|[。！？।॥؟۔]")


@dataclass(kw_only=True, slots=True)
class Signals:
    """Page-level evidence gathered by the extractor, beyond the text itself."""

    status: int | None = None  # HTTP status when fetched
    paywall_marked: bool = False  # e.g. schema.org isAccessibleForFree=false
    has_date: bool = False
    has_authors: bool = False


@dataclass(kw_only=True, slots=True, frozen=True)
class Prose:
    """How much of a text reads as running prose."""

    words: int  # all words
    sentences: int  # words in sentences
    list_lines: int  # words in unpunctuated lines of list-item length (not menu entries)


def prose(text: str) -> Prose:
    """Words in sentences, judged sentence by sentence rather than by paragraph ends.

    A sentence is the text up to a sentence break with at least ``MIN_SENTENCE_WORDS`` words,
    or any sentence of a paragraph with three or more. The tail after a paragraph's last break
    (a menu glued to the last sentence, "Home | |", a text cut mid-sentence) is not a sentence,
    but the sentences before it are. A paragraph with no break at all counts as a list line when
    it has ``MIN_LIST_LINE_WORDS`` words or more. A paragraph that does not end a sentence
    continues into the next when that one starts in lower case (text hard-wrapped into one line
    per paragraph), and one ending in a colon counts as a sentence.
    """
    words = sentences = list_lines = 0
    for para in _unwrapped(paragraphs(text)):
        start = breaks = short = 0
        for match in _SENTENCE_BREAK.finditer(para):
            count = word_count(para[start : match.end()])
            if count >= MIN_SENTENCE_WORDS:
                sentences += count
            else:
                short += count
            words += count
            breaks += 1
            start = match.end()
        if breaks >= 3:
            sentences += short  # a run of short sentences ("Davis 17 points. Moore 3 points.") is prose too
        tail = word_count(para[start:])
        words += tail
        if para.endswith(":") and tail >= MIN_SENTENCE_WORDS:
            sentences += tail
        elif start == 0 and tail >= MIN_LIST_LINE_WORDS:
            list_lines += tail
    return Prose(words=words, sentences=sentences, list_lines=list_lines)


def _unwrapped(paras: list[str]) -> list[str]:
    """Paragraphs with hard-wrapped continuations joined: a lower-case start continues an unfinished line."""
    groups: list[list[str]] = []
    for para in paras:
        if groups and para[:1].islower() and not _SENTENCE_BREAK.search(groups[-1][-1][-3:]):
            groups[-1].append(para)
        else:
            groups.append([para])
    return [" ".join(group) for group in groups]


def assess(text: str, title: str, signals: Signals | None = None) -> tuple[float, str | None]:
    """The quality score in [0, 1] and the reason the text is not an article (None if it is)."""
    signals = signals or Signals()
    measured = prose(text)
    words = measured.words
    share = measured.sentences / words if words else 0.0
    length = min(1.0, words / FULL_LENGTH_WORDS)
    meta = 0.4 + 0.3 * bool(title) + 0.15 * signals.has_date + 0.15 * signals.has_authors
    score = round(0.45 * length + 0.4 * share + 0.15 * meta, 3)
    reason = _reason(text, title, measured, signals)
    if reason is not None:
        score = round(min(score, 0.2), 3)
    return score, reason


def _reason(text: str, title: str, measured: Prose, signals: Signals) -> str | None:
    words = measured.words
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
    if not _enough_prose(measured):
        return "not-article"
    return None


def _enough_prose(measured: Prose) -> bool:
    """Prose enough for an article: sentences, and long unpunctuated lines (a chronology, a spec
    sheet, verse), while menus and link lists, whose entries are short, are not."""
    threshold = min(MIN_PROSE_SHARE * measured.words, MIN_PROSE_WORDS)
    return measured.sentences + measured.list_lines >= threshold

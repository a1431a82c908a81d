"""Split cleaned article text into sentences, the unit that claims are made of.

News text has traps for plain "split at a full stop" rules: ranks and titles
("Lt. Gen.", "Maj.", "Sen."), dotted acronyms ("U.S.", "U.N."), dates
("Sept. 23"), and quotations that run over several sentences before the
speaker is named ("“... success. It has been planned ...,” Rudskoy said.").

pysbd (rule-based, offline, well kept) does the hard part inside a paragraph and
keeps a quotation that closes in the same paragraph together with its
attribution. Around it this module

- splits paragraphs first (the extractor writes one paragraph per line), so a
  heading never runs into the first sentence;
- glues back the few breaks pysbd still makes after news abbreviations and
  the stray closing-quote fragments it leaves ("“" on its own);
- records for each sentence whether it continues an open quotation, which the
  attribution step needs to carry a speaker across sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pysbd

OPEN_QUOTES = "“\""
CLOSE_QUOTES = "”\""

# Abbreviations after which a full stop never ends a news sentence (ranks, titles, months).
NO_BREAK_AFTER = {
    "mr", "mrs", "ms", "dr", "prof", "rev", "hon", "sen", "rep", "gov", "pres", "sec", "amb",
    "gen", "lt", "maj", "col", "capt", "cpt", "sgt", "cpl", "pvt", "adm", "cmdr", "brig", "lieut",
    "st", "jr", "sr", "no", "nos", "vs", "approx", "dept", "est", "fig", "inc", "corp", "ltd", "co",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
# Dotted acronyms ("U.S.", "U.K.") end a sentence only when a typical sentence opener follows.
_ACRONYM = re.compile(r"(?:\b[A-Z]\.){2,}$")
_SENTENCE_OPENERS = {
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "but", "and", "in", "on", "this", "that",
    "there", "its", "his", "her", "their", "our", "meanwhile", "however", "officials", "according",
}
_LAST_WORD = re.compile(r"([A-Za-z]+)\.[\"”’)]*\s*$")
# pysbd builds a regular expression for each abbreviation it meets and compiles it through
# the re module's cache, which keeps 512 patterns: news text needs a few thousand, so every
# article compiled them again (15-35% of the splitter's CPU, measured on the news benchmark).
REGEX_CACHE_SIZE = 8192
# pysbd's time grows faster than its input: a paragraph goes to it in windows of at most this many
# characters (a news paragraph is rarely longer), and a window with more sentence ends than this
# (prose has one in 60-100 characters; figures and initials add some) is not prose and is not segmented.
MAX_WINDOW_CHARS = 4000
MAX_STOPS = 400
WORD_TAIL_CHARS = 80


def _keep_compiled_patterns() -> None:
    if getattr(re, "_MAXCACHE", REGEX_CACHE_SIZE) < REGEX_CACHE_SIZE:
        re._MAXCACHE = REGEX_CACHE_SIZE


# One stop, not a run: ``[.!?…]+`` backtracked over a long run of "!" at every start (quadratic).
_INNER_BREAK = re.compile(r"[.!?…][\"”’')\]]*\s+\S")
_ONLY_PUNCT = re.compile(r"^[\s\"“”‘’'.,;:!?)(\-–—…]*$")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a text, with where it sits."""

    text: str
    start: int  # character offset in the text given to ``split_sentences``
    end: int
    paragraph: int  # index of the paragraph (line) it belongs to
    in_quote: bool = False  # inside a quotation opened in an earlier sentence of the paragraph


def _is_false_break(left: str, right: str) -> bool:
    """True if pysbd broke after an abbreviation that does not end a sentence here."""
    stripped = left.rstrip()[-WORD_TAIL_CHARS:]  # an abbreviation is short: the patterns see the piece's end only
    if not stripped.endswith("."):
        return False
    if right[:1].islower() or right[:1] in "-–,;":  # "the US." + "-backed army", "Sept." + "of"
        return True
    if _ACRONYM.search(stripped):
        first = right.lstrip(" \"“‘'").split(" ", 1)[0].lower()
        return first not in _SENTENCE_OPENERS
    match = _LAST_WORD.search(stripped)
    return bool(match) and match.group(1).lower() in NO_BREAK_AFTER


def _quote_depth(text: str, depth: int = 0) -> int:
    """Open double quotes after reading ``text`` from ``depth`` (curly by direction, straight toggling)."""
    balance = depth
    for char in text.replace("''", '"').replace("``", '"'):
        if char == "“":
            balance += 1
        elif char == "”":
            balance = max(0, balance - 1)
        elif char == '"':
            balance = 1 if balance == 0 else balance - 1
    return balance


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """Non-blank lines of ``text`` with their start offsets."""
    out, offset = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            out.append((offset, line))
        offset += len(line)
    return out


def _pysbd_spans(segmenter: pysbd.Segmenter, line: str) -> list[tuple[int, int]]:
    """pysbd's sentences of ``line`` as (start, end) offsets, each end past the whitespace that follows.

    The same spans as ``segmenter.segment(line)`` with ``char_span=True``, found with ``str.find``:
    pysbd finds them by compiling a regular expression of each sentence and searching the whole
    line with it, which cost more than its segmentation and filled the ``re`` cache with patterns
    used once.
    """
    spans: list[tuple[int, int]] = []
    prior_end = 0
    for sentence in segmenter.processor(line).process():
        if not sentence:
            continue
        # An occurrence that ends before ``prior_end`` - len(sentence) cannot reach past it (the span
        # before took the whitespace after it), so the search starts there: linear in the line.
        start = line.find(sentence, max(0, prior_end - len(sentence)))
        while start != -1:
            end = start + len(sentence)
            while end < len(line) and line[end].isspace():
                end += 1
            if end > prior_end:  # the first occurrence that reaches past the sentence before
                spans.append((start, end))
                prior_end = end
                break
            start = line.find(sentence, end)
    return spans


def _segment(segmenter: pysbd.Segmenter, window: str) -> list[tuple[int, int]]:
    """The sentence spans of one window of a paragraph: pysbd's, or the window whole if it has no
    sentence end before its last character, or more sentence ends than prose has (a run of "!!!",
    on which pysbd's rules take quadratic time)."""
    if sum(window.count(c) for c in ".!?…") > MAX_STOPS or not _INNER_BREAK.search(window.rstrip()):
        return [(0, len(window))]
    return _pysbd_spans(segmenter, window)


def _windows(line: str) -> list[tuple[int, str]]:
    """``line`` cut into pieces of at most ``MAX_WINDOW_CHARS``, each after a sentence end where one is
    near (else after a space): pysbd's time grows faster than the length of what it is given."""
    windows: list[tuple[int, str]] = []
    start = 0
    while len(line) - start > MAX_WINDOW_CHARS:
        limit = start + MAX_WINDOW_CHARS
        floor = start + MAX_WINDOW_CHARS // 2
        cut = max(line.rfind(mark, floor, limit) for mark in (". ", "! ", "? "))
        cut = cut + 2 if cut != -1 else line.rfind(" ", floor, limit) + 1 or limit
        windows.append((start, line[start:cut]))
        start = cut
    windows.append((start, line[start:]))
    return windows


def split_sentences(text: str, segmenter: pysbd.Segmenter | None = None) -> list[Sentence]:
    """The sentences of a cleaned article text, in order, with offsets.

    Pass a ``pysbd.Segmenter(language="en", clean=False, char_span=True)`` to reuse
    one across calls (building one is cheap, so this is optional).
    """
    _keep_compiled_patterns()
    segmenter = segmenter or pysbd.Segmenter(language="en", clean=False, char_span=True)
    sentences: list[Sentence] = []
    for paragraph, (offset, line) in enumerate(_paragraphs(text)):
        spans: list[list[int]] = []
        pieces = [(at + start, at + end) for at, window in _windows(line) for start, end in _segment(segmenter, window)]
        for start, end in pieces:
            piece = line[start:end]
            if spans and (_ONLY_PUNCT.match(piece) or _is_false_break(line[spans[-1][0] : spans[-1][1]], piece)):
                spans[-1][1] = end  # glue back
            else:
                spans.append([start, end])
        open_quote = 0
        for start, end in spans:
            raw = line[start:end]
            stripped = raw.strip()
            if not stripped:
                continue
            lead = len(raw) - len(raw.lstrip())
            sentences.append(
                Sentence(
                    text=stripped,
                    start=offset + start + lead,
                    end=offset + start + lead + len(stripped),
                    paragraph=paragraph,
                    in_quote=open_quote > 0,
                )
            )
            open_quote = _quote_depth(stripped, open_quote)
    return sentences


# What a page carries besides prose. A claim must be a sentence of the article's running
# text; these lines never are, whatever the model thinks of their words (a table row of
# figures scores high: it is all numbers).
_CELL_SEPARATORS = re.compile(r"\|.*\|")
_FIGURE = re.compile(r"^[(\[]?[-+]?[$€£]?\d[\d.,:%/x-]*[)\]]?[%.,;]?$")
_TERMINAL = re.compile(r"[.!?…][\"”’'»)\]]*$")
# A quotation signed after a dash ("“...” ― Jane Doe"): prose, though it ends without a stop.
_SIGNED_QUOTE = re.compile(r"[\"”’'] ?[―—–] ?[A-Z][\w.'’ -]{0,60}$")
_CAPTION = re.compile(
    r"\b(?:Photo(?:graph)?|Image|Picture|Credit|Illustration|Video)\s*(?:copyright\s*)?[:/]|\bGetty Images\b|"
    r"\bAP Photo\b|\(Photo\b|\bFile photo\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:By|Written by|Reporting by|Editing by|Additional reporting by)\s+[A-Z]", re.IGNORECASE)
_NAVIGATION = re.compile(
    r"^(?:Read (?:more|also|next)|Related|See also|Sign up|Subscribe|Click here|Follow us|Share (?:this|on)|"
    r"Advertisement|Continue reading|Watch|Listen|Comments?|Tags?|Topics?|Filed under)\b",
    re.IGNORECASE,
)


def figures_share(text: str) -> float:
    """Share of the text's whitespace-separated tokens that are numbers, amounts or percentages."""
    tokens = text.split()
    return sum(bool(_FIGURE.match(t)) for t in tokens) / len(tokens) if tokens else 0.0


def non_prose(sentence: Sentence, line: str, sentences_in_line: int) -> str | None:
    """Why ``sentence`` (on paragraph ``line``) is not running text, or None when it is.

    ``table`` (cell separators, a tab, or mostly figures), ``byline``, ``caption``,
    ``navigation``, ``headline`` (a one-sentence paragraph in title case), ``fragment``
    (a paragraph's last sentence with no closing punctuation: list items, menus, headings;
    a quotation signed after a dash is prose).
    """
    text = sentence.text
    if _CELL_SEPARATORS.search(line) or "\t" in line.strip() or figures_share(text) >= 0.4:
        return "table"
    if _BYLINE.match(text) and len(text.split()) <= 12:
        return "byline"
    if _CAPTION.search(text):
        return "caption"
    if _NAVIGATION.match(text) and len(text.split()) <= 12:
        return "navigation"
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", text) if len(w) > 3]
    if sentences_in_line == 1 and len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) >= 0.7:
        return "headline"
    if not _TERMINAL.search(text) and not _SIGNED_QUOTE.search(text[-80:]) and line.rstrip().endswith(text):
        return "fragment"
    return None


def prose_mask(text: str, sentences: list[Sentence]) -> list[bool]:
    """For each sentence of ``text``, whether it is running text (a claim candidate)."""
    counts: dict[int, int] = {}
    for sentence in sentences:
        counts[sentence.paragraph] = counts.get(sentence.paragraph, 0) + 1
    mask = []
    for sentence in sentences:
        line = _line_at(text, sentence.start)
        mask.append(non_prose(sentence, line, counts[sentence.paragraph]) is None)
    return mask


def _line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start:] if end < 0 else text[start:end]

"""Lines of extracted text that are links to elsewhere: menus, related-story lists, teasers, tags.

trafilatura's text keeps some of a page's navigation: a "related stories" list inside the
article container, a row of headline links between paragraphs, a tag or category link on a
line of its own. Their wording is anything; what marks them is that the line *is* the text of
a link on the page. This module collects the text of every ``<a>`` of the parsed page (the
same tree trafilatura reads, so no second pass) and judges each extracted line by how much of
it one link's text covers:

- a **link line**: a short line, not a sentence, that is (almost) all one link's text
  ("Pochettino fired by Tottenham", "15 Amazing Images of Stars", a headline link followed by
  a "[Video]" tag);
- a **teaser item**: a list item that starts with a linked headline of several words, run
  straight into a new sentence (the teaser: "- Pats place Olszewski on IR New England's roster
  is re-shuffling"), as trafilatura writes a related-story entry without its markup.

A line that is only the page's own address (printed by a share or print box) goes too.

A link the article's own prose carries ("... according to [the report](...)") covers only part
of a longer line or a sentence, and is kept; a printed address ("www.example.org") is text the
reader is meant to see, and is kept too.
"""

from __future__ import annotations

import re

# A line this much covered by one link's text, with no sentence end and no more words than
# this, is a link to elsewhere (bench/eval_extraction.py, both DEV sets).
LINK_LINE_SHARE = 0.7
LINK_LINE_MAX_WORDS = 20
TEASER_MIN_HEADLINE_WORDS = 3
MAX_ANCHORS = 5000  # a page with more links than this is judged on its first ones
MAX_ANCHOR_CHARS = 300  # longer "links" are blocks wrapped in <a>, not link text

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def link_texts(tree) -> frozenset[str]:
    """The whitespace-normalised texts of the page's links (``<a href>``), bounded in number and length."""
    texts = set()
    for count, anchor in enumerate(tree.iter("a")):
        if count >= MAX_ANCHORS:
            break
        if anchor.get("href") is None:
            continue
        text = " ".join(anchor.text_content().split())
        if text and len(text) <= MAX_ANCHOR_CHARS and not _is_address(text):
            texts.add(text)
    return frozenset(texts)


def _is_address(text: str) -> bool:
    low = text.lower()
    return "://" in low or low.startswith("www.") or ("@" in low and " " not in low)


def _leading_link(words: list[str], links: frozenset[str]) -> str:
    """The longest link text that is the line's first words (at most ``LINK_LINE_MAX_WORDS``), "" if none."""
    for size in range(min(len(words), LINK_LINE_MAX_WORDS), 0, -1):
        head = " ".join(words[:size])
        if head in links:
            return head
    return ""


def _trailing_link(words: list[str], links: frozenset[str]) -> str:
    """The longest link text that is the line's last words, "" if none."""
    n = len(words)
    for size in range(n, 0, -1):
        tail = " ".join(words[n - size :])
        if tail in links:
            return tail
    return ""


def is_link_line(line: str, links: frozenset[str]) -> bool:
    """A short non-sentence line that is (almost) all one link's text, or a related-story teaser item."""
    item = line.startswith("- ")
    words = (line[2:] if item else line).split()
    if not words or not links:
        return False
    text = " ".join(words)
    leading = _leading_link(words, links)
    if len(words) <= LINK_LINE_MAX_WORDS and not _SENTENCE_END.search(text):
        covered = max(leading, _trailing_link(words, links), key=len)
        if len(covered) >= LINK_LINE_SHARE * len(text):
            return True
    if item and leading and len(leading) < len(text):
        rest = text[len(leading) :].lstrip()
        return (
            len(leading.split()) >= TEASER_MIN_HEADLINE_WORDS
            and not _SENTENCE_END.search(leading)
            and rest[:1].isupper()
        )
    return False


def drop_link_lines(lines: list[str], links: frozenset[str], own_urls: tuple[str | None, ...] = ()) -> list[str]:
    """The lines that are neither link lines (:func:`is_link_line`) nor the page's own address.

    A page that prints its own URL (a share box, a print footer) puts it on a line of its own;
    ``own_urls`` are the page's URL and the canonical one it declares. When no line is left,
    all are returned.
    """
    own = {u.rstrip("/") for u in own_urls if u}
    kept = [
        line for line in lines
        if not (is_link_line(line, links) or (own and line.rstrip("/") in own))
    ]
    # A page that is nothing but links (a section front, a menu) is left whole: the quality
    # gate names it a link page ("not-article"), which an empty text would hide.
    return kept if kept else lines

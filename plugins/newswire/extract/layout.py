"""Two page layouts that mislead trafilatura, and their repair.

- **A body split into chunks.** Some pages cut the article into several containers of the
  same kind (the same tag and class), with ads or widgets between them, and trafilatura may
  take the first container that looks like a body and lose the rest: on one DEV page two
  thirds of the article. ``body_chunks`` finds such chunks on the parsed tree before
  trafilatura runs: containers of one tag and class, each with at least
  ``CHUNK_MIN_PARAGRAPHS`` paragraphs of its own, close in the tree (a common ancestor at most
  ``CHUNK_MAX_LEVELS`` up) and inside one story (the same nearest ``<article>``, no ``<h1>``
  between them, so the next story that an endless-scroll page preloads with the same markup
  is never taken). ``restore_chunks`` then adds the paragraphs of the later chunks after the
  first chunk's last line, only when trafilatura's text has the first chunk and lacks a later
  one whole: where it already read them all (or chose another container), nothing changes.
- **A card inside a sentence.** A name in a paragraph that opens a hover card (a picture, the
  name again and a few headline links) puts the card's text in the middle of the sentence:
  "threatened Rep. Jane RoeJane RoeSenate passes ... (D-Minn.)". A card is an inline element
  inside a paragraph holding a picture and at least two links, with text that is almost all
  link text; ``drop_inline_cards`` removes the smallest such element (its tail text stays).

All are bounded (``MAX_ELEMENTS``, ``MAX_GROUPS``, ``MAX_CHUNKS``, ``MAX_SCAN``), whatever the page.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import islice

from lxml import etree

CHUNK_MIN_PARAGRAPHS = 2
CHUNK_MIN_CHARS = 200  # of the chunk's own paragraphs: a teaser with two short lines is no chunk
CHUNK_MAX_LEVELS = 3
CHUNK_KEY_CHARS = 60  # a paragraph is found in the text by its first characters (inline markup may differ later)
CARD_MIN_LINKS = 2
CARD_LINK_SHARE = 0.8
CARD_MAX_ELEMENTS = 60
MAX_ELEMENTS = 20_000
MAX_GROUPS = 10  # kinds of container tried as chunks of a body
MAX_CHUNKS = 30  # chunks of one body
MAX_SCAN = 5_000  # elements walked to look for a headline between two chunks
_INLINE = ("span", "small", "em", "strong", "b", "i", "ins")
# Containers with a class and two paragraphs of their own, selected by libxml2 (most have none).
_CANDIDATES = etree.XPath(f"//div[@class][count(p) >= {CHUNK_MIN_PARAGRAPHS}]"
                          f" | //section[@class][count(p) >= {CHUNK_MIN_PARAGRAPHS}]")


def body_chunks(tree) -> list[list[str]]:
    """The paragraph texts of each chunk of a split body, in page order; [] if the page has none."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for element in _CANDIDATES(tree)[:MAX_ELEMENTS]:  # in document order
        css = element.get("class")
        if "comment" not in css.lower() and _own_prose(element):
            groups[(element.tag, css)].append(element)
    for members in [m for m in groups.values() if len(m) > 1][:MAX_GROUPS]:
        first = members[0]
        story = _story_of(first)
        chunks = [first]
        for chunk in members[1:MAX_CHUNKS]:
            ancestor = _common_ancestor(first, chunk)
            if _story_of(chunk) is not story or ancestor is None or _headline_between(first, chunk, ancestor):
                break
            chunks.append(chunk)
        if len(chunks) > 1:
            return [_paragraphs(chunk) for chunk in chunks]  # one body per page
    return []


def restore_chunks(lines: list[str], chunks: list[list[str]]) -> list[str]:
    """``lines`` with the later chunks' paragraphs inserted after the first chunk's last line, if they are missing."""
    if not chunks:
        return lines
    keys = [_key(line) for line in lines]
    first_line: dict[int, dict[str, int]] = {}  # key length -> line key prefix -> first line with it

    def position(paragraph: str) -> int:
        """The first line that starts with the paragraph's key, -1 if none (dict lookups: linear overall)."""
        key = _key(paragraph)
        if not key:
            return -1
        if len(key) not in first_line:
            first_line[len(key)] = {}
            for i, line_key in enumerate(keys):
                first_line[len(key)].setdefault(line_key[: len(key)], i)
        return first_line[len(key)].get(key, -1)

    anchor = max((position(p) for p in chunks[0]), default=-1)
    missing = [chunk for chunk in chunks[1:] if all(position(p) == -1 for p in chunk)]
    if anchor == -1 or not missing:
        return lines
    added = [paragraph for chunk in missing for paragraph in chunk]
    return [*lines[: anchor + 1], *added, *lines[anchor + 1 :]]


def _key(text: str) -> str:
    return " ".join(text.split())[:CHUNK_KEY_CHARS]


def _paragraphs(element) -> list[str]:
    texts = (" ".join(p.text_content().split()) for p in element.findall("p"))
    return [text for text in texts if text]


def _own_prose(element) -> bool:
    """True if the element has ``CHUNK_MIN_PARAGRAPHS`` direct ``<p>`` children with ``CHUNK_MIN_CHARS`` of text."""
    paragraphs = element.findall("p")  # direct children, found in C: most containers have none
    if len(paragraphs) < CHUNK_MIN_PARAGRAPHS:
        return False
    return sum(len(p.text_content().strip()) for p in paragraphs) >= CHUNK_MIN_CHARS


def _story_of(element):
    """The nearest ``<article>`` ancestor, or None."""
    for ancestor in element.iterancestors("article"):
        return ancestor
    return None


def _common_ancestor(first, other):
    """Their nearest common ancestor if it is at most ``CHUNK_MAX_LEVELS`` above each, else None."""
    above = list(first.iterancestors())[:CHUNK_MAX_LEVELS]
    for ancestor in list(other.iterancestors())[:CHUNK_MAX_LEVELS]:
        if any(a is ancestor for a in above):
            return ancestor
    return None


def _headline_between(first, other, ancestor) -> bool:
    """True if an ``<h1>`` outside ``first`` comes after it and before ``other`` in document order."""
    after_first = False
    for count, element in enumerate(ancestor.iter()):
        if count >= MAX_SCAN or element is other:
            return count >= MAX_SCAN  # too far apart to call them one body
        if element is first:
            after_first = True
        elif after_first and element.tag == "h1" and not any(a is first for a in element.iterancestors()):
            return True
    return False


def drop_inline_cards(tree) -> int:
    """Remove hover cards from paragraphs (see the module docstring); returns how many went."""
    cards = []
    looked_at = 0
    for paragraph in tree.iter("p"):
        if looked_at >= MAX_ELEMENTS:
            break
        if paragraph.find(".//img") is None:
            continue
        found = []
        for element in paragraph.iter(*_INLINE):
            looked_at += 1
            if looked_at >= MAX_ELEMENTS:
                break
            if _is_card(element):
                found.append(element)
        # the smallest cards only: one that holds another card holds the name it belongs to
        outer = {id(a) for card in found for a in card.iterancestors(*_INLINE)}
        cards.extend(card for card in found if id(card) not in outer)
    for card in cards:
        _remove_keeping_tail(card)
    return len(cards)


def _is_card(element) -> bool:
    subtree = list(islice(element.iter(), CARD_MAX_ELEMENTS + 1))
    if len(subtree) > CARD_MAX_ELEMENTS or not any(e.tag == "img" for e in subtree):
        return False  # a card is small: a bigger element is a container, not a card (and bounds the work)
    links = [a for a in subtree if a.tag == "a" and a.get("href") is not None]
    if len(links) < CARD_MIN_LINKS:
        return False
    text = len("".join(element.itertext()).strip())
    linked = sum(len("".join(a.itertext()).strip()) for a in links)
    return text > 0 and linked >= CARD_LINK_SHARE * text


def _remove_keeping_tail(element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)

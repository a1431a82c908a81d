"""Boilerplate removal for plain-text and Markdown articles, and for extracted HTML text.

Pages saved as text keep their site's chrome: accessibility and navigation links, "Breaking
News" banners, share and subscribe prompts, by-line/date/tag header blocks, disclaimers and
copyright footers. This module classifies *lines* (one line = one paragraph) by their form and
their position, not by any one site's wording:

- **chrome**: a short line that is only an interface label ("Accessibility links", "Share this
  story", "12 comments") or a prompt ("Sign up for ...", "Follow us on ...", "Read more: ...");
  removed anywhere;
- **legal**: a disclaimer, copyright or fair-use notice; removed anywhere;
- **header meta**: by-lines, date stamps, "Region:"/"Tags:" lines before the body starts;
  removed, and mined for authors and the publication date;
- **footer**: a trailing run of chrome, legal, meta and attribution lines ("This post first
  appeared on ...", "The original source of this article is ..."); removed from the end back
  to the last body paragraph.

Markdown link and emphasis syntax is reduced to its text first, and a line repeated right
after itself (a photo caption printed twice) is kept once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from newswire.extract.dates import find_date
from newswire.extract.normalize import clean_line, split_lines

# --- Markdown ---------------------------------------------------------------------------

# Every pattern here runs on page text, so none may backtrack over unbounded input: a run of
# characters is matched by a class that excludes the character that starts the next attempt
# ("[" for links, "<" for tags, "*" for emphasis), so each character is scanned a bounded
# number of times; trailing "#"s of headings are stripped by code, not by a lazy pattern.
_URL_CHARS = r"[^()\s\[\]]*"
_MD_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^()\[\]]*\)")
_MD_LINK = re.compile(
    rf"\[([^\[\]]+)\]\({_URL_CHARS}(?:\({_URL_CHARS}\){_URL_CHARS})*(?:\s+\"[^\"\[\]]*\")?\)"
)
_MD_REF_LINK = re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\[\]]+\]:\s+\S")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s(.*)$")
_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_MD_BULLET = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?")
_MD_STRONG = re.compile(r"\*\*(?=[^\s*])([^*]+?)(?<=\S)\*\*|__(?=[^\s_])([^_]+?)(?<=\S)__")
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_MD_CODE = re.compile(r"`([^`]+)`")
_HTML_TAG = re.compile(r"</?(?:br|p|div|span|b|i|em|strong|a|u|sup|sub)\b[^<>]*>", re.I)
_MAILTO = re.compile(r"^mailto:", re.I)


def strip_markdown_inline(line: str) -> str:
    """Markdown inline syntax reduced to its text: links, images, emphasis, code, stray tags."""
    if "[" in line:
        line = _MD_IMAGE.sub("", line)
        line = _MD_LINK.sub(r"\1", line)
        line = _MD_REF_LINK.sub(r"\1", line)
    if "<" in line:
        line = _MD_AUTOLINK.sub(lambda m: _MAILTO.sub("", m.group(1)), line)
        line = _HTML_TAG.sub(" ", line)
    if "*" in line or "_" in line:
        line = _MD_STRONG.sub(lambda m: m.group(1) or m.group(2), line)
        line = _MD_EM.sub(lambda m: m.group(1) or m.group(2), line)
    if "`" in line:
        line = _MD_CODE.sub(r"\1", line)
    return line.rstrip("\\")


def _heading(line: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading ("## Title ##"), None for any other line."""
    match = _MD_HEADING.match(line)
    if not match:
        return None
    text = match.group(2).strip()
    closed = text.rstrip("#")
    if closed != text and (not closed or closed[-1].isspace()):
        text = closed.rstrip()  # a closing run of "#" counts only after a space ("C#" stays)
    return len(match.group(1)), text


@dataclass(kw_only=True, slots=True)
class Line:
    """One source line after Markdown reduction."""

    text: str
    heading: int = 0  # Markdown heading level, 0 for none
    rule: bool = False  # a horizontal rule ("---"), kept as a section marker


_BLOCK_START = re.compile(r"^\s{0,3}(?:#{1,6}\s|[-*+]\s|\d{1,3}[.)]\s|>|\||([-*_])(\s*\1){2,}\s*$)")


def unwrap_hard_wrapped(text: str) -> str:
    """Join lines of a text hard-wrapped at a fixed width back into one line per paragraph.

    A document counts as hard-wrapped when no line is longer than 100 characters and most
    lines are longer than 50 (typical of 72- or 80-column text). Blank lines, headings, list
    items, quotes, table rows and lines ending in a Markdown hard break are kept as breaks.
    Texts with one paragraph per line (most saved articles) are returned unchanged.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    filled = [line for line in lines if line.strip()]
    if len(filled) < 4 or max(len(line) for line in filled) > 100:
        return text
    if sum(len(line.strip()) >= 50 for line in filled) < 0.6 * len(filled):
        return text
    out: list[str] = []
    joinable = False
    for line in lines:
        if joinable and line.strip() and not _BLOCK_START.match(line):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
        joinable = bool(line.strip()) and not line.endswith(("  ", "\\")) and not _heading(line)
    return "\n".join(out)


def markdown_lines(text: str) -> list[Line]:
    """The lines of a text or Markdown document, syntax reduced; blank lines dropped."""
    raw = split_lines(unwrap_hard_wrapped(text))
    lines: list[Line] = []
    for i, row in enumerate(raw):
        if not row or _MD_REF_DEF.match(row):
            continue
        if _MD_SETEXT.match(row) and lines and i > 0 and raw[i - 1]:
            if row.startswith("="):
                lines[-1].heading = 1
                continue
            if row.startswith("-") and not lines[-1].heading:
                lines[-1].heading = 2
                continue
        if _MD_RULE.match(row):
            lines.append(Line(text="", rule=True))
            continue
        heading = 0
        parsed = _heading(row)
        if parsed:
            heading, row = parsed
        row = _MD_BULLET.sub("", _MD_QUOTE.sub("", row))
        row = clean_line(strip_markdown_inline(row))
        if row:
            lines.append(Line(text=row, heading=heading))
    return lines


# --- line classes -----------------------------------------------------------------------

_SOCIAL = r"(?:facebook|twitter|x|linkedin|whatsapp|reddit|pinterest|telegram|tumblr|e-?mail|print|copy link|messenger|sms|flipboard|pocket)"

# A whole line that is only an interface label (compared lower-cased, trailing punctuation removed).
_CHROME_LINE = re.compile(
    r"(?:accessibility links|skip to (?:main )?content|skip (?:to )?navigation|jump to (?:main )?(?:content|navigation)"
    r"|breaking(?: news)?|(?:main )?menu|navigation|search|home(?: ?page)?|sign in|log ?in|log ?out|register|subscribe(?: now)?"
    r"|advertisement|advertising|sponsored(?: content)?|ad|close|share(?: this)?(?: article| story| post| page| on)?|print"
    r"|email|e-mail|print friendly(?:,? pdf (?:&|and) email)?|print this(?: article| page| story)?|font size|text size"
    r"|listen(?: to (?:this )?(?:article|story))?|(?:\d+ )?comments?|(?:leave|post|add|write) a (?:comment|reply)"
    r"|(?:view|show|hide|load|read) (?:all )?comments|back to top|top stories|latest(?: news)?"
    r"|related(?: articles| stories| posts| content| news| coverage| topics)?|more(?: stories| news| articles)?"
    r"|most (?:read|popular|viewed|shared)|trending(?: now)?|you (?:may|might) (?:also )?like|recommended(?: for you)?"
    r"|don'?t miss|watch(?: now| live)?|loading|cookie (?:settings|policy|preferences)|accept(?: all)?(?: cookies)?"
    r"|tweet|pin it|follow us|newsletter|continue reading|read (?:more|next|full (?:story|article))"
    r"|(?:image|photo|video|picture)(?: credit)?|(?:show|hide) caption|expand|toggle|previous|next"
    rf"|{_SOCIAL}(?:\W+{_SOCIAL})*)"
)

# Prompts and attributions recognised by how a (short) line starts.
_PROMPT_PREFIX = re.compile(
    r"(?:read more|read also|also read|more on this|see also|related|recommended|don'?t miss|most read|trending"
    r"|(?:watch|listen)(?: now| here)?|more from [^:]{1,40}|(?:image|photo|picture|video) (?:credit|source)|(?:image|photo|picture)s?"
    r"|credit|source|via|tags?|tagged|topics?|filed under|categor(?:y|ies)|sections?|keywords|region|theme"
    r"|in-depth report|related topics|(?:more )?articles by|posts by|stories by|about the author)\s*[:|>»]"
    r"|(?:sign up|signup|subscribe|register)(?: now| today| here| free)?\b.{0,80}\b(?:to|for)\b"
    r"|get (?:our|the)\b.{0,60}\b(?:newsletter|app|alerts|briefing)"
    r"|join (?:our|the) (?:mailing list|newsletter|community|channel|discussion|conversation)"
    r"|join the (?:discussion|conversation|debate)"
    r"|(?:click|tap) here\b|follow (?:us|@\w+|[\w.]+(?: [\w.]+){0,3} on (?:twitter|facebook|instagram|linkedin|telegram|youtube|x))"
    r"|become an? (?:member|subscriber|patron|supporter|donor)\b|(?:support|donate to) (?:us|our|independent)\b"
    r"|comment on\b|(?:leave|post|add|share) (?:a|your) (?:comment|reply|thoughts)\b|tell us what you think"
    r"|(?:have|got) a (?:news )?tip\b|(?:for )?(?:media|press) (?:inquiries|enquiries|contacts?)\b|contact us\b"
    r"|share (?:this|on)\b|(?:print|email) this\b|like us on\b|download (?:our|the) app\b"
    r"|we use cookies\b|this (?:site|website) uses cookies\b",
    re.I,
)

_TABLE_ROW = re.compile(r"^\|.*\|$")  # a table row as trafilatura writes it: "| Team | Wins |"
_TABLE_RULE = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+$")  # the "|---|---|" line under a table header
_NAV_SEPARATOR = re.compile(r"\s+[|•·»›>/]\s+")

_ATTRIBUTION = re.compile(
    r"(?:this|the) (?:post|article|story|piece|report|column|essay) (?:was )?(?:first|originally) (?:appeared|published|posted|ran)"
    r"|(?:originally|first) (?:published|appeared|posted) (?:on|at|in|by)\b"
    r"|the original source of this (?:article|post|story) is\b"
    r"|(?:re)?published (?:here )?with (?:the )?permission\b|reprinted (?:with permission )?from\b"
    r"|(?:this|the) (?:article|story) (?:is|was) (?:republished|reproduced) from\b",
    re.I,
)

_COPYRIGHT = re.compile(r"(?:copyright\s*(?:©|\(c\)|(?:19|20)\d\d|by\b)|©|\(c\)\s*(?:19|20)\d\d)", re.I)
_ALL_RIGHTS = re.compile(r"\ball rights reserved\b", re.I)
_DISCLAIMER = re.compile(r"(?:disclaimer|legal notice|terms of use)\s*[:.\-–—]", re.I)
# Phrases of legal boilerplate; a paragraph with two of them is a notice, not reporting.
_LEGAL_PHRASES = re.compile(
    r"fair use|copyrighted material|copyright owner|all rights reserved|sole responsibility of the author"
    r"|views (?:and opinions )?expressed (?:in this (?:article|post|piece) |here(?:in)? |by the author )?are"
    r"|do(?:es)? not necessarily (?:reflect|represent)|not be (?:held )?responsible for any"
    r"|grants? permission to (?:cross-post|repost|republish|reprint)|without (?:prior )?written permission"
    r"|may not be (?:published|reproduced|broadcast|rewritten|redistributed)|for (?:research and )?educational purposes"
    r"|terms of (?:use|service)|privacy policy",
    re.I,
)

_LEGAL_HINTS = ("fair use", "copyright", "rights reserved", "responsib", "expressed", "necessarily", "permission",
                "may not be", "educational", "terms of", "privacy")

_BYLINE = re.compile(
    r"^(?:by|written by|words by|posted by|story by|text by|reporting by|report by|author|authors|autor|von|par|por)"
    r"\s*[:\-–—]?\s+(?P<names>.+)$",
    re.I,
)
_NAME_PARTICLES = {"de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "la", "le", "al", "el", "bin", "ibn", "y", "st."}
_NOT_NAMES = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "staff", "the editors", "editor", "admin", "guest",
}
_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.I)
_BYLINE_TAIL = re.compile(r"\s*(?:\||•|·|—|–|\s-\s|\bon\b|\bfor\b|\bin\b|\bat\b|\bupdated\b|\bpublished\b|\bposted\b).*$", re.I)
_DATE_LEAD = re.compile(
    r"^(?:published|posted|updated|last updated|last modified|date|dated|first published|created)\b\s*(?:on|at)?\s*[:\-–—]?\s*",
    re.I,
)
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def _words(line: str) -> int:
    return len(line.split())


def _key(line: str) -> str:
    """A line reduced for label matching: lower-case, outer punctuation and bullets removed.

    Stripped by a scan from each end (what is not a letter or digit goes), not by a
    ``[\\W_]+$`` pattern, which retries from every position of a punctuation run (quadratic).
    """
    low = line.lower()
    start, end = 0, len(low)
    while start < end and not low[start].isalnum():
        start += 1
    while end > start and not low[end - 1].isalnum():
        end -= 1
    return low[start:end].replace("’", "'")


def is_chrome(line: str) -> bool:
    """An interface label or prompt line: never article text, wherever it appears."""
    if len(line) > 300 or _words(line) > 30 or _TABLE_ROW.match(line):
        return False
    key = _key(line)
    if not key:
        return True  # only punctuation or symbols (separators, bullets, "|||")
    if _CHROME_LINE.fullmatch(key):
        return True
    items = _NAV_SEPARATOR.split(line)
    if len(items) >= 3 and all(0 < _words(item) <= 3 for item in items):
        return True  # a menu or breadcrumb: "Home | World | Science"
    return bool(_PROMPT_PREFIX.match(key)) and _words(line) <= 25


def is_legal(line: str) -> bool:
    """A disclaimer, copyright or fair-use notice."""
    if _DISCLAIMER.match(_key(line) + ":") and _words(line) > 3:
        return True
    if _words(line) <= 25 and (_COPYRIGHT.match(line.lstrip("*_ ")) or _ALL_RIGHTS.search(line) or "©" in line):
        return True
    low = line.lower()
    if not any(hint in low for hint in _LEGAL_HINTS):
        return False  # cheap pre-check: the phrase regex is slow on long paragraphs
    return len({m.group(0).lower() for m in _LEGAL_PHRASES.finditer(line)}) >= 2


def is_attribution(line: str) -> bool:
    """A "this post first appeared on ..." line (belongs to the page, not the story)."""
    return _words(line) <= 30 and bool(_ATTRIBUTION.match(_key(line)))


def byline_authors(line: str) -> list[str] | None:
    """The author names of a by-line ("By Jane Roe and John Doe, Reuters"), None if not a by-line."""
    match = _BYLINE.match(line)
    if not match or _words(line) > 16 or line.endswith(("?", "!")):
        return None
    if line.endswith(".") and len(line.rstrip(".").split()[-1]) > 2:
        return None  # a sentence ("By Monday, the troops had left."), not a by-line
    names_part = _BYLINE_TAIL.sub("", match.group("names")).strip(" ,.:")
    parts = [clean_line(n).strip(" .") for n in _NAME_SPLIT.split(names_part)]
    parts = [p for p in parts if p]
    if not parts or not _is_name(parts[0]):
        return None
    names = []
    for part in parts:
        if _is_name(part):
            names.append(part)
        elif len(part.split()) > 3:
            return None  # prose after the name: not a by-line
    if len(names) > 1:
        names = [n for n in names if " " in n] or names  # "Jane Roe, Reuters": keep the person
    return names


def _is_name(text: str) -> bool:
    tokens = text.split()
    if not 1 <= len(tokens) <= 5 or text.lower() in _NOT_NAMES:
        return False
    for token in tokens:
        bare = token.strip(".,'’()")
        if bare.lower() in _NAME_PARTICLES:
            continue
        if not bare or not bare[0].isupper() or any(ch.isdigit() for ch in bare):
            return False
    return True


def date_line(line: str) -> datetime | None:
    """The date of a short date-stamp line ("Global Research, September 06, 2016"), else None."""
    if _words(line) > 14:
        return None
    value, (start, end) = find_date(line)
    if value is None:
        return None
    rest = _DATE_LEAD.sub("", (line[:start] + " " + line[end:]).strip())
    rest = re.sub(r"\b\d{1,2}[:.]\d\d(?:\s*[ap]\.?m\.?)?\b|\b(?:utc|gmt|[a-z]{1,2}t|cet|cest)\b|[|,;–—-]", " ", rest, flags=re.I)
    rest = re.sub(r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?", " ", rest, flags=re.I)
    if _SENTENCE_END.search(rest.strip()) and len(_WORD.findall(rest)) > 3:
        return None
    return value if len(_WORD.findall(rest)) <= 5 else None


def is_meta(line: str) -> bool:
    """A header meta line: by-line, date stamp or label line (tags, region, topic)."""
    return byline_authors(line) is not None or date_line(line) is not None


def is_body_like(line: str) -> bool:
    """A line that reads like article prose: several words and a sentence end."""
    return _words(line) >= 12 and bool(_SENTENCE_END.search(line) or line.endswith((":", ",")))


# --- the whole document -----------------------------------------------------------------

_TITLE_MAX_WORDS = 40


@dataclass(kw_only=True, slots=True)
class CleanText:
    """A text article split into its parts, with what was removed (for tests and debugging)."""

    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    removed: list[str] = field(default_factory=list)


def collapse_repeats(lines: list[str]) -> list[str]:
    """Consecutive identical lines kept once (captions printed twice, doubled headings)."""
    out: list[str] = []
    for line in lines:
        if out and _key(out[-1]) == _key(line) and _key(line):
            continue
        out.append(line)
    return out


def _take_title(lines: list[Line], result: CleanText) -> list[Line]:
    """Pick the title: a Markdown heading near the top, else the first line that is not chrome."""
    for i, line in enumerate(lines[:8]):
        if line.heading and not is_chrome(line.text) and _words(line.text) <= _TITLE_MAX_WORDS:
            before = []
            for x in lines[:i]:
                if x.rule or _is_header_noise(x.text, result):
                    result.removed.append(x.text)
                else:
                    before.append(x)
            result.title = line.text
            return before + lines[i + 1 :]
    for i, line in enumerate(lines):
        if line.rule or is_chrome(line.text):
            result.removed.append(line.text)
            continue
        if _words(line.text) > _TITLE_MAX_WORDS:
            return lines[i:]  # no title line: the text starts with its body
        result.title = line.text
        return lines[i + 1 :]
    return []


def _is_header_noise(line: str, result: CleanText) -> bool:
    """A header line to drop; by-lines and date stamps fill in ``result``'s authors and date."""
    if is_chrome(line) or is_legal(line):
        return True
    authors = byline_authors(line)
    if authors is not None:
        if not result.authors:
            result.authors = authors
        value = date_line(line)
        if value and not result.published:
            result.published = value
        return True
    value = date_line(line)
    if value is not None:
        if not result.published:
            result.published = value
        return True
    return False


def _strip_header(lines: list[str], result: CleanText) -> list[str]:
    """Drop the by-line/date/tag block between the title and the first body paragraph."""
    start = 0
    while start < len(lines) and _is_header_noise(lines[start], result):
        result.removed.append(lines[start])
        start += 1
    return lines[start:]


def _strip_footer(lines: list[str], result: CleanText) -> list[str]:
    """Drop the trailing run of chrome, legal, attribution and meta lines."""
    end = len(lines)
    while end > 0:
        line = lines[end - 1]
        if is_chrome(line) or is_legal(line) or is_attribution(line) or is_meta(line):
            end -= 1
            continue
        break
    result.removed.extend(lines[end:])
    return lines[:end]


def _strip_inline(lines: list[str], result: CleanText) -> list[str]:
    """Drop chrome and legal lines anywhere in the body."""
    kept = []
    for line in lines:
        if is_chrome(line) or is_legal(line):
            result.removed.append(line)
        else:
            kept.append(line)
    return kept


def clean_text(text: str) -> CleanText:
    """Split a plain-text or Markdown article into title, body paragraphs, authors and date."""
    result = CleanText()
    lines = markdown_lines(text)
    lines = _take_title(lines, result)
    # A horizontal rule in the last part of the text starts the page footer.
    body = [line.text for line in lines if not line.rule]
    rule_at = [i for i, line in enumerate(lines) if line.rule]
    if rule_at and rule_at[-1] >= 0.6 * len(lines):
        tail = [line.text for line in lines[rule_at[-1] + 1 :] if line.text]
        if all(is_chrome(t) or is_legal(t) or is_attribution(t) or is_meta(t) or not is_body_like(t) for t in tail):
            result.removed.extend(tail)
            body = [line.text for line in lines[: rule_at[-1]] if not line.rule]
    body = _strip_header(body, result)
    body = _strip_footer(body, result)
    body = _strip_inline(body, result)
    result.paragraphs = collapse_repeats(body)
    return result


# A newsletter sign-up box, whatever the site: its name ("Pick Six Newsletter"), its pitch
# ("... delivered to your inbox", "subscribing to our newsletter") and the messages its form
# shows ("Thanks for signing up!", "There was an error processing your subscription.").
_SIGNUP = re.compile(
    r"(?:thanks?(?: you)? for (?:signing up|subscribing|registering)|keep an eye on your inbox"
    r"|(?:an )?error (?:processing|with) your (?:subscription|sign-?up|request)"
    r"|(?:delivered|straight|direct(?:ly)?) (?:to|into) your inbox|(?:by )?subscribing to (?:our|the) \w*\s?newsletter"
    r"|sign up for (?:our|the|free)\b.{0,60}\bnewsletters?)",
    re.I,
)


def is_signup(line: str) -> bool:
    """A newsletter sign-up box's line: its name, its pitch, its thank-you and error messages."""
    words = _words(line)
    if words <= 4 and _key(line).endswith(("newsletter", "newsletters")) and not _SENTENCE_END.search(line):
        return True  # the box's title ("Pick Six Newsletter"), not a sentence ending in the word
    return words <= 30 and bool(_SIGNUP.search(_key(line)))


def clean_extracted_lines(lines: list[str], title: str | None) -> list[str]:
    """Boilerplate removal for text an HTML extractor already isolated (one line per paragraph).

    Lighter than :func:`clean_text`: the extractor has removed the header and footer, so only
    the title repeated as the first line, chrome and prompt lines, newsletter sign-up boxes,
    legal notices and doubled lines are dropped.
    """
    if lines and title and _same_title(lines[0], title):
        lines = lines[1:]
    return collapse_repeats(
        [line for line in lines
         if not (_TABLE_RULE.match(line) or is_chrome(line) or is_legal(line) or is_signup(line))]
    )


def _same_title(line: str, title: str) -> bool:
    a, b = _norm_words(line), _norm_words(title)
    if not a:
        return False
    return a == b or (len(a) >= 16 and (b.startswith(a) or b.endswith(a)))


def _norm_words(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()

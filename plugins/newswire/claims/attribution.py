"""Who made a claim: speaker or source, reporting verb, direct quote, numbers.

News attributes statements in a handful of fixed shapes, so patterns over the
sentence do the job without a parser or an entity model (none that is small,
offline and dependable enough was available):

- trailing:  "..., Konashenkov said.", "..., General Rudskoy added.",
  "“...,” Sergey Rudskoy, chief of the ... department, said on Friday.",
  "..., the SDF said Wednesday, four months after ...", "..., said the report"
- leading:   "Maj. Gen. Igor Konashenkov, the ministry's spokesman, said in a
  statement that ...", "Russia's General Staff said ...", "The Russian Ministry
  of Defense has confirmed that ..."
- sourcing:  "... according to the Britain-based Syrian Observatory for Human Rights"
- across sentences: a sentence inside a quotation that an earlier sentence of
  the paragraph opened takes that sentence's speaker, and a pronoun speaker
  ("..., he continued.") takes the last named speaker of the preceding sentences.

Appositions are cut ("Sergey Rudskoy, chief of ..." -> "Sergey Rudskoy") and so
are leading determiners and "-based" modifiers ("the Britain-based Syrian
Observatory ..." -> "Syrian Observatory for Human Rights").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .sentences import OPEN_QUOTES, Sentence

VERBS = (
    "said", "says", "say", "told", "tells", "added", "adds", "stated", "states", "announced", "announces",
    "claimed", "claims", "confirmed", "confirms", "reported", "reports", "report", "declared", "insisted",
    "denied", "denies", "warned", "warns", "noted", "notes", "explained", "argued", "asserted", "alleged",
    "estimated", "wrote", "writes", "tweeted", "revealed", "reveal", "reveals", "acknowledged", "admitted",
    "continued", "concluded", "disclosed", "disclose", "lamented", "vowed", "pledged", "promised",
    "predicted", "suggested", "stressed", "emphasised", "emphasized", "maintained", "accused", "blamed",
    "charged", "contended", "countered", "replied", "responded", "testified", "indicated", "observed",
)
# "the intelligence report did not say" / "the claims were false": a noun, not a reporting verb
_VERB = (
    "(?:" + "|".join(VERBS) + ")"
    r"(?!\s+(?:did|does|do|was|were|is|are|has|have|had|will|would|could|should|can|may|might|must|of)\b)"
)
_AUX = r"(?:(?:has|have|had|also|first|further|later|previously|earlier|again|however,?|then|[a-z]+ly)\s+)*"
_TIME = (
    r"(?:\s+(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|today|yesterday|"
    r"last\s+\w+|this\s+\w+|earlier|later|in\s+a\s+statement|in\s+an\s+interview|on\s+the\s+same\s+day|"
    r"on\s+\w+\.?\s+\d{1,2}))*"
)
PRONOUNS = {"he", "she", "they", "it", "we", "i"}
_DETERMINERS = re.compile(r"^(?:(?:the|a|an|this|that|one|some|our)\s+)+", re.IGNORECASE)
_BASED = re.compile(r"^(?:[\w.-]+-based\s+)+")
_NAMEISH = re.compile(r"[A-Z]")

# "..., Konashenkov said." / "“...,” Sergey Rudskoy, chief of ..., said on Friday." / "..., the SDF said Wednesday, ..."
_TRAILING = re.compile(
    rf"(?:,|[”\"’]|:)\s*(?P<speaker>[^,“”\"]{{2,90}}?(?:,[^,“”\"]{{2,90}}?,)?)\s+{_AUX}(?P<verb>{_VERB})"
    rf"{_TIME}\s*(?:[.,;:!?]|[–—-]|$)"
)
# "..., said the report" / "..., said one report, adding: ..."
_INVERTED = re.compile(
    rf"(?:,|[”\"’])\s*(?P<verb>{_VERB})\s+(?P<speaker>[^,.;:“”\"–—]{{2,80}}?)\s*(?:[.,;:!?]|[–—-]|$)"
)
# "Konashenkov also said the ...", "Maj. Gen. Igor Konashenkov, the ... spokesman, said in a statement that ..."
_LEADING = re.compile(
    rf"^(?:[^:“”\"]{{0,40}}:\s+)?(?P<speaker>[^,“”\"]{{2,90}}?(?:,[^“”\"]{{2,90}}?,)?)\s+(?:,\s*)?{_AUX}"
    rf"(?P<verb>{_VERB}){_TIME}\b"
)
_ACCORDING = re.compile(
    r"\baccording to\s+(?P<speaker>[^,.;:“”\"()]+?)(?=\s+(?:that|which|who|whose|in\s+a|on\s+\w+day)\b|[,.;:()]|$)",
    re.IGNORECASE,
)

_NUMBER = re.compile(
    r"(?:(?i:about|around|over|under|nearly|almost|more than|less than|at least|up to|some)\s+)?"
    r"(?<![\w.-])[$€£]?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*(?:-|–|to)\s*\d+(?:,\d{3})*(?:\.\d+)?)?(?![\d]|[A-Za-z])"
    r"(?:\s*(?:%|percent|per cent|million|billion|trillion|thousand|hundred|km|kilometers|kilometres|miles|"
    r"square\s+(?:kilometers|kilometres|miles|meters|metres)|tons|tonnes|dollars|euros|people|years?|months?|"
    r"days?|hours?|weeks?))?"
    r"(?:\s+(?!of\b|and\b|or\b|in\b|on\b|at\b|to\b|the\b|a\b|by\b|for\b|from\b|with\b)[a-z][a-z-]+)?"
)
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}(?:\s+\d{{4}})?|{_MONTHS}\s+\d{{1,2}}(?:\s*-\s*\d{{1,2}})?"
    rf"(?:,?\s+\d{{4}})?|{_MONTHS}\s+\d{{4}}|(?:in|since|until|by)\s+\d{{4}}|"
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))\b"
)
_WORD_NUMBER = re.compile(
    r"\b(?:(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundreds|thousands|millions|dozens|billions)(?:\s+(?:hundred|thousand|million|billion))?"
    r"(?:\s+(?!of\b|and\b|or\b|in\b|the\b)[a-z][a-z-]+)?)\b"
)
_QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]?")


@dataclass(slots=True)
class Attribution:
    """What the text says about where a sentence's statement comes from."""

    speaker: str | None = None
    verb: str | None = None
    quote: bool = False
    numbers: list[str] = field(default_factory=list)


def clean_speaker(phrase: str) -> str | None:
    """A speaker phrase cut to its head: no apposition, determiners or "-based" modifiers.

    Returns None when what is left cannot name a source (empty, too long, no
    capital letter and not a pronoun or a common source noun).
    """
    phrase = phrase.strip(" ,.;:–—-\"“”’'")
    phrase = phrase.split(",")[0].strip()
    for lead in ("however", "meanwhile", "but", "and", "also"):
        if phrase.lower().startswith(lead + " "):
            phrase = phrase[len(lead) + 1 :]
    if phrase.lower() in PRONOUNS:
        return phrase.lower()
    phrase = _DETERMINERS.sub("", phrase)
    phrase = _BASED.sub("", phrase).strip()
    words = phrase.split()
    if not words or len(words) > 12:
        return None
    if not _NAMEISH.search(phrase) and not re.search(
        r"\b(?:officials?|ministry|spokes(?:man|woman|person)|report|sources?|police|military|army|government|"
        r"authorities|media|statement|agency|observers?|monitors?|analysts?|experts?|witnesses|residents)\b",
        phrase,
        re.IGNORECASE,
    ):
        return None
    if re.search(r"\b(?:that|which|because|if|when|while|as|since|although|though|can|cannot|could|be|is|are|"
                 r"was|were|did|does|not|it)\b", phrase, re.IGNORECASE):
        return None
    return phrase


def _direct_quote(text: str) -> bool:
    """True if the sentence quotes someone's words: it opens with a quote mark, or quotes four words or more.

    Shorter quoted spans inside a sentence are scare quotes ("its “success” in Aleppo").
    """
    return text[:1] in OPEN_QUOTES or any(len(m.group(1).split()) >= 4 for m in _QUOTED.finditer(text))


def find_numbers(text: str) -> list[str]:
    """Numbers, quantities and dates the sentence mentions, in order of appearance, without repeats."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_DATE, _NUMBER, _WORD_NUMBER):
        for match in pattern.finditer(text):
            start, end = match.span()
            value = match.group(0).strip().rstrip(",.;:")
            if not value or any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            found.append((start, value))
    seen: set[str] = set()
    out = []
    for _, value in sorted(found):
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def attribute_sentence(text: str) -> Attribution:
    """Attribution found inside one sentence (no context)."""
    result = Attribution(quote=_direct_quote(text), numbers=find_numbers(text))
    for pattern in (_TRAILING, _INVERTED, _LEADING):
        for match in pattern.finditer(text):
            speaker = clean_speaker(match.group("speaker"))
            if speaker:
                result.speaker, result.verb = speaker, match.group("verb")
                return result
    match = _ACCORDING.search(text)
    if match:
        speaker = clean_speaker(match.group("speaker"))
        if speaker:
            result.speaker, result.verb = speaker, "according to"
    return result


def attribute(sentences: list[Sentence]) -> list[Attribution]:
    """Attributions for all sentences of a text, carrying speakers across sentences.

    A sentence inside a quotation opened earlier in its paragraph, or one that
    opens with a quote mark right after a quoted sentence (the next quoted
    sentence or paragraph of the same speaker), takes that speaker;
    a pronoun speaker takes the last named speaker of the three sentences before
    (and is dropped when there is none: "he" alone helps no one searching).
    """
    results = [attribute_sentence(s.text) for s in sentences]
    last_named: tuple[int, str] | None = None
    for index, (sentence, result) in enumerate(zip(sentences, results)):
        previous = results[index - 1] if index > 0 else None
        continues_quote = sentence.in_quote or (
            sentence.text[:1] in OPEN_QUOTES and previous is not None and previous.quote
        )  # '“We will retaliate,” Konashenkov said. “The coalition must stop.”'
        if result.speaker is None and continues_quote and previous is not None and previous.speaker:
            result.speaker, result.verb, result.quote = previous.speaker, previous.verb, True
        if result.speaker in PRONOUNS:  # resolved to a recent named speaker, or dropped
            near = last_named and index - last_named[0] <= 3
            result.speaker = last_named[1] if near else None
        if result.speaker and result.speaker not in PRONOUNS:
            last_named = (index, result.speaker)
    return results

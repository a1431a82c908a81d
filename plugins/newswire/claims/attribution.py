"""Who made a claim: speaker or source, reporting verb, direct quote, numbers.

News attributes statements in a few fixed shapes, so a scan over the words of a sentence
finds the speaker without a parser or an entity model (none small, offline and dependable
enough was available). A *cue* is a reporting word (said, told, wrote, warned, according
to, a transcript's ``NAME:``); the speaker is the noun phrase next to it:

- subject before the cue: "Maj. Gen. Igor Konashenkov, the ministry's spokesman, said ...",
  "Russia's General Staff said ...", "..., a Kremlin official told reporters.";
- after the cue when it follows a comma or a closing quote: "..., said the report";
- "according to X".

A phrase is a speaker only when it is a name (capitalised words joined by "of", "for",
"'s") or ends in a word that names a source ("officials", "spokesman", "the union" after a
determiner), starts at a clause boundary, and holds no verb or function word: so never a
piece of the sentence ("Oil fell after sources" gives "sources") and never "According to".
Appositions and parentheses are skipped ("Hong Yong-pyo, South Korea's unification
minister, told" -> "Hong Yong-pyo").

Across sentences (``attribute``): a sentence inside a quotation takes the speaker the
quotation is attributed to (before or after it in the paragraph); a wholly quoted sentence
takes the speaker of the sentence before or after it in its paragraph; "he"/"she"/"they"
take the last named speaker of the paragraph (or the one before) that fits, and only when
one does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .sentences import NO_BREAK_AFTER, OPEN_QUOTES, Sentence

# Reporting words, as they appear in text (lower case; matched only in lower case, so
# "the United States" or a "Says" headline are not cues).
VERBS = frozenset("""
said says say saying told tells tell telling added adds adding wrote writes writing stated states
announced announces claimed claims confirmed confirms reported reports declared declares insisted insists
denied denies warned warns noted notes explained explains argued argues asserted asserts alleged alleges
estimated estimates tweeted tweets revealed reveals acknowledged acknowledges admitted admits continued
concluded disclosed lamented laments vowed vows pledged pledges promised promises predicted predicts
suggested suggests stressed stresses emphasised emphasized maintained maintains accused accuses blamed
blames charged contended contends countered counters replied replies responded responds testified
indicated indicates observed believes believed thinks thought wants wanted hopes hoped fears feared
expects expected urged urges asked asks described describes cited cites called calls recalled recalls
complained complains cautioned cautions conceded concedes pointed mentioned mentions remarked insisted
speculated worries worried questioned questions disputed disputes rejected rejects suspects suspected
knows knew feels felt doubts doubted predicted forecast boasted boasts joked quipped retorted answered
answers shouted reminded signalled signaled hinted implied threatened threatens swore assured informed
advised criticised criticized criticizes criticises praised praises dismissed dismisses condemned
condemns defended defends welcomed welcomes agreed agrees disagreed opposed opposes proposed proposes
recommended recommends demanded demands found finds showed shows concluded estimated projected
ruled rules published discovered sang sings pressed complimented slammed mocked stressing arguing claiming
warning insisting calling suggesting promising urging accusing blaming describing
suspect believe think want hope fear expect argue warn claim note agree worry know feel insist predict
estimate contend doubt urge deny acknowledge admit suggest allege
attacked attacks thanked encouraged encourages supported supports endorsed endorses backed
vowing pledging denying noting adding explaining asking show branded compares
highlighted highlights touted touts questioning encouraging slamming question expressed expresses detailed
blasted blasts echoed echoes tweeting
""".split())
# Adjectives of belief after a form of "be": "Many Democrats are afraid that ...", "X was confident the ..."
_STANCE_ADJECTIVES = frozenset("afraid worried concerned confident convinced certain hopeful optimistic "
                               "pessimistic skeptical sceptical doubtful adamant incensed outraged furious "
                               "angry upset pleased frustrated alarmed".split())
VERB_FORMS = VERBS  # kept for callers that read the list
_SAY = frozenset("said says say told tells added adds wrote writes stated continued asked explained noted "
                 "argued warned insisted replied responded recalled concluded reported announced tweeted "
                 "declared".split())
# "the intelligence report did not say" / "the claims were false": a noun, not a reporting verb
_NOT_AFTER_VERB = frozenset("did does do was were is are has have had will would could should can may might "
                            "must of".split())
PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i"})
_DETERMINERS = frozenset("the a an this that".split())
_QUANTIFIERS = frozenset("one two three four five several some many other another his her their its our most "
                         "both few multiple numerous".split())
_CONNECTORS = frozenset("of for and de del la le al bin ibn von van der du da dos".split())
# Words that begin a clause: a speaker phrase may start right after one.
_BOUNDARY_WORDS = frozenset("and but that as while when because so which where after before since though "
                            "although if whereas meanwhile however yet then also now".split())
_PREPOSITIONS = frozenset("in at on during with for from by under over since despite about into through "
                          "among between against without within near until unlike like amid".split())
# Skipped between a speaker and its verb: "X has also said", "X on Friday said".
_BETWEEN = frozenset("isn't isn’t wasn't wasn’t hasn't hasn’t haven't haven’t didn't didn’t doesn't doesn’t "
                     "long already publicly privately all both "
                     "is are was were been has have had also first further later previously earlier again then often repeatedly "
                     "once would will did does do not never had just recently reportedly on last this week "
                     "month year today yesterday tonight morning afternoon evening night monday tuesday "
                     "wednesday thursday friday saturday sunday".split())
# Nouns that name a source when no capital letter does ("officials said", "the mayor told").
ROLE_NOUNS = frozenset("""
official officials spokesman spokeswoman spokesperson spokespeople aide aides source sources minister ministers
president governor senator congressman congresswoman lawmaker lawmakers mayor chairman chairwoman chair director
lawyer lawyers attorney attorneys analyst analysts expert experts economist economists police ministry department
agency government authorities authority administration campaign committee group union company report study
survey poll researchers researcher scientists scientist officer officers leader leaders commander commanders
general witness witnesses residents resident critics critic supporters advocates members member prosecutors
prosecutor investigators investigator judge court doctors doctor staff team representative representatives
observers monitors activists activist organizers executive executives founder board council office military
army navy ministry spokesmen diplomats diplomat envoy ambassador secretary chief strategist adviser advisers
advisor advisors consultant pollster pollsters voters voter democrats republicans officials historian historians
professor teacher student students worker workers employees employee owner owners manager managers candidate
nominee nominees party firm bank agency regulators regulator inspector observatory coalition alliance network
newspaper paper magazine outlet website broadcaster operator watchdog monitor organization organisation charity
ad ads clip video memo letter slide analysis document documents data figures statistics records filings tally
estimates census surveys studies polls comment commentary editorial article column research fund
commission commissioner panel institute center centre foundation bureau division unit service corporation
station channel narrator announcer host anchor moderator correspondent reporter reporters columnist editor
author authors writer insiders allies opponents rivals backers donors developers physicians nurses parents
families relatives neighbors neighbours friends colleagues counsel defendants plaintiffs legislators delegates
senators congressmen governors mayors presidents ceo chancellor premier spokespersons
environmentalists conservatives liberals progressives protesters demonstrators woman man surrogate questioner user
reader viewer caller citizen veteran average averages businessman businesswoman
complaint lawsuit indictment ruling brief transcript book film documentary tally
""".split())
ROLE_NOUNS = ROLE_NOUNS | {noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"
                           for noun in ROLE_NOUNS if not noun.endswith("s")}  # "groups", "parties"
# Lowercase words that may stand before a role noun in a phrase with no determiner ("senior administration officials").
_MODIFIERS = frozenset("""
senior former top chief deputy assistant local state federal foreign military government campaign administration
party national international regional security intelligence defense defence health police press communications
election legal independent anonymous unnamed other white house company bank union industry city county district
school hospital news public private western eastern northern southern european american russian chinese israeli
palestinian iranian syrian turkish kurdish ukrainian british french german u.s. us republican democratic
""".split())
_TITLES = frozenset("""
mr mrs ms miss dr prof rev sen rep gov gen lt maj col capt cpt sgt cpl pvt adm cmdr brig lieut amb pres sec hon
president senator representative governor general secretary minister chancellor judge justice mayor professor
lieutenant colonel major captain sergeant admiral commander brigadier ambassador congressman congresswoman
sir lord lady dame sheikh king queen prince princess pope rabbi imam father sister brother former
""".split())
# "X issued a statement saying ...": the message's sender is the sentence's subject.
_MESSAGES = frozenset("statement statements letter message tweet tweets post note memo release email video "
                      "ad report".split())
_NOT_SPEAKERS = frozenset("according statement statements said says reported news today it this there "
                          "here which what who".split())
_OPEN = set(OPEN_QUOTES) | {"‘"}
_CLOSE = {"”", '"', "’", "'"}
_AFTER_CLAUSE = {",", "—", "–"} | _CLOSE  # a trailing attribution follows one of these

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W_]+(?:[’'&.-][^\W_]+)*\.?|[^\s\w]")
MAX_SENTENCE_CHARS = 1500  # longer "sentences" are lists or run-on page text: not scanned


@dataclass(frozen=True, slots=True)
class _Tok:
    text: str
    lower: str
    word: bool


def _tokens(text: str) -> list[_Tok]:
    """Words (abbreviations keep their full stop: "Gen.", "U.S.") and punctuation marks."""
    out: list[_Tok] = []
    for match in _TOKEN.finditer(text[:MAX_SENTENCE_CHARS]):
        piece = match.group(0)
        if piece[0].isalnum():
            bare = piece.rstrip(".")
            keep_stop = piece.endswith(".") and (
                bare.lower() in NO_BREAK_AFTER or bare.lower() in _TITLES
                or (len(bare) == 1 and bare.isupper()) or "." in bare
            )
            if piece.endswith(".") and not keep_stop:
                out.append(_Tok(bare, bare.lower(), True))
                out.append(_Tok(".", ".", False))
                continue
            out.append(_Tok(piece, piece.lower().rstrip("."), True))
        else:
            out.append(_Tok(piece, piece, False))
    return out


def _capital(tok: _Tok) -> bool:
    return tok.word and tok.text[0].isupper()


def _possessive(tok: _Tok) -> bool:
    return tok.word and tok.lower.endswith(("'s", "’s", "s'", "s’"))


def _head(tok: _Tok) -> str:
    return re.sub(r"['’]s?$", "", tok.lower)


def _phrase_ok(toks: list[_Tok], after_boundary: bool) -> bool:
    """True if ``toks`` (a candidate speaker, determiners stripped) can name a source."""
    if not toks or len(toks) > 10:
        return False
    last = toks[-1]
    head = _head(last)
    timeword = head in _TIME_WORDS and not (len(toks) > 1 and _capital(toks[-2]))  # not "Theresa May"
    if head in _NOT_SPEAKERS or timeword or _possessive(last) \
            or len(toks) == 1 and last.lower in _TITLES and head not in ROLE_NOUNS:  # "Rep", "Mr" alone
        return False
    if any(t.lower in PRONOUNS or t.lower in ("you", "i") or re.search(r"['’](?:d|ve|ll|re|m)$", t.lower)
           for t in toks):
        return False
    if toks[0].lower in ("his", "her", "their", "its", "our", "my", "your"):
        return False  # "his team": whose team is for the reader to guess
    if toks[0].lower in _GENERIC and len(toks) == 1 \
            or toks[0].lower in _CONNECTORS and (toks[0].lower in ("of", "for", "and") or not _capital(toks[0])) \
            or toks[0].lower in _QUANTIFIERS and len(toks) == 1:
        return False
    if not (_capital(last) or head in ROLE_NOUNS):
        return False
    if not any(_capital(t) and (t.lower not in _TITLES or t is last) or _head(t) in ROLE_NOUNS for t in toks):
        return False
    lowercase = [t for t in toks if t.word and not _capital(t)]
    loose = 2  # "top black lawmakers", "retired Navy admiral Jane Holt"
    for t in lowercase:
        if t.lower in _CONNECTORS or _head(t) in ROLE_NOUNS or t.lower in _MODIFIERS or t.lower in _QUANTIFIERS:
            continue
        if after_boundary and not (t.lower in _PREPOSITIONS or t.lower in _BOUNDARY_WORDS
                                   or t.lower in _NOT_AFTER_VERB or t.lower in VERBS or t.lower in PRONOUNS):
            continue  # "the company's chief", "a campaign aide": after a determiner any noun may modify
        if loose and (_plain_word(t) or t is toks[0] and t.lower.endswith("ed")):
            loose -= 1
            continue
        return False
    return not any(not t.word and t.text not in ".-'’&" for t in toks)


def _strip_determiners(toks: list[_Tok]) -> tuple[list[_Tok], bool]:
    had = False
    while toks and toks[0].lower in _DETERMINERS:
        toks, had = toks[1:], True
    return toks, had or bool(toks and (toks[0].lower in _QUANTIFIERS or _possessive(toks[0])))


def _span_text(toks: list[_Tok]) -> str:
    text = ""
    for t in toks:
        text += t.text if not text or t.text in ".-’'" or text.endswith(("-", "’", "'")) else " " + t.text
    return text


def _left_phrase(toks: list[_Tok], end: int) -> tuple[list[_Tok], int] | None:
    """The noun phrase that ends at ``end`` (inclusive), walking left; with the index it starts at."""
    if toks[end].lower in PRONOUNS:  # "..., he continued." (resolved across sentences)
        before = toks[end - 1] if end > 0 else None
        if before is None or not before.word or before.lower in _BOUNDARY_WORDS:
            return [toks[end]], end
        return None
    k = end
    loose = 0  # unknown lowercase words walked over ("top black lawmakers", "labor-policy experts")
    head_is_role = toks[end].word and (_head(toks[end]) in ROLE_NOUNS or _capital(toks[end]))
    while k >= 0 and k > end - 14:
        t = toks[k]
        if t.text == ")":  # "Rep. Elijah E. Cummings (D-Md.) said": skip the parenthesis
            opening = next((j for j in range(k - 1, max(-1, k - 8), -1) if toks[j].text == "("), None)
            if opening is None:
                return None
            k = opening - 1
            continue
        if not t.word:
            if t.text == "." and k > 0 and toks[k - 1].word:  # "E." split off a name
                k -= 1
                continue
            break
        if t.lower in _DETERMINERS or t.lower in _QUANTIFIERS and not _capital(t):
            k -= 1
            break
        if _capital(t) or t.lower in _CONNECTORS or _head(t) in ROLE_NOUNS or t.lower in _MODIFIERS \
                or _possessive(t):
            k -= 1
            continue
        if head_is_role and loose < 2 and _plain_word(t):
            loose += 1
            k -= 1
            continue
        if head_is_role and loose < 2 and _participle_opening(toks, k):  # "..., retired general Jo Holt said"
            k -= 1
        break
    start = k + 1
    phrase = [t for t in toks[start:end + 1] if t.word or t.text == "."]
    # Drop parentheses' contents and stray stops from the phrase
    depth, kept = 0, []
    for t in toks[start:end + 1]:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and t.word:
            kept.append(t)
    phrase = kept
    if not phrase:
        return None
    before = toks[start - 1] if start > 0 else None
    if start == 0:  # sentence-initial capital: "But X said", not "In a panel discussion X said"
        while phrase and phrase[0].lower in _BOUNDARY_WORDS:
            phrase, start = phrase[1:], start + 1
        if phrase and phrase[0].lower in _PREPOSITIONS:
            return None
    elif before is not None and not (not before.word or before.lower in _BOUNDARY_WORDS):
        if before.lower in _PP_LINKS and start > 1 and _modified_head(toks[start - 2]):
            # "officials from both parties say", "Mr. Morgan of the club said": the head before the modifier
            return _left_phrase(toks, start - 2)
        subject = _after_lead_phrase(toks, start, end)
        if subject is None:
            return None
        return [t for t in toks[subject:end + 1] if t.word], subject
    return phrase, start


def _after_lead_phrase(toks: list[_Tok], start: int, end: int) -> int | None:
    """Where a capitalised subject begins after an opening prepositional phrase with no comma
    ("In a radio interview Ruiz said ..."): the first capital after a lower-case word. None if there is none."""
    if toks[0].lower not in _PREPOSITIONS or start > 2:
        return None
    for j in range(max(start, 2), min(end + 1, 11)):
        if _capital(toks[j]) and _plain_word(toks[j - 1]):
            opening = toks[1:j]
            if all(t.word for t in toks[j:end + 1]) and all(t.word for t in opening) and not any(
                    t.lower in VERBS or t.lower in PRONOUNS or t.lower in _BOUNDARY_WORDS for t in opening):
                return j
            return None
    return None


_PP_LINKS = frozenset("of from at in for with".split())


def _modified_head(head: _Tok) -> bool:
    """True if ``head`` may be the head of a speaker phrase that a prepositional modifier follows."""
    return head.word and (_capital(head) or _head(head) in ROLE_NOUNS)


def _participle_opening(toks: list[_Tok], k: int) -> bool:
    """True if ``toks[k]`` is an adjective in -ed that opens a phrase ("retired", "elected", "unnamed")."""
    t = toks[k]
    return t.word and not _capital(t) and t.lower.endswith("ed") and t.lower not in VERBS and (
        k == 0 or not toks[k - 1].word or toks[k - 1].lower in _BOUNDARY_WORDS)


def _plain_word(t: _Tok) -> bool:
    """A lowercase word that may modify a noun: not a function word, verb, pronoun or participle."""
    return t.word and not _capital(t) and t.lower.isascii() and not (
        t.lower in _PREPOSITIONS or t.lower in _BOUNDARY_WORDS or t.lower in _NOT_AFTER_VERB or t.lower in VERBS
        or t.lower in PRONOUNS or t.lower in _BETWEEN or t.lower in _DETERMINERS or t.lower.endswith(("ing", "ed"))
        or t.lower in ("to", "not", "who", "whom", "whose", "what", "than", "or", "nor", "be", "it", "its"))


def _right_phrase(toks: list[_Tok], begin: int, lowercase_ok: bool) -> list[_Tok] | None:
    """The noun phrase that starts at ``begin``, walking right (``said the report``, ``according to X``)."""
    out: list[_Tok] = []
    k = begin
    if k < len(toks) and toks[k].lower in PRONOUNS:  # "..., said he."
        return [toks[k]]
    determined = False
    while k < len(toks) and len(out) < 12:
        t = toks[k]
        if t.text == "(":
            closing = next((j for j in range(k + 1, min(len(toks), k + 8)) if toks[j].text == ")"), None)
            if closing is None:
                break
            k = closing + 1
            continue
        if not t.word:
            if t.text == "." and out and out[-1].lower in _TITLES:
                k += 1
                continue
            break
        if not out and (t.lower in _DETERMINERS or t.lower in _QUANTIFIERS):
            determined = True
            out.append(t)
        elif _capital(t) or _possessive(t) or _head(t) in ROLE_NOUNS or t.lower in _MODIFIERS:
            out.append(t)
        elif t.lower in _CONNECTORS and out and k + 1 < len(toks) and _capital(toks[k + 1]):
            out.append(t)
        elif (lowercase_ok or determined) and t.lower not in _PREPOSITIONS and t.lower not in _BOUNDARY_WORDS \
                and t.lower not in _NOT_AFTER_VERB and t.lower not in VERBS and t.lower not in PRONOUNS \
                and not (t.lower.endswith(("ing", "ed")) and "-" not in t.lower) and len(out) < 5 \
                and (determined or len(out) < 2 and k + 1 < len(toks) and _head(toks[k + 1]) in ROLE_NOUNS):
            out.append(t)
        else:
            break
        k += 1
    # a trailing modifier is not a head: "according to the union's" / "said the senior"
    while out and not (_capital(out[-1]) or _head(out[-1]) in ROLE_NOUNS):
        out.pop()
    return out or None


def _skip_between(toks: list[_Tok], index: int) -> int:
    """Index of the last token before ``index`` that is not an auxiliary, adverb, time word or a verb
    that only carries the cue ("continues to insist", "went on to say")."""
    k = index - 1
    while k >= 0:
        if toks[k].text == "," and k > 1 and toks[k - 1].lower in _ASIDES and toks[k - 2].text == ",":
            k -= 3  # "Some Democrats, however, question ..."
        elif not toks[k].word:
            break
        elif toks[k].lower in _BETWEEN or toks[k].lower.endswith("ly") and not _capital(toks[k]):
            k -= 1
        elif toks[k].lower == "to" and k > 0 and toks[k - 1].lower in _CATENATIVES:
            k -= 2
        elif toks[k].lower == "to" and k > 1 and toks[k - 1].lower == "on" and toks[k - 2].lower in _CATENATIVES:
            k -= 3
        else:
            break
    return k


_ASIDES = frozenset("however though too meanwhile instead also moreover".split())
_CATENATIVES = frozenset("continue continues continued went goes go began begins seemed seems appeared appears "
                         "tried tries moved moves rushed rushes".split())


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: int  # 0: the sentence's own attribution (subject at its start, trailing, inverted); 1: according to; 2: embedded
    position: int
    speaker: str
    verb: str


def _speaker(phrase: list[_Tok]) -> tuple[str | None, bool]:
    """The speaker named by ``phrase`` (or a pronoun), and whether it was one."""
    if len(phrase) == 1 and phrase[0].lower in PRONOUNS:
        return phrase[0].lower, True
    stripped, determined = _strip_determiners(phrase)
    while len(stripped) > 1 and stripped[0].lower in _QUANTIFIERS | _GENERIC and _capital(stripped[0]):
        stripped = stripped[1:]  # "Some experts", "Many Mexicans": the sentence's first word
    while stripped and stripped[0].lower.endswith("-based"):  # "the Britain-based Syrian Observatory"
        stripped = stripped[1:]
    if _phrase_ok(stripped, determined):
        return _span_text(stripped), True
    return None, False


def _subject(toks: list[_Tok]) -> str | None:
    """The sentence's opening name phrase when a verb follows it ("Cruz exhorted ...", "In May, Cruz ...")."""
    comma = next((j for j in range(min(len(toks), 10)) if toks[j].text == ","), None)
    if comma is not None and _lead_adverbial(toks[:comma]):
        toks = toks[comma + 1:]
    if not toks or toks[0].lower in _PREPOSITIONS | _BOUNDARY_WORDS | _GENERIC \
            or toks[0].lower.endswith(("ed", "ing")):
        return None
    phrase = _right_phrase(toks, 0, lowercase_ok=False)
    after = len(phrase or [])
    if phrase and after < len(toks) and toks[after].text == ",":  # "Dean, a former chairman, poked at ..."
        closing = next((j for j in range(after + 1, min(len(toks), after + 12)) if not toks[j].word), None)
        if closing is not None and toks[closing].text == ",":
            after = closing + 1
    if not phrase or after >= len(toks) or not toks[after].word or _capital(toks[after]):
        return None
    speaker, _ = _speaker(phrase)
    return speaker if speaker not in PRONOUNS else None


def _inside_quotes(toks: list[_Tok], depth: int = 0) -> list[bool]:
    """For each token, whether it stands inside a quotation (``depth`` 1: one opened before the sentence)."""
    inside = []
    for index, t in enumerate(toks):
        if t.text == "“":
            depth += 1
        elif t.text == "”" or t.text in "’'" and index and toks[index - 1].text in ",.!?":
            depth = max(0, depth - 1)  # a stray ’ after a comma closes too: “It is over,’ said ...
        elif t.text == '"':  # straight quotes: closing after a mark (“... 'no,'" said), else toggling
            depth = max(0, depth - 1) if index and toks[index - 1].text in ",.!?’'" else (0 if depth else 1)
        inside.append(depth > 0 and t.word)
    return inside


_TIME_WORDS = frozenset("monday tuesday wednesday thursday friday saturday sunday today yesterday tonight "
                        "january february march april may june july august september october november "
                        "december jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Capitalised words that begin sentences and headings but name no one.
_GENERIC = frozenset("no everybody everyone nobody someone anyone people many some few most all both each "
                     "this that these those editor editor's editor’s correction clarification latest update "
                     "updated note watch read related photo video advertisement so yes well once still even just only".split())


def _candidates(toks: list[_Tok], in_quote: bool = False) -> list[_Candidate]:
    found: list[_Candidate] = []
    quoted = _inside_quotes(toks, 1 if in_quote else 0)
    # Transcripts and interviews: "WALLACE: If I may, ..." / "Sen. Jane Doe: ..."
    colon = next((i for i, t in enumerate(toks[:6]) if t.text == ":"), None)
    lead = [t for t in toks[:colon or 0] if t.text not in _OPEN]
    if colon and lead and all(t.word and t.text.isupper() and len(t.text) > 1 for t in lead):
        speaker, ok = _speaker([t for t in toks[:colon] if t.word])
        if ok and speaker and speaker not in PRONOUNS:
            found.append(_Candidate(0, 0, speaker, ":"))
    if toks and toks[0].word and toks[0].lower in _SAY and _capital(toks[0]):  # "Said Ellis: “...”"
        phrase = _right_phrase(toks, 1, lowercase_ok=False)
        speaker, _ = _speaker(phrase) if phrase else (None, False)
        if speaker and speaker not in PRONOUNS:
            found.append(_Candidate(0, 0, speaker, toks[0].lower))
    dash = next((i for i in range(len(toks) - 1, max(0, len(toks) - 10), -1) if toks[i].text in "―—–"), None)
    if dash is not None and dash > 0 and toks[dash - 1].text in _CLOSE | {".", "!", "?"}:  # "“...” ― Jane Doe"
        phrase = _right_phrase(toks, dash + 1, lowercase_ok=False)
        end = dash + 1 + len(phrase or [])
        speaker, _ = _speaker(phrase) if phrase and all(not t.word for t in toks[end:]) else (None, False)
        if speaker and speaker not in PRONOUNS:
            found.append(_Candidate(0, dash, speaker, "―"))
    for i, t in enumerate(toks):
        if not t.word:
            continue
        if t.lower == "according" and i + 1 < len(toks) and toks[i + 1].lower == "to":
            phrase = _right_phrase(toks, i + 2, lowercase_ok=True)
            speaker, ok = _speaker(phrase) if phrase else (None, False)
            by = next((j for j in range(i + 3, min(len(toks), i + 7)) if toks[j].lower in ("by", "from", "of")), None)
            if not speaker and by is not None:  # "according to an analysis by Jane Doe"
                phrase = _right_phrase(toks, by + 1, lowercase_ok=True)
                speaker, ok = _speaker(phrase) if phrase else (None, False)
            if speaker and not quoted[i]:
                found.append(_Candidate(2, i, speaker, "according to"))
            continue
        stance = t.lower in _STANCE_ADJECTIVES and _after_be(toks, i) \
            and i + 1 < len(toks) and toks[i + 1].lower in ("that", "of", "about")
        if not stance and (t.lower not in VERBS or t.text != t.lower):
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt.lower in _NOT_AFTER_VERB and not (nxt.lower == "of" and (t.lower in _SAY or stance)):
            continue
        previous = toks[i - 1] if i > 0 else None
        if previous is not None and previous.text in _AFTER_CLAUSE and t.lower in _SAY:
            phrase = _right_phrase(toks, i + 1, lowercase_ok=False)
            after = i + 1 + len(phrase or [])
            closes = after >= len(toks) or not toks[after].word or toks[after].lower in _PREPOSITIONS \
                or toks[after].lower in ("who", "adding", "noting", "referring", "citing")
            speaker, ok = _speaker(phrase) if phrase and closes else (None, False)
            if speaker and not quoted[i]:
                found.append(_Candidate(0, i, speaker, t.lower))
                continue
        end = _skip_between(toks, i)
        if end < 0:
            continue
        if not t.lower.endswith(("ing", "s")) and t.lower not in _STANCE_ADJECTIVES \
                and any(x.lower in ("is", "are", "was", "were", "be", "been") for x in toks[end + 1:i]):
            continue  # passive: "is not thought to be", "was reported killed"
        candidates = []
        if toks[end].text == ",":  # an apposition or two: "X, the ministry's spokesman, said"
            commas = [end]
            for j in range(end - 1, max(-1, end - 40), -1):
                if toks[j].text in "“”\";:":
                    break
                if toks[j].text == ",":
                    commas.append(j)
                    if len(commas) == 3:
                        break
            for comma in commas[1:]:
                left = _left_phrase(toks, comma - 1)
                if left:
                    candidates.append(left)
            inner = _left_phrase(toks, end - 1) if len(commas) > 1 and end > 0 else None
            if inner and inner[1] == commas[1] + 1 and _capital(inner[0][0]):
                candidates.append(inner)  # "one of the family's lawyers, Ann Holt, said": the name between
        else:
            left = _left_phrase(toks, end)
            if left:
                candidates.append(left)
        named = False
        for phrase, start in candidates:
            speaker, ok = _speaker(phrase)
            if not speaker:
                continue
            named = True
            before = toks[start - 1] if start > 0 else None
            top = start == 0 or before is not None and (not before.word or before.lower in _BOUNDARY_WORDS
                                                         and before.lower not in ("that", "which"))
            opens = start == 0 or before is not None and before.text in _OPEN or (
                before is not None and before.text == "," and _lead_adverbial(toks[:start - 1]))
            trailing = before is not None and before.text in _AFTER_CLAUSE and not opens
            if trailing and _ends_soon(toks, i):
                rank = 0
            elif opens or trailing:
                rank = 1
            else:
                rank = 2 if top else 3
            if not quoted[start]:  # "“People say it ...”": someone the speaker quotes
                found.append(_Candidate(rank, start, speaker, t.lower))
            break
        coordinated = previous is not None and (previous.lower in ("and", "but") or previous.text == ","
                                                 and t.lower.endswith("ing")
                                                 or t.lower.endswith("ing") and previous.lower in _MESSAGES)
        if not named and coordinated and not quoted[i]:
            subject = _subject(toks)  # "Cruz exhorted Republicans ... and said he was ..."
            if subject:
                found.append(_Candidate(2, 0, subject, t.lower))
        elif not named and not quoted[i]:
            subject = _clause_subject(toks, end)  # "A study by two economists released in May found ..."
            if subject:
                found.append(_Candidate(3, 0, subject, t.lower))
    return found


MAX_SUBJECT_TOKENS = 24


def _clause_subject(toks: list[_Tok], end: int) -> str | None:
    """The head of the sentence's opening noun phrase when it is the subject of the cue after ``end``.

    For subjects with a modifier after their head ("Officials at the agency, which ...,
    said", "A 2014 study that appeared in a journal found"), which the walk left from the cue
    cannot cross. The words between the subject and the cue may hold no other reporting word,
    quotation or clause break (":", ";", a dash), and the opening phrase must name a source.
    """
    begin = 0
    comma = next((j for j in range(min(len(toks), 10)) if toks[j].text == ","), None)
    if comma is not None and _lead_adverbial(toks[:comma]):  # "In 2013, research by ... found"
        begin = comma + 1
    if not 0 <= begin <= end or end - begin > MAX_SUBJECT_TOKENS:
        return None
    span = toks[begin:end + 1]
    if any(not t.word and t.text not in ",.-()'’&" for t in span) or sum(t.text == "," for t in span) > 2 \
            or any(t.lower in VERBS and t.text == t.lower or t.lower in PRONOUNS for t in span):
        return None
    opener = span[0]
    if opener.lower in _NOT_OPENERS or opener.lower in _GENERIC or opener.lower in _BOUNDARY_WORDS:
        return None
    phrase = _right_phrase(toks, begin, lowercase_ok=False)
    after = begin + len(phrase or [])
    if not phrase or len(phrase) > 6 or after > end:
        return None
    head, nxt = phrase[-1], toks[after]
    # the phrase must end in a modifier's start: "Officials at", "A study that", "A report released"
    if not (nxt.lower in _POSTMODIFIER_STARTS or nxt.text in ",(" or
            nxt.lower.endswith("ed") and not _capital(head) and nxt.word):
        return None
    speaker, _ = _speaker(phrase)
    return speaker if speaker and speaker not in PRONOUNS else None


_POSTMODIFIER_STARTS = frozenset("at of for in on from with by to who that which whose".split())
# Words that open a sentence without opening its subject.
_NOT_OPENERS = frozenset("not to contrary more much less why whether how what when if should would could can "
                         "will may might must do does did is are was were has have had unlike like despite "
                         "rather twenty thirty forty fifty hundreds thousands dozens".split())


def _after_be(toks: list[_Tok], index: int) -> bool:
    """True if a form of "be" stands before ``index``, adverbs aside ("were also incensed", "is deeply worried")."""
    k = index - 1
    while k > 0 and toks[k].word and (toks[k].lower in ("also", "still", "now", "very", "so", "not", "increasingly")
                                      or toks[k].lower.endswith("ly")):
        k -= 1
    return k >= 0 and toks[k].lower in ("is", "are", "was", "were", "remain", "remains", "remained")


def _ends_soon(toks: list[_Tok], verb: int) -> bool:
    """True if the sentence ends a few words after a trailing cue ("..., the source added." / "... said on Friday.")."""
    rest = toks[verb + 1:]
    stop = next((i for i, t in enumerate(rest) if t.text in ".;!?"), len(rest))
    return stop <= 8


def _lead_adverbial(toks: list[_Tok]) -> bool:
    """True if ``toks`` is a short opening adverbial ("On Friday", "In a statement", "Meanwhile", "Still")."""
    if len(toks) == 1 and toks[0].word and (toks[0].lower in _SENTENCE_ADVERBS or toks[0].lower.endswith("ly")):
        return True
    return 0 < len(toks) <= 8 and toks[0].lower in _PREPOSITIONS | _BOUNDARY_WORDS | {"last", "earlier", "later"}


_SENTENCE_ADVERBS = frozenset("still overall however instead meanwhile separately indeed yet now today "
                              "later earlier also moreover nonetheless nevertheless besides".split())
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

    Returns None when what is left cannot name a source (a clause, a fragment, a
    function word, more than ten words).
    """
    phrase = phrase.strip(" ,.;:–—-\"“”’'").split(",")[0]
    phrase = re.sub(r"^(?:the |a |an )?(?:[\w.-]+-based )+", "", phrase.strip(), flags=re.IGNORECASE)
    toks = [t for t in _tokens(phrase) if t.word or t.text == "."]
    if not toks or len(toks) > 12:
        return None
    speaker, _ = _speaker([t for t in toks if t.word])
    return speaker


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


def attribute_sentence(text: str, in_quote: bool = False) -> Attribution:
    """Attribution found inside one sentence; ``in_quote``: it continues a quotation opened before it."""
    text = text.replace("''", '"').replace("``", '"')  # typewriter quotes of some wire styles
    result = Attribution(quote=_direct_quote(text), numbers=find_numbers(text))
    candidates = _candidates(_tokens(text), in_quote)
    if candidates:
        best = min(candidates, key=lambda c: (c.rank, c.position))
        result.speaker, result.verb = best.speaker, best.verb
    return result


_ORG_WORDS = frozenset("""
ministry department agency house party committee council office campaign times post news network court bank
inc corp university institute center centre association union observatory staff government administration army
police pentagon kremlin commission board foundation fund group company corporation organization organisation
service services forces command senate congress parliament assembly state states republic federation journal
authority authorities bureau club team school hospital airlines airline reserve exchange press radio tv
television channel media institution guard navy
""".split())


def is_person(speaker: str) -> bool:
    """A person's name rather than an organisation, a role or a group (best effort, for pronouns)."""
    words = speaker.replace(".", ". ").split()
    lowered = {w.lower().strip(".,’'") for w in words}
    if lowered & _ORG_WORDS or any(w.lower() in ROLE_NOUNS and w.islower() for w in words):
        return False
    return all(w[:1].isupper() for w in words)


def _gender(speaker: str) -> str | None:
    first = speaker.split()[0].lower().rstrip(".") if speaker else ""
    return {"mr": "he", "mrs": "she", "ms": "she", "miss": "she", "sir": "he", "lady": "she",
            "dame": "she", "lord": "he", "king": "he", "queen": "she"}.get(first)


def _resolve(pronoun: str, recent: list[tuple[int, str]], paragraph: int) -> str | None:
    """The named speaker a pronoun refers to: the last one of this paragraph (or the one before) that fits,
    when all that fit are the same speaker."""
    fits = []
    for where, name in reversed(recent):
        if where < paragraph - 1:
            break
        person = is_person(name)
        if pronoun in ("he", "she", "i") and (not person or _gender(name) not in (None, pronoun)):
            continue
        if pronoun in ("they", "we", "it") and person:
            continue
        fits.append((where, name))
    if not fits:
        return None
    same = {name for _, name in fits} == {fits[0][1]} or _same_person({n for _, n in fits})
    if same or all(where == fits[0][0] for where, _ in fits[:1]) and fits[0][0] == paragraph \
            and all(where < paragraph for where, _ in fits[1:]):
        return fits[0][1]
    return None


def _same_person(names: set[str]) -> bool:
    """True if the names are one person's spellings ("Gen. Igor Konashenkov", "Konashenkov")."""
    surnames = {n.split()[-1].lower() for n in names if n}
    return len(surnames) == 1


def attribute(sentences: list[Sentence]) -> list[Attribution]:
    """Attributions for all sentences of a text, carrying speakers across sentences.

    - A quotation that runs over several sentences of a paragraph gives them all the
      speaker named in any of them ("“... success. It was planned ...,” Rudskoy said.").
    - A sentence in quote marks with no speaker takes the one of the quoted sentence before
      it (in its paragraph or ending the one before: the next paragraph of the same quote),
      else of the sentence after it in its paragraph.
    - A pronoun speaker takes the last named speaker of its paragraph (or the one before)
      that fits the pronoun (a person for "he"/"she"; a title's gender when there is one),
      and only when that choice is unambiguous; otherwise it is dropped ("he" alone helps
      no one searching).
    """
    results = [attribute_sentence(s.text, s.in_quote) for s in sentences]
    _carry_quotations(sentences, results)
    recent: list[tuple[int, str]] = []
    for sentence, result in zip(sentences, results):
        if result.speaker in PRONOUNS:  # "I" and "we" are the writer or someone quoted: not resolved
            result.speaker = _resolve(result.speaker, recent, sentence.paragraph) \
                if result.speaker in ("he", "she", "they", "it") else None
            if result.speaker is None:
                result.verb = None
        if result.speaker:
            recent.append((sentence.paragraph, result.speaker))
            del recent[:-12]
    return results


def _quoted(text: str) -> bool:
    return text[:1] in _OPEN or text[:1] in "'‘`"


def _carry_quotations(sentences: list[Sentence], results: list[Attribution]) -> None:
    _signed_paragraphs(sentences, results)
    runs = _quotation_runs(sentences)
    _share_within_runs(runs, results)
    _quoted_from_neighbours(sentences, results)
    _share_within_runs(runs, results)  # a run whose opening sentence took a neighbour's speaker


def _signed_paragraphs(sentences: list[Sentence], results: list[Attribution]) -> None:
    """A paragraph that opens with a quote mark and ends with a signature ("... .” ― Jane Doe") is
    that person's words throughout, however many sentences the quotation runs over."""
    last: dict[int, int] = {}
    first: dict[int, int] = {}
    for index, sentence in enumerate(sentences):
        first.setdefault(sentence.paragraph, index)
        last[sentence.paragraph] = index
    for paragraph, end in last.items():
        signed = results[end]
        begin = first[paragraph]
        if signed.verb != "―" or not signed.speaker or sentences[begin].text[:1] not in "“”\"":
            continue
        for i in range(begin, end):
            if results[i].speaker is None:
                results[i].speaker, results[i].verb, results[i].quote = signed.speaker, signed.verb, True


def _quotation_runs(sentences: list[Sentence]) -> list[list[int]]:
    """Runs of sentences that belong to one quotation: an opening sentence and those in_quote after it."""
    runs: list[list[int]] = []
    for index, sentence in enumerate(sentences):
        if sentence.in_quote and runs and sentences[runs[-1][-1]].paragraph == sentence.paragraph \
                and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _share_within_runs(runs: list[list[int]], results: list[Attribution]) -> None:
    for run in runs:
        named = [results[i] for i in run if results[i].speaker]
        if len(run) > 1 and named:
            for i in run:
                if results[i].speaker is None:
                    results[i].speaker, results[i].verb, results[i].quote = named[0].speaker, named[0].verb, True


def _quoted_from_neighbours(sentences: list[Sentence], results: list[Attribution]) -> None:
    for index, (sentence, result) in enumerate(zip(sentences, results)):
        if result.speaker is not None or not _quoted(sentence.text):
            continue
        before = results[index - 1] if index > 0 else None
        after = results[index + 1] if index + 1 < len(results) else None
        same_before = index > 0 and (sentences[index - 1].paragraph >= sentence.paragraph - 1)
        same_after = after is not None and sentences[index + 1].paragraph == sentence.paragraph
        if same_before and before is not None and before.speaker and (before.quote or
                                                                      sentences[index - 1].text.endswith(":")):
            result.speaker, result.verb, result.quote = before.speaker, before.verb, True
        elif same_after and after.speaker:
            result.speaker, result.verb, result.quote = after.speaker, after.verb, True

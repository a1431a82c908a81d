"""One name per speaker in an article, and a key to count speakers by.

An article names a person in several spellings: "Maj. Gen. Igor Konashenkov" first, then
"Gen. Konashenkov", then "Konashenkov". ``unify`` maps every spelling of one article to the
fullest one (kept as the claim's ``speaker``) and to one ``speaker_key``: the fullest
name without titles, lower case, accents folded ("igor konashenkov"), so "Claims by
speaker" counts people, not spellings.

A short spelling joins a longer one when its words (titles stripped) end that name:
"Konashenkov" joins "Igor Konashenkov". When it could join two different names ("Clinton"
next to "Hillary Clinton" and "Bill Clinton") it joins neither.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .attribution import is_person

# Titles, ranks and labels that stand before a name and are not part of it.
TITLES = frozenset("""
mr mrs ms miss mx dr prof rev sen sens rep reps gov gen lt maj col capt cpt sgt cpl pvt adm cmdr brig lieut amb
pres sec hon president senator representative governor general secretary minister chancellor judge justice
mayor professor lieutenant colonel major captain sergeant admiral commander brigadier ambassador congressman
congresswoman sir lord lady dame sheikh rabbi imam former then acting deputy vice prime chief state foreign
defense defence democratic republican gop labour conservative premier speaker attorney ceo cfo coo cto chairman
chairwoman spokesman spokeswoman spokesperson analyst director founder president-elect
""".split())
_DETERMINERS = frozenset("the a an".split())
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def bare_words(speaker: str) -> list[str]:
    """The words of a speaker name without titles or leading articles, lower case and folded.

    Titles are stripped only from people's names ("Gen. Konashenkov" -> ["konashenkov"]),
    never from an organisation's ("State Department" stays whole); the last word always stays.
    """
    words = [w.lower().rstrip(".") for w in _WORD.findall(_fold(speaker))]
    while len(words) > 1 and words[0] in _DETERMINERS:
        words = words[1:]
    if is_person(speaker):  # "U.S. Defense Secretary Mark Esper" -> mark esper
        while len(words) > 1 and (words[0] in TITLES or "." in words[0]):
            words = words[1:]
    return words


def speaker_key(speaker: str | None) -> str | None:
    """The normalised key of one spelling on its own (no article context)."""
    if not speaker:
        return None
    words = bare_words(speaker)
    return " ".join(words) or None


def unify(speakers: Iterable[str | None]) -> dict[str, tuple[str, str]]:
    """For every spelling in one article: (fullest spelling of that speaker, speaker key)."""
    names = sorted({s for s in speakers if s}, key=lambda s: (-len(bare_words(s)), -len(s), s))
    groups: list[tuple[str, list[str]]] = []  # (representative, its bare words), fullest first
    out: dict[str, tuple[str, str]] = {}
    for name in names:
        words = bare_words(name)
        if not words:
            continue
        matches = {rep for rep, rep_words in groups
                   if rep_words == words or (is_person(name) and is_person(rep) and len(words) < len(rep_words)
                                             and rep_words[-len(words):] == words)}
        if len(matches) == 1:
            rep = matches.pop()
            out[name] = out[rep]
            continue
        if matches:  # "Clinton" beside "Hillary Clinton" and "Bill Clinton": its own key
            out[name] = (name, " ".join(words))
            continue
        groups.append((name, words))
        out[name] = (name, " ".join(words))
    return out

"""Sentence splitting and attribution on news text (no model needed)."""

from __future__ import annotations

import pysbd

from newswire.claims.attribution import attribute, attribute_sentence, clean_speaker, find_numbers
from newswire.claims.prefilter import passes_rules
from newswire.claims.sentences import _pysbd_spans, split_sentences


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_ranks_and_titles_do_not_end_sentences():
    text = "Lt. Gen. Valery Asapov died on Sept. 23 near Deir ez-Zor. Maj. Gen. Igor Konashenkov confirmed it."
    assert texts(text) == [
        "Lt. Gen. Valery Asapov died on Sept. 23 near Deir ez-Zor.",
        "Maj. Gen. Igor Konashenkov confirmed it.",
    ]


def test_dotted_acronyms_inside_and_at_the_end_of_sentences():
    assert texts("The U.S. Army said so on Friday. Officials disagreed.") == [
        "The U.S. Army said so on Friday.",
        "Officials disagreed.",
    ]
    assert texts("Troops arrived from the U.S. The deployment was secret.") == [
        "Troops arrived from the U.S.",
        "The deployment was secret.",
    ]
    assert texts("They left because the US.-backed army stalled. Then it rained.") == [
        "They left because the US.-backed army stalled.",
        "Then it rained.",
    ]


def test_quote_spanning_sentences_stays_with_its_speaker():
    text = ("“The operation has been a remarkable success. It has been planned by Russian advisers,” "
            "Sergey Rudskoy said on Friday. Tanks were lost.")
    parts = texts(text)
    assert parts[0].startswith("“The operation") and parts[0].endswith("said on Friday.")
    assert parts[1] == "Tanks were lost."


def test_unclosed_quote_marks_following_sentences_as_in_quote():
    sentences = split_sentences("He said: “We will go there. We will win. Nobody stops us.")
    assert [s.in_quote for s in sentences] == [False, True, True]


def test_paragraphs_split_first_and_offsets_point_into_the_text():
    text = "Breaking News\n\nThe army said 300 fighters remain. Talks continue."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == ["Breaking News", "The army said 300 fighters remain.", "Talks continue."]
    assert [s.paragraph for s in sentences] == [0, 1, 1]
    for s in sentences:
        assert text[s.start : s.end] == s.text


def test_trailing_leading_inverted_and_according_to_attribution():
    cases = {
        "Less than 300 militants remain, according to the Britain-based Syrian Observatory for Human Rights "
        "that monitors the war.": ("Syrian Observatory for Human Rights", "according to"),
        "Two villages were captured, Konashenkov said.": ("Konashenkov", "said"),
        "Maj. Gen. Igor Konashenkov, the ministry’s spokesman, said in a statement that troops were deployed.":
            ("Maj. Gen. Igor Konashenkov", "said"),
        "The offensive was planned by Russian military advisers, Russia’s General Staff said.":
            ("Russia’s General Staff", "said"),
        "Only a military entity could have found it, said the report, and only the US has one.": ("report", "said"),
        "The Russian defense ministry, however, claimed Thursday that the operation had stopped.":
            ("Russian defense ministry", "claimed"),
    }
    for text, (speaker, verb) in cases.items():
        found = attribute_sentence(text)
        assert (found.speaker, found.verb) == (speaker, verb), text


def test_no_speaker_invented_for_plain_statements():
    for text in ("Call the Russians when you need to get something done.",
                 "The Russian comedown was especially mortifying.",
                 "It cannot be said definitely that the photo was taken inside the base."):
        assert attribute_sentence(text).speaker is None, text


def test_pronoun_speaker_takes_the_last_named_speaker():
    sentences = split_sentences(
        "Islamic State lost 19 tanks, General Rudskoy added.\n"
        "The Air Force played a vital role, he continued.\n"
    )
    assert [a.speaker for a in attribute(sentences)] == ["General Rudskoy", "General Rudskoy"]
    lone = split_sentences("The Air Force played a vital role, he continued.")
    assert attribute(lone)[0].speaker is None


def test_quoted_continuation_inherits_the_speaker():
    sentences = split_sentences("“It is over,’ said this Russian comment. “First, they lost the war. They know it.")
    assert [a.speaker for a in attribute(sentences)] == ["Russian comment"] * 3
    assert all(a.quote for a in attribute(sentences))


def test_next_quoted_sentence_keeps_the_speaker():
    sentences = split_sentences("“We will retaliate,” Konashenkov said. “The coalition must stop shelling our positions.”\n"
                                "“We have warned them twice.”\nThe weather was cold.")
    found = attribute(sentences)
    assert [a.speaker for a in found] == ["Konashenkov", "Konashenkov", "Konashenkov", None]
    assert [a.quote for a in found] == [True, True, True, False]


def test_direct_quote_flag():
    assert attribute_sentence("“We will retaliate if attacked,” the minister said.").quote
    assert not attribute_sentence("The government owes Spetsnaz for its “success” in Aleppo.").quote


def test_numbers_quantities_and_dates():
    numbers = find_numbers("Over 1,000 militants and 19 tanks were lost on Sept. 23, 2017, about 16 square "
                           "kilometers, 99 percent of it, on Friday; the S-300 system stayed.")
    assert "Over 1,000 militants" in numbers
    assert "19 tanks" in numbers
    assert "Sept. 23, 2017" in numbers
    assert "about 16 square kilometers" in numbers
    assert "99 percent" in numbers
    assert "Friday" in numbers
    assert not any("300" in n for n in numbers)  # part of a name, not a quantity


def test_clean_speaker_cuts_appositions_and_rejects_clauses():
    assert clean_speaker("Sergey Rudskoy, chief of the operations department,") == "Sergey Rudskoy"
    assert clean_speaker("the Britain-based Syrian Observatory for Human Rights") == "Syrian Observatory for Human Rights"
    assert clean_speaker("If they really did number 80-120 men as reports") is None


def test_prefilter_rules_drop_only_non_sentences():
    assert not passes_rules("Breaking News")
    assert not passes_rules("The details:")
    assert not passes_rules("[Become a Member of Global Research](#)")
    assert not passes_rules("RUSSIA SAYS 1,000 KILLED IN PALMYRA")
    assert passes_rules("Russia says 1,000 militants were killed.")


def test_sentence_offsets_are_the_ones_pysbd_gives():
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    for line in ("Prices rose 5% in May. Analysts said so.  The Fed met on Tuesday! Will it act? ",
                 "It rose. " * 300, "Dr. Roe said it. Mr. Doe, of the U.S. Senate, disagreed. It rose. It rose."):
        assert _pysbd_spans(segmenter, line) == [(span.start, span.end) for span in segmenter.segment(line)]


def test_long_paragraphs_and_runs_of_stops_are_split_in_linear_time():
    text = "a" + "!" * 50_000 + "a. Then it rose.\n" + "Prices rose again on Monday. " * 600  # 17 kB of prose
    sentences = split_sentences(text)
    assert sentences[-1].text == "Prices rose again on Monday."
    assert sum(s.text == "Prices rose again on Monday." for s in sentences) == 600  # windows cut after a stop
    assert all(text[s.start:s.end] == s.text for s in sentences)

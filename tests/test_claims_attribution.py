"""Attribution forms news uses, speaker keys, and which lines are claim candidates.

The sentences are written for these tests (no corpus text): each shape once, plus the
fragments and function words that must never come out as speakers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newswire.claims.attribution import attribute, attribute_sentence
from newswire.claims.sentences import non_prose, prose_mask, split_sentences
from newswire.claims.speakers import speaker_key, unify

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("text, speaker, verb", [
    ("The bridge will reopen in May, Jane Okafor said.", "Jane Okafor", "said"),
    ("The bridge will reopen in May, said Jane Okafor, the city's transport chief.", "Jane Okafor", "said"),
    ("Transport chief Jane Okafor said on Tuesday that the bridge would reopen in May.",
     "Transport chief Jane Okafor", "said"),
    ("The bridge will reopen in May, according to the Harbor Authority.", "Harbor Authority", "according to"),
    ("Jane Okafor told reporters the bridge would reopen in May.", "Jane Okafor", "told"),
    ("Jane Okafor wrote in a memo that the bridge would reopen in May.", "Jane Okafor", "wrote"),
    ("Prices will rise again next year, the central bank warned.", "central bank", "warned"),
    ("Tomas Berg, the harbor's chief engineer, told the council that two cranes had failed.",
     "Tomas Berg", "told"),
    ("“We lost 40 containers,” Tomas Berg, the harbor's chief engineer, added on Friday.", "Tomas Berg", "added"),
    ("Three ships were damaged, a port official said.", "port official", "said"),
    ("The Pentagon said 200 troops would be sent.", "Pentagon", "said"),
    ("Senior administration officials claimed that the deal was signed.", "Senior administration officials",
     "claimed"),
    ("“We will not pay,” Rep. Ana Ruiz (D-Calif.) said in a phone interview.", "Rep. Ana Ruiz", "said"),
    ("RUIZ: We will not pay for a wall.", "RUIZ", ":"),
    ("“We will not pay for a wall.” ― Ana Ruiz", "Ana Ruiz", "―"),
])
def test_attribution_forms(text, speaker, verb):
    found = attribute_sentence(text)
    assert (found.speaker, found.verb) == (speaker, verb)


@pytest.mark.parametrize("text, speaker", [
    ("Oil fell after sources said the cartel would cut output.", "sources"),  # never "Oil fell after sources"
    ("Shares rose 4% on Tuesday, analyst Mira Fadem wrote in a research note.", "analyst Mira Fadem"),
    ("According to the statement, 12 people were hurt.", None),  # never "According to" or "statement"
    ("In a statement on Monday the company reported a loss.", None),  # an adverbial, not a speaker
    ("“People say it cannot be done,” the mayor said.", "mayor"),  # not "People", quoted inside
    ("The United States imposed new tariffs on steel.", None),
    ("Editor’s note: An earlier version misstated the date.", None),
])
def test_speaker_is_never_a_fragment_or_a_function_word(text, speaker):
    assert attribute_sentence(text).speaker == speaker


@pytest.mark.parametrize("text, speaker", [
    # name particles and lower-case descriptors before a name
    ("De Marco said that the bridge would not open before the spring festival.", "De Marco"),
    ("Retired Navy admiral Jane Holt said the fleet was too small for its tasks.", "Retired Navy admiral Jane Holt"),
    ("The nonpartisan Budget Office says the plan would add billions to the deficit.",
     "nonpartisan Budget Office"),
    # a quotation that quotes someone else inside it
    ("\"People tell me, 'It will never work,'\" said Dana Cole, a local organizer.", "Dana Cole"),
    # beliefs and stances, not only reporting verbs
    ("Many voters are afraid that the new tolls will double the cost of commuting.", "voters"),
    ("Ruiz attacked her rival for his support of the new highway through the valley.", "Ruiz"),
    ("The harbor union released a statement saying the new shifts were unsafe.", "harbor union"),
    ("The Republican nominee continues to insist that he will release his records.", "Republican nominee"),
    ("Holt went on to say that the cuts had hurt the schools in his district.", "Holt"),
    ("The state attorney general isn't saying whether the charity broke any laws.", "state attorney general"),
    ("While results are hard to track, some environmental groups acknowledge that the work had an impact.",
     "some environmental groups"),
    ("Still, the fund warned that the exit will raise many questions in the coming years.", "fund"),
    # the opening subject when a modifier stands between its head and the cue
    ("A county report released last year found that rents rose by 12 percent.", "county report"),
    ("A 2019 study that appeared in a medical journal found that the pills did not work.", "2019 study"),
    ("Officials at the Water Board, a state agency, said they were worried about the drought.", "Officials"),
    # a prepositional modifier after the head, a participle opening the phrase, a hyphenated modifier
    ("Although the mayor lacks a signature achievement, elected officials from both parties say he works hard.",
     "elected officials"),
    ("\"It was the least bad outcome,\" Mr. Morgan of the river council said.", "Mr. Morgan"),
    ("Ruiz \"is the only one with the experience to keep us safe,\" retired Air Force general Lloyd Newton said.",
     "retired Air Force general Lloyd Newton"),
    ("According to exit polls, the mayor had a ten-point lead among older voters.", "exit polls"),
    ("The top earners would gain most, according to the conservative-leaning Tax Institute.",
     "conservative-leaning Tax Institute"),
    # an aside between subject and cue, "has long said", expressed concern, "says of"
    ("Some Democrats, however, question the wisdom of backing the mayor for another term.", "Democrats"),
    ("Ruiz has long said that she qualifies for the seat because she was born in the county.", "Ruiz"),
    ("Republicans have expressed concern that the new rules could lead to fraud at the polls.", "Republicans"),
    ("The New York businessman says of his rival, \"She will sell the office to the highest bidder.\"",
     "New York businessman"),
    ("In a radio interview Ruiz declared that the old treaty was obsolete.", "Ruiz"),
    ("In August, several harbor unions granted the firm a delay, saying its capital was short.",
     "several harbor unions"),  # the subject after an opening adverbial, never "... granted the firm"
    ("Prime Minister Theresa May said this week that the country would leave by March.",
     "Prime Minister Theresa May"),  # a name that is also a month
    ("Ana Ruiz, her Republican opponent, bemoaned the unrest and said drugs were a factor.", "Ana Ruiz"),
    ("This is \"roughly the same lead she has held all month,\" reported the Harbor Times.", "Harbor Times"),
    ("Republicans were also incensed that the deals did not require witnesses to cooperate.", "Republicans"),
    ("\"We were not consulted,\" the court ruling said of the county's plans.", "court ruling"),
])
def test_subjects_of_beliefs_and_long_subjects(text, speaker):
    assert attribute_sentence(text).speaker == speaker


@pytest.mark.parametrize("text", [
    "Mr. Holt scrutinized reports like the national assessment, which tied floods to the climate.",
    "Rather than argue about taxes, the candidates spent the evening on trade.",
    "Twenty-nine people at the scene reported that the blast shook the windows.",
    "Much of the money for the deal came from two banks, which together pledged a billion dollars.",
    "Not everyone in the town agreed that the new mall was worth the traffic.",
    "Oil prices jumped analysts said on Monday.",
])
def test_no_speaker_from_an_opening_that_is_not_a_source(text):
    """The opening-subject rule never takes a quantity, an adverb or a negation for a source."""
    assert attribute_sentence(text).speaker is None


def test_quotation_over_sentences_takes_the_speaker_named_in_it():
    sentences = split_sentences("“The dam held. It was built to hold,” Jane Okafor said.\n“We were lucky.”\n")
    assert [a.speaker for a in attribute(sentences)] == ["Jane Okafor"] * len(sentences)
    assert len(sentences) >= 2


def test_quoted_sentence_takes_the_speaker_of_the_previous_or_next_sentence():
    before = split_sentences("“The dam held,” Jane Okafor said. “We were lucky.”\nThe river fell.\n")
    assert [a.speaker for a in attribute(before)] == ["Jane Okafor", "Jane Okafor", None]
    after = split_sentences("“We were lucky.” Jane Okafor told reporters the dam held.\n")
    assert [a.speaker for a in attribute(after)] == ["Jane Okafor", "Jane Okafor"]


def test_pronouns_resolve_to_the_last_fitting_person_only_when_unambiguous():
    one = split_sentences("Mr. Tomas Berg said two cranes failed. He added that repairs would take a month.\n")
    assert [a.speaker for a in attribute(one)] == ["Mr. Tomas Berg", "Mr. Tomas Berg"]
    # "she" does not fit Mr. Berg: dropped rather than guessed
    other = split_sentences("Mr. Tomas Berg said two cranes failed. She added that repairs would take a month.\n")
    assert [a.speaker for a in attribute(other)] == ["Mr. Tomas Berg", None]
    # two people in the paragraph that "he" could be: dropped
    two = split_sentences("Tomas Berg said the cranes failed. Ivan Petrov said they did not. "
                          "The port was shut. He said repairs would take a month.\n")
    assert attribute(two)[-1].speaker is None
    # an organisation is never "he"
    org = split_sentences("The Harbor Authority said two cranes failed. He said repairs would take a month.\n")
    assert attribute(org)[-1].speaker is None


def test_speaker_key_strips_titles_and_unifies_spellings_in_an_article():
    names = unify(["Maj. Gen. Igor Konashenkov", "Gen. Konashenkov", "Konashenkov", "State Department"])
    assert {names[n] for n in ("Maj. Gen. Igor Konashenkov", "Gen. Konashenkov", "Konashenkov")} == {
        ("Maj. Gen. Igor Konashenkov", "igor konashenkov")}
    assert names["State Department"] == ("State Department", "state department")  # no title stripped
    ambiguous = unify(["Hillary Clinton", "Bill Clinton", "Clinton"])
    assert ambiguous["Clinton"] == ("Clinton", "clinton")
    assert speaker_key("Sen. José Núñez") == "jose nunez"


def test_non_prose_lines_are_not_candidates():
    text = ("Harbor Cranes Fail as Storm Hits the Coast\n"
            "By Jane Okafor and Tomas Berg\n"
            "| Crane | Age | Lifted | 12% | none registered. |\n"
            "Revenue 2019 12.5 13.1 14.2 15.0\n"
            "Read more: how the harbor was built\n"
            "Two cranes failed on Friday, and 40 containers fell into the water, the port said.\n"
            "Storm damage in pictures\n")
    sentences = split_sentences(text)
    assert [s.text for s, keep in zip(sentences, prose_mask(text, sentences)) if keep] == [
        "Two cranes failed on Friday, and 40 containers fell into the water, the port said."]


def test_a_quotation_signed_after_a_dash_is_a_candidate_and_a_bare_heading_is_not():
    text = ("Readers on the new harbor toll\n"
            "“The toll doubles what I pay to get to work every single day.” ― Jane Okafor\n"
            "Two cranes failed on Friday, the port said.\n")
    sentences = split_sentences(text)
    kept = [s.text for s, keep in zip(sentences, prose_mask(text, sentences)) if keep]
    assert kept == ["“The toll doubles what I pay to get to work every single day.” ― Jane Okafor",
                    "Two cranes failed on Friday, the port said."]
    assert attribute(sentences)[1].speaker == "Jane Okafor"


def test_a_paragraph_signed_after_a_dash_is_the_signer_s_words_throughout():
    text = ("”The toll doubles what I pay to get to work. It hurts the families on the coast. "
            "Nobody asked us.” ― Jane Okafor\n"
            "The port opened in 1901.\n")
    sentences = split_sentences(text)
    speakers = [a.speaker for a in attribute(sentences)]
    assert speakers[:-1] == ["Jane Okafor"] * (len(sentences) - 1) and speakers[-1] is None


@pytest.mark.parametrize("page, headings", [
    ("givewell", ["Summary", "Modeling cost-effectiveness", "Risks to the success of the grant", "Going forward"]),
    ("slashgear", ["Power and Performance", "Range and Charging", "Interior and Technology"]),
])
def test_real_page_headings_and_list_items_are_not_candidates(page, headings):
    """Real pages (article-extraction-benchmark, MIT; see fixtures/extraction/NOTICE)."""
    from newswire.extract import extract_path

    article = extract_path(FIXTURES / "extraction" / f"{page}.html.gz")
    sentences = split_sentences(article.text)
    mask = prose_mask(article.text, sentences)
    dropped = {s.text for s, keep in zip(sentences, mask) if not keep}
    kept = [s.text for s, keep in zip(sentences, mask) if keep]
    assert set(headings) <= dropped
    assert not [t for t in dropped if t.startswith("- ") is False and t.endswith(".") and len(t.split()) > 12]
    assert len(kept) >= 0.7 * len(sentences)  # the running text stays

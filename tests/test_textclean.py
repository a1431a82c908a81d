"""The text/Markdown boilerplate filter: the seeds, pages written with other wording, and its parts."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from newswire.extract import extract_text
from newswire.extract.dates import find_date
from newswire.extract.textclean import (
    byline_authors,
    clean_extracted_lines,
    clean_text,
    date_line,
    is_chrome,
    is_legal,
    is_signup,
    strip_markdown_inline,
)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# What a reader sees as the headline of each seed.
SEED_TITLES = {
    "000_69dc67076b9b7985.txt": "Russian Elite Spetsnaz Trounced in Face-off with ISIS",
    "001_e11117079a74f82f.txt": "Confirmed: Russian Special Forces Led Blitz Assault on Palmyra. 1,000 Militants Killed or Injured",
    "002_f29e87307f2d7eb1.txt": "Putin Vows Harsh Punishment for Hand behind Russian General’s Shocking Death in Syria – even If It Is the US",
    "003_92b9593846df050c.txt": "Did Russian Special Forces Help the Syrian Army Win Aleppo?",
    "004_9b00dab25d4e3da2.txt": "Russia: Special Forces Helping Syria Win Key City",
}

# Lines of each seed that are page chrome, header meta or footer (as written in the seed, links reduced).
SEED_BOILERPLATE = {
    "000_69dc67076b9b7985.txt": ["Print Friendly, PDF & Email"],
    "001_e11117079a74f82f.txt": ["This post first appeared on Russia Insider"],
    "002_f29e87307f2d7eb1.txt": [],
    "003_92b9593846df050c.txt": [
        "By Alexander Mercouris",
        "Global Research, September 06, 2016",
        "The Duran 6 September 2016",
        "Region: Middle East & North Africa, Russia and FSU",
        "Theme: US NATO War Agenda",
        "In-depth Report: SYRIA",
        "The original source of this article is The Duran",
        "Copyright © Alexander Mercouris, The Duran, 2016",
        "Comment on Global Research Articles on our Facebook page",
        "Become a Member of Global Research",
        "Articles by: Alexander Mercouris",
        "Disclaimer: The contents of this article are of sole responsibility",
        "www.globalresearch.ca contains copyrighted material",
        "For media inquiries: publications@globalresearch.ca",
    ],
    "004_9b00dab25d4e3da2.txt": ["Accessibility links", "Breaking News"],
}


def _source_lines(name: str) -> list[str]:
    """The seed's non-empty lines with Markdown reduced the simplest way (independent of the code under test)."""
    text = (SEEDS / name).read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"^#+\s*", "", line).replace("**", "").strip()
        if line and not re.fullmatch(r"-{3,}", line):
            lines.append(line)
    return lines


def _is_boilerplate(name: str, line: str) -> bool:
    return any(line.startswith(b) for b in SEED_BOILERPLATE[name])


@pytest.mark.parametrize("name", sorted(SEED_TITLES))
def test_seed_title_is_exact(name):
    article = extract_text((SEEDS / name).read_text(encoding="utf-8"))
    assert article.title == SEED_TITLES[name]
    assert article.reason is None
    assert article.language == "en"


@pytest.mark.parametrize("name", sorted(SEED_TITLES))
def test_seed_boilerplate_is_gone_and_every_body_paragraph_intact(name):
    article = extract_text((SEEDS / name).read_text(encoding="utf-8"))
    paragraphs = article.text.split("\n\n")
    body = [line for line in _source_lines(name) if line != SEED_TITLES[name] and not _is_boilerplate(name, line)]
    # every body line is one paragraph, in order, word for word (a doubled caption once)
    expected = [line for i, line in enumerate(body) if i == 0 or line != body[i - 1]]
    assert paragraphs == expected
    for chrome in SEED_BOILERPLATE[name]:
        assert chrome not in article.text
    assert SEED_TITLES[name] not in paragraphs
    assert "](" not in article.text and "**" not in article.text


def test_seed_doubled_caption_kept_once():
    article = extract_text((SEEDS / "004_9b00dab25d4e3da2.txt").read_text(encoding="utf-8"))
    caption = "A Russian soldier stands guard as a military helicopter takes off at an airport in Deir eI-Zor, Syria, Sept. 15, 2017."
    assert article.text.count(caption) == 1


def test_seed_byline_gives_author_and_date():
    article = extract_text((SEEDS / "003_92b9593846df050c.txt").read_text(encoding="utf-8"))
    assert article.authors == ["Alexander Mercouris"]
    assert article.published == datetime(2016, 9, 6, tzinfo=timezone.utc)


# --- pages written for these tests, with wording the seeds do not use ------------------

TRIBUNE = """Skip to main content
Menu
Top Stories

Council Approves New Budget After Marathon Session

Written by Jane Roe and John Doe | Staff Reporters
Published: 12 March 2020 14:05 GMT
Tags: economy, budget, city hall

The city council approved a $4.2 billion budget early on Thursday after a debate that lasted more than eleven hours.

Council members said the plan protects libraries and adds 200 police officers, while critics argued it leaves transit underfunded.
Mayor Ana Ruiz speaks to reporters outside city hall on Wednesday night.
Mayor Ana Ruiz speaks to reporters outside city hall on Wednesday night.

Share on Facebook Twitter Email
Related: Transit riders brace for fare increase next spring

By Monday, the finance office will publish the line-by-line figures for each department.

Sign up for our morning briefing newsletter
This story was originally published by The Tribune.
© 2020 Example Media Group. All rights reserved.
The views expressed in this piece are those of the author and do not necessarily reflect the position of the publisher.
Leave a comment
"""

TRIBUNE_BODY = [
    "The city council approved a $4.2 billion budget early on Thursday after a debate that lasted more than eleven hours.",
    "Council members said the plan protects libraries and adds 200 police officers, while critics argued it leaves transit underfunded.",
    "Mayor Ana Ruiz speaks to reporters outside city hall on Wednesday night.",
    "By Monday, the finance office will publish the line-by-line figures for each department.",
]


def test_written_page_with_other_wording():
    result = clean_text(TRIBUNE)
    assert result.title == "Council Approves New Budget After Marathon Session"
    assert result.paragraphs == TRIBUNE_BODY
    assert result.authors == ["Jane Roe", "John Doe"]
    assert result.published == datetime(2020, 3, 12, tzinfo=timezone.utc)


BLOG_MD = """[Home](/) | [World](/world) | [Science](/science)

## Glacier Retreat Speeds Up in the Alps, Survey Finds

*Posted by [Marta Keller](https://example.org/authors/mk) on 3rd April 2021*

Topics: [Climate](/t/climate), [Switzerland](/t/ch)

Swiss glaciers lost **six percent** of their remaining volume in a single year, according to a survey published by the [Glacier Monitoring network](https://example.org/glamos).

Researchers said the _loss_ was the largest since measurements began, and that low winter snowfall left the ice exposed through the summer.

![A glacier tongue in the Valais](https://example.org/img/glacier.jpg)

* * *

Follow us on Twitter for more science news
Support our journalism: become a supporter today
Originally published at example.org/science. Republished with permission.
"""


def test_written_markdown_page():
    result = clean_text(BLOG_MD)
    assert result.title == "Glacier Retreat Speeds Up in the Alps, Survey Finds"
    assert result.paragraphs == [
        "Swiss glaciers lost six percent of their remaining volume in a single year, according to a survey "
        "published by the Glacier Monitoring network.",
        "Researchers said the loss was the largest since measurements began, and that low winter snowfall left "
        "the ice exposed through the summer.",
    ]
    assert result.authors == ["Marta Keller"]
    assert result.published == datetime(2021, 4, 3, tzinfo=timezone.utc)


def test_body_lines_that_look_like_boilerplate_are_kept():
    text = (
        "Copyright Fight Reaches the Supreme Court\n\n"
        "Copyright law in the EU changed in 2019 after a long and bitter debate among member states.\n\n"
        "Subscribers to the streaming service rose by 20 percent in the last quarter, the company said.\n\n"
        "By the end of the hearing, the judges had asked more than forty questions of both sides.\n\n"
        "Share prices of the largest labels fell on the news, analysts at two banks noted on Friday.\n"
    )
    result = clean_text(text)
    assert result.title == "Copyright Fight Reaches the Supreme Court"
    assert len(result.paragraphs) == 4
    assert result.authors == []


def test_hard_wrapped_text_is_unwrapped_into_paragraphs():
    import textwrap

    first = ("The regional parliament voted on Tuesday to extend the emergency measures for a further month, "
             "after a debate in which the opposition accused the government of moving too slowly on housing.")
    second = ("Ministers said the extension would give local councils time to finish the inspections of "
              "damaged buildings, which they expect to complete before the end of the year.")
    text = "Parliament Extends Emergency Measures\n\n" + "\n\n".join(textwrap.fill(p, 72) for p in (first, second))
    result = clean_text(text)
    assert result.title == "Parliament Extends Emergency Measures"
    assert result.paragraphs == [first, second]
    # one paragraph per line (the seeds' layout) stays as it is
    assert clean_text("Title\n" + first + "\n" + second).paragraphs == [first, second]


def test_text_without_title_line_keeps_its_first_paragraph():
    long_first = " ".join(["The committee met again on Tuesday to discuss the proposal."] * 8)
    result = clean_text(long_first + "\n\nA second paragraph follows here with more detail.\n")
    assert result.title == ""
    assert result.paragraphs[0] == long_first


# --- parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["Accessibility links", "Skip to content", "Breaking News", "Share this article", "Print Friendly, PDF & Email",
     "Facebook Twitter WhatsApp Email", "12 Comments", "READ MORE: Plague outbreak confirmed in Beijing",
     "Sign up for the free daily newsletter.", "Subscribe to our channel for more videos",
     "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.", "Become a Member of Example News",
     "Comment on this story on our forum", "Tags: budget, council", "Region: Europe", "Photo: AP"],
)
def test_chrome_lines(line):
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    ["The details:", "Russian-backed troops advance", "Share prices fell sharply on Friday.",
     "Subscribers to the service rose by 20 percent.", "Follow-up talks are planned for May.",
     "Breaking the deadlock took three weeks of talks."],
)
def test_prose_lines_are_not_chrome(line):
    assert not is_chrome(line)


def test_legal_notices():
    assert is_legal("Copyright 2019 Hawaii News Now. All rights reserved.")
    assert is_legal("© 2020 Example Media Group")
    assert is_legal("Disclaimer: The opinions in this column belong to the writer alone and nobody else.")
    assert is_legal(
        "This site contains copyrighted material the use of which has not been authorized by the copyright owner; "
        "we make it available under fair use."
    )
    assert not is_legal("Copyright law in the EU changed in 2019 after a long debate.")


def test_photo_credits_are_legal_lines_not_text():
    assert is_legal("Jewels after Jewels, installation views, photos © Inexhibit, 2018")
    assert not is_legal("The © sign was added to the logo in 2019, the court heard, after a dispute over the mark that "
                        "lasted for more than a decade and cost both companies millions in legal fees and lost sales.")


# A sign-up box as extractors leave it between the story and its footer (lines of a real page).
SIGNUP_BOX = ["Pick Six Newsletter", "Get the day's big stories + fun stuff you love like mock drafts, picks and power rankings.",
              "Thanks for signing up!", "Keep an eye on your inbox for the latest sports news.",
              "There was an error processing your subscription.",
              "Get the day’s top headlines delivered to your inbox every morning by subscribing to our newsletter."]


def test_newsletter_signup_boxes_are_dropped():
    story = ["The council approved the budget on Tuesday after a debate that lasted six hours, officials said."]
    kept = clean_extracted_lines(story + SIGNUP_BOX, "Council approves budget")
    # the pitch that names no newsletter ("Get the day's big stories ...") cannot be told from prose by its words
    assert kept == story + [SIGNUP_BOX[1]]
    assert not any(is_signup(line) for line in (
        "She founded the newsletter.", "Readers of the newsletter wrote in to complain about the new opening hours.",
        "Thanks for the invitation, she said, but the minister declined to sign up for the scheme."))


def test_bylines():
    assert byline_authors("By Jane Roe") == ["Jane Roe"]
    assert byline_authors("By JANE ROE and John de la Cruz, Reuters") == ["JANE ROE", "John de la Cruz"]
    assert byline_authors("Written by: Ana Ruiz | Staff Reporter") == ["Ana Ruiz"]
    assert byline_authors("By Monday, the troops had left.") is None
    assert byline_authors("By the end of the war it was clear who had won") is None


def test_date_lines():
    assert date_line("Global Research, September 06, 2016") == datetime(2016, 9, 6, tzinfo=timezone.utc)
    assert date_line("Updated 3:45 PM ET, Tue March 3, 2020") == datetime(2020, 3, 3, tzinfo=timezone.utc)
    assert date_line("2021-11-05") == datetime(2021, 11, 5, tzinfo=timezone.utc)
    assert date_line("On Sept. 15, 2017 the army crossed the river into the city.") is None
    assert find_date("09/06/2016")[0] is None  # ambiguous: not guessed


def test_markdown_inline():
    assert strip_markdown_inline("See [the report](http://x.org/a_(b)) and **this** or _that_.") == (
        "See the report and this or that."
    )
    assert strip_markdown_inline("snake_case_name stays, 5 * 3 * 2 stays") == "snake_case_name stays, 5 * 3 * 2 stays"
    assert strip_markdown_inline("![chart](c.png)Caption") == "Caption"

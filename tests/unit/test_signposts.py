"""The search words and links offered while a request waits (handlers/signposts.py)."""

from __future__ import annotations

from handlers.signposts import MAX_SEARCH_CHARS, search_links, search_words, signpost_line
from knowledge.models import SearchLink

PUBMED = SearchLink("PubMed", "https://pubmed.ncbi.nlm.nih.gov/?term={topic}")


def test_privacy_labels_are_not_search_words() -> None:
    assert search_words("falls for [NHS number removed] aged [date of birth removed]") == (
        "falls for aged"
    )


def test_a_long_question_is_cut_at_a_word_boundary() -> None:
    words = search_words("delirium " * 40)
    assert len(words) <= MAX_SEARCH_CHARS
    assert words.split(" ") == ["delirium"] * len(words.split(" "))


def test_every_configured_source_gets_a_link() -> None:
    hub = SearchLink("Hub", "https://hub.nhs.uk/search?q={topic}&scope=all")
    (first, second) = search_links([hub, PUBMED], "sepsis in children")
    assert first.url == "https://hub.nhs.uk/search?q=sepsis%20in%20children&scope=all"
    assert second.url == "https://pubmed.ncbi.nlm.nih.gov/?term=sepsis%20in%20children"


def test_nothing_is_offered_when_only_removed_details_are_left() -> None:
    assert signpost_line([PUBMED], "[NHS number removed]") is None

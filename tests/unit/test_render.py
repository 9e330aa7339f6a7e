"""The one parse of reply text (bot/render/document.py) and its four renderers: what is a link,
what is escaped, and how each platform shows the same document."""

from __future__ import annotations

from bot.messages import Intent, Reply, SourceLink
from bot.platforms.slack.render import blocks, fallback_text
from bot.platforms.teams.cards import reply_card
from bot.platforms.web.render import reply_html
from bot.render.document import Link, ListBlock, Paragraph, Text, parse
from bot.render.html import inline_html, markdown_html
from bot.render.slack import mrkdwn
from bot.render.teams import inline_markdown, markdown_blocks
from bot.render.text import plain_text
from bot.render_text import render_text

UNSAFE = (
    "[click](javascript:alert(1)) [data](data:text/html,<script>x</script>) "
    "[file](file:///etc/passwd) <javascript:alert(2)>"
)


def teams_text(text: str) -> str:
    return "\n".join(block["text"] for block in markdown_blocks(text))


# The document


def test_a_javascript_link_keeps_its_label_as_text_and_loses_its_address() -> None:
    (paragraph,) = parse("see [the hub](javascript:alert(1)) now").blocks
    assert paragraph == Paragraph((Text("see the hub now"),))


def test_http_https_and_mailto_links_are_links() -> None:
    (paragraph,) = parse(
        "[a](http://a.nhs.uk/) [b](https://b.nhs.uk/) [c](mailto:c@nhs.net)"
    ).blocks
    assert isinstance(paragraph, Paragraph)
    links = [i.url for i in paragraph.inlines if isinstance(i, Link)]
    assert links == ["http://a.nhs.uk/", "https://b.nhs.uk/", "mailto:c@nhs.net"]


def test_bare_web_and_email_addresses_become_links_but_file_names_do_not() -> None:
    (paragraph,) = parse("https://x.nhs.uk/a. or ask library@trust.nhs.uk about report.py").blocks
    assert isinstance(paragraph, Paragraph)
    links = [i.url for i in paragraph.inlines if isinstance(i, Link)]
    assert links == ["https://x.nhs.uk/a", "mailto:library@trust.nhs.uk"]


def test_raw_html_is_text() -> None:
    assert parse("<b>hi</b>").blocks == (Paragraph((Text("<b>hi</b>"),)),)


def test_a_four_space_indent_is_layout_not_code() -> None:
    (paragraph,) = parse("    indented words").blocks
    assert paragraph == Paragraph((Text("indented words"),))


def test_a_numbered_list_keeps_the_number_it_starts_from() -> None:
    (numbered,) = parse("3. third\n4. fourth").blocks
    assert isinstance(numbered, ListBlock) and numbered.start == 3


def test_a_blank_line_before_a_block_is_recorded() -> None:
    first, listed, last = parse("Intro:\n- one\n- two\n\nAfter.").blocks
    assert (first.spaced, listed.spaced, last.spaced) == (False, False, True)


# Web


def test_web_drops_unsafe_links_and_escapes_their_text() -> None:
    html = str(markdown_html(UNSAFE))
    assert "href" not in html and "script>" not in html
    assert html == "<p>click data file javascript:alert(2)</p>"


def test_web_escapes_raw_html_instead_of_passing_it_through() -> None:
    html = str(markdown_html('Hi <img src=x onerror="alert(1)"> & <a href="#">y</a>'))
    assert html == (
        "<p>Hi &lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;a href=&#34;#&#34;&gt;y"
        "&lt;/a&gt;</p>"
    )


def test_web_escapes_quotes_in_link_addresses() -> None:
    html = str(markdown_html('[x](https://x.nhs.uk/?q="><script>)'))
    assert "<script>" not in html and '"><' not in html


def test_web_keeps_a_line_break_inside_a_paragraph() -> None:
    assert str(markdown_html("Line one\nline two")) == "<p>Line one<br>line two</p>"


def test_web_numbered_list_starting_elsewhere_says_where() -> None:
    assert str(markdown_html("3. third")) == '<ol start="3"><li>third</li></ol>'


def test_web_warning_text_is_inline_without_a_paragraph() -> None:
    assert str(inline_html("Remove the **NHS number**")) == (
        "Remove the <strong>NHS number</strong>"
    )


def test_web_source_with_an_unsafe_address_is_shown_without_a_link() -> None:
    reply = Reply("x", Intent.FAQ, sources=(SourceLink("Bad", "javascript:alert(1)"),))
    html = str(reply_html(reply))
    assert "javascript" not in html and "Bad" in html


# Slack


def test_slack_escapes_its_three_control_characters() -> None:
    assert mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"


def test_slack_escapes_raw_html_and_a_fake_slack_mention() -> None:
    assert mrkdwn("<b>x</b> <!channel>") == "&lt;b&gt;x&lt;/b&gt; &lt;!channel&gt;"


def test_slack_links_are_angle_bracketed_with_their_label() -> None:
    assert (
        mrkdwn("see [the hub](https://library.nhs.uk/)") == "see <https://library.nhs.uk/|the hub>"
    )


def test_slack_link_label_and_address_cannot_break_out_of_the_link() -> None:
    out = mrkdwn("[a > b | c](https://x.nhs.uk/?a=1&b=2|z)")
    assert out == "<https://x.nhs.uk/?a=1&amp;b=2%7Cz|a &gt; b | c>"


def test_slack_drops_unsafe_links() -> None:
    out = mrkdwn(UNSAFE)
    assert "<javascript" not in out and "<data" not in out and "<file" not in out
    assert out.startswith("click data file")


def test_slack_bold_italic_and_bullets_in_its_own_markers() -> None:
    assert mrkdwn("**Bold** and *it*\n* one\n- two") == "*Bold* and _it_\n• one\n• two"


def test_slack_source_with_an_unsafe_address_is_not_a_link() -> None:
    reply = Reply("x", Intent.FAQ, sources=(SourceLink("Bad <x>", "javascript:alert(1)"),))
    (context,) = [b for b in blocks(reply) if b["type"] == "context"]
    assert context["elements"][0]["text"] == "Source: Bad &lt;x&gt;"


def test_slack_fallback_text_is_escaped_plain_text_without_markers() -> None:
    reply = Reply("**Due** <soon> & [the form](https://x.nhs.uk/)", Intent.FAQ, title="T")
    assert fallback_text(reply) == "T: Due &lt;soon&gt; &amp; the form &lt;https://x.nhs.uk/&gt;"


# Teams


def test_teams_drops_unsafe_links() -> None:
    assert teams_text(UNSAFE) == "click data file javascript:alert(2)"


def test_teams_escapes_literal_markdown_characters() -> None:
    assert teams_text(r"2 \* 3 = 6, [not a link] and a_b") == r"2 \* 3 = 6, \[not a link\] and a_b"


def test_teams_link_address_cannot_close_the_link_early() -> None:
    assert teams_text("[x](https://x.nhs.uk/a_(b))") == "[x](https://x.nhs.uk/a_%28b%29)"


def test_teams_bold_and_italic_in_its_subset() -> None:
    assert teams_text("**Bold** and *it*") == "**Bold** and _it_"


def test_teams_each_line_of_a_paragraph_is_its_own_block() -> None:
    first, second = markdown_blocks("Line one\nline two")
    assert (first["text"], second["text"], second["spacing"]) == ("Line one", "line two", "Small")


def test_teams_bold_across_a_line_break_is_closed_on_each_line() -> None:
    assert [b["text"] for b in markdown_blocks("**one\ntwo**")] == ["**one**", "**two**"]


def test_teams_notice_keeps_list_items_apart() -> None:
    assert inline_markdown("Check:\n- a\n- b") == "Check:\n\n- a\r- b"


def test_teams_title_is_escaped() -> None:
    card = reply_card(Reply("x", Intent.FAQ, title="A *starred* title"))
    assert card["body"][0]["text"] == r"A \*starred\* title"


# Plain text


def test_plain_text_has_no_markers_and_shows_link_addresses() -> None:
    out = plain_text("**Bold** _it_ `code` [the hub](https://library.nhs.uk/) a@b.nhs.uk")
    assert out == "Bold it code the hub <https://library.nhs.uk/> a@b.nhs.uk"


def test_plain_text_drops_unsafe_link_addresses() -> None:
    assert plain_text(UNSAFE) == "click data file javascript:alert(2)"


def test_plain_text_lists_are_dashes_and_numbers() -> None:
    assert plain_text("* one\n+ two\n\n3. three") == "- one\n- two\n\n3. three"


def test_cli_wraps_a_long_list_item_under_its_words() -> None:
    reply = Reply("1. " + "word " * 30, Intent.FAQ)
    first, second = render_text(reply).splitlines()
    assert first.startswith("1. word") and second.startswith("   word")


def test_an_image_is_a_link_to_it_named_by_its_alt_text() -> None:
    (paragraph,) = parse("![the logo](https://x.nhs.uk/logo.png) ![x](javascript:y)").blocks
    assert paragraph == Paragraph(
        (Link("https://x.nhs.uk/logo.png", (Text("the logo"),)), Text(" x"))
    )

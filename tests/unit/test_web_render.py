"""Replies and forms as HTML: light Markdown, escaping, accessible form controls."""

from __future__ import annotations

from bot.messages import Button, Choice, Form, FormField, Intent, Reply, SourceLink, Suggestion
from bot.platforms.web.entries import EntryForm, from_markdown, to_markdown
from bot.platforms.web.render import form_html, reply_html
from bot.render.html import markdown_html as markdown


def test_light_markdown_becomes_paragraphs_lists_bold_and_links() -> None:
    html = str(
        markdown(
            "**Bold** start, see [the hub](https://library.nhs.uk/) or https://x.nhs.uk/a.\n"
            "- one\n- two\n\n1. first\n2. second"
        )
    )
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://library.nhs.uk/" rel="noopener noreferrer">the hub</a>' in html
    assert '<a href="https://x.nhs.uk/a" rel="noopener noreferrer">https://x.nhs.uk/a</a>.' in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html


def test_script_and_unsafe_links_are_never_produced() -> None:
    html = str(
        markdown('<script>alert(1)</script> [x](javascript:alert(1)) **<img src=x onerror="y">**')
    )
    assert "<script>" not in html and "<img" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_a_faq_reply_has_title_sources_and_feedback_buttons() -> None:
    reply = Reply(
        "Answer <here>",
        Intent.FAQ,
        title='Title "quoted"',
        faq_id="an-entry",
        sources=(SourceLink("NHS <source>", "https://example.nhs.uk/?a=1&b=2"),),
        buttons=(Button("Helpful", "faq_helpful", 'an-entry"><x'),),
        warning="Remove the NHS number",
    )
    html = str(reply_html(reply))
    assert '<h3 class="ed-reply__title">Title &#34;quoted&#34;</h3>' in html
    assert "Answer &lt;here&gt;" in html
    assert 'href="https://example.nhs.uk/?a=1&amp;b=2"' in html
    assert "Source:" in html and "NHS &lt;source&gt;" in html
    assert 'data-action="faq_helpful" data-value="an-entry&#34;&gt;&lt;x"' in html
    assert 'role="alert"' in html


def test_suggestions_are_shown_once() -> None:
    reply = Reply(
        "Did you mean",
        Intent.UNKNOWN,
        suggestions=(Suggestion("a", "Entry A"),),
        buttons=(Button("Entry A", "faq_show", "a"), Button("Ask a librarian", "request_open")),
    )
    html = str(reply_html(reply))
    assert html.count("Entry A") == 1
    assert "Ask a librarian" in html


def test_a_form_has_labels_required_markers_errors_beside_fields_and_a_summary() -> None:
    form = Form(
        "request_submit",
        "Request",
        "Send request",
        fields=(
            FormField("question", "What do you need?", "textarea", True, "<b>x</b>", "No names"),
            FormField("purpose", "What for?", "choice", True, choices=(
                Choice("a", "A"), Choice("b", "B"), Choice("c", "C"), Choice("d", "D"))),
            FormField("helped", "Did it help?", "choice", True, choices=(
                Choice("yes", "Yes"), Choice("no", "No"))),
            FormField("uses", "How used?", "multichoice", choices=(Choice("x", "X"),)),
            FormField("deadline", "By when?", "date"),
        ),
        errors=(("question", "Remove the NHS number"),),
        notice="Some answers look like patient details",
        state='{"c": "web-chat"}',
    )  # fmt: skip
    html = str(form_html(form))
    assert 'data-form-id="request_submit"' in html
    assert 'data-state="{&#34;c&#34;: &#34;web-chat&#34;}"' in html
    assert "There is a problem" in html and "Remove the NHS number" in html
    assert html.count("(required)") == 3
    assert "&lt;b&gt;x&lt;/b&gt;</textarea>" in html
    assert 'aria-invalid="true"' in html
    assert "<select" in html and 'type="radio"' in html and 'type="checkbox"' in html
    assert 'type="date"' in html
    assert "Some answers look like patient details" in html


def test_an_entry_form_round_trips_through_its_markdown() -> None:
    form = EntryForm(
        id="new-entry",
        title="A: title with a colon",
        category="library",
        questions="first question\n  second: with colon  \n\n",
        links="NHS | https://www.nhs.uk/\nhttps://example.nhs.uk/",
        owner="Library team",
        reviewed="2026-11-01",
        review_by="2027-11-01",
        answer="Line one\n\n- bullet",
    )
    text = to_markdown(form)
    again = from_markdown(text.text)
    assert again.questions == "first question\nsecond: with colon"
    assert again.links == "NHS | https://www.nhs.uk/\n | https://example.nhs.uk/"
    assert again.answer == "Line one\n\n- bullet"
    assert text.field_at(2) == "id"
    assert text.field_at(len(text.text.splitlines())) == "answer"
    assert form.with_question("Another way").questions.endswith("Another way")
    assert form.with_question("FIRST QUESTION") == form

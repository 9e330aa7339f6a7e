"""Signposting while waiting, at the Slack wire: the app built by `create_app` posts the request
confirmation with links to search the configured sources (shipped site.yaml) for the topic."""

from __future__ import annotations

from bot.keys import DATABASE
from tests.scenario.conftest import WARD, SlackWorld
from tests.scenario.slack_payloads import all_text, select_value, text_value, view_submission
from tests.signed import form_state

VALID_NHS = "943 476 5919"


async def confirmation_text(slack: SlackWorld, question: str) -> str:
    state = form_state(WARD, "1700000000.000100")  # signed, as the bot signs the form it opens
    values = {"question": text_value(question), "purpose": select_value("service_development"),
              "privacy_ack": {"input": {"type": "checkboxes", "selected_options": [
                  {"value": "remove_and_send"}]}}}  # fmt: skip
    status, _ = await slack.post_interaction(view_submission("request_submit", values, state))
    assert status == 200
    posts = await slack.api.drained(slack.app[DATABASE], at_least=2)
    (confirmation,) = [p for p in posts if p["channel"] == WARD]
    return f"{confirmation.get('text', '')} {all_text(confirmation.get('blocks', []))}"


async def test_confirmation_posted_to_slack_links_to_searches_for_the_topic(
    slack: SlackWorld,
) -> None:
    text = await confirmation_text(slack, "falls prevention in older inpatients")
    assert "While you wait, you can search for this topic yourself" in text
    pubmed = "https://pubmed.ncbi.nlm.nih.gov/?term=falls%20prevention%20in%20older%20inpatients"
    assert f"<{pubmed}|PubMed>" in text  # a Slack link, not Markdown left as it was
    assert "|NHS Knowledge and Library Hub>" in text


async def test_slack_search_links_never_carry_the_nhs_number(slack: SlackWorld) -> None:
    text = await confirmation_text(slack, f"falls for {VALID_NHS} on ward 3")
    assert "?term=falls%20for%20on%20ward%203" in text
    assert "943" not in text

"""The Slack app manifest stays in step with what the adapter listens for."""

from pathlib import Path

import yaml

from bot.platforms.slack.listeners import NEW_REQUEST, SEND_TO_SPECIALIST

MANIFEST = yaml.safe_load(
    (Path(__file__).parents[2] / "deploy" / "slack" / "manifest.yml").read_text()
)


def test_manifest_declares_the_shortcuts_the_adapter_handles() -> None:
    ids = {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]}
    assert ids == {SEND_TO_SPECIALIST, NEW_REQUEST}


def test_every_url_points_at_the_one_slack_endpoint() -> None:
    settings = MANIFEST["settings"]
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    urls += [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    assert all(url.endswith("/slack/events") for url in urls)


def test_manifest_asks_for_no_scope_beyond_what_is_used() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "chat:write", "commands", "im:history", "im:write",
        "channels:history", "groups:history",
    }  # fmt: skip

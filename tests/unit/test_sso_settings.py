"""Single sign-on settings are checked once at start: a half-configured or multi-tenant set-up
stops the server with a message naming the setting, never a sign-in that trusts too much."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config.oidc import OidcSettings

TENANT = "37c354b2-85b0-47f5-b222-07b48d774ee3"


def test_no_client_id_means_no_single_sign_on() -> None:
    assert not OidcSettings(_env_file=None).enabled  # type: ignore[call-arg]


@pytest.mark.parametrize("tenant", ["common", "organizations", "Consumers"])
def test_a_multi_tenant_authority_is_refused(tenant: str) -> None:
    with pytest.raises(ValidationError, match="any organisation"):
        OidcSettings(client_id="app", client_secret="s", tenant=tenant)  # type: ignore[arg-type]


def test_a_client_id_without_a_tenant_or_a_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="EVIDENCE_DESK_OIDC_TENANT"):
        OidcSettings(client_id="app", client_secret="s")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="EVIDENCE_DESK_OIDC_CLIENT_SECRET"):
        OidcSettings(client_id="app", tenant=TENANT)


def test_the_discovery_document_is_the_tenants_v2_one() -> None:
    settings = OidcSettings(client_id="app", client_secret="s", tenant=TENANT)  # type: ignore[arg-type]
    assert settings.discovery_url == (
        f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
    )


def test_allowed_domains_are_read_as_lower_case_domains_and_bad_ones_refused() -> None:
    settings = OidcSettings(allowed_domains=" NHS.net, @example.nhs.uk ")
    assert settings.domains == {"nhs.net", "example.nhs.uk"}
    with pytest.raises(ValidationError, match="not a domain name"):
        OidcSettings(allowed_domains="nhs.net, not a domain")


def test_the_client_secret_never_shows_in_the_settings_repr() -> None:
    settings = OidcSettings(client_id="app", client_secret="top-secret", tenant=TENANT)  # type: ignore[arg-type]
    assert "top-secret" not in repr(settings)

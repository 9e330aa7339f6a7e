"""Teams settings from the standard Bot Framework variable names (bot/config/teams.py)."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from bot.config.teams import AppType, TeamsSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().startswith(("microsoftapp", "evidence_desk_teams_")):
            monkeypatch.delenv(name)


def test_no_app_id_means_local_mode() -> None:
    settings = TeamsSettings()
    assert (settings.app_id, settings.authenticated) == ("", False)
    assert settings.app_type is AppType.MULTI_TENANT


def test_standard_variable_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-1")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-1")
    settings = TeamsSettings()
    assert (settings.app_id, settings.app_type, settings.app_tenant_id) == (
        "app-1",
        AppType.SINGLE_TENANT,
        "tenant-1",
    )
    assert settings.app_password.get_secret_value() == "secret"


def test_app_type_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppType", "userassignedmsi")
    assert TeamsSettings().app_type is AppType.USER_ASSIGNED_MSI


def test_a_bare_app_id_variable_is_not_mistaken_for_the_teams_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ID", "something-else")
    assert TeamsSettings().app_id == ""


def test_single_tenant_without_a_tenant_id_names_the_missing_variable() -> None:
    with pytest.raises(ValidationError, match="MicrosoftAppTenantId"):
        TeamsSettings(app_id="app-1", app_password="secret", app_type="SingleTenant")


def test_app_id_without_a_password_names_the_missing_variable() -> None:
    with pytest.raises(ValidationError, match="MicrosoftAppPassword"):
        TeamsSettings(app_id="app-1")


def test_managed_identity_needs_no_password() -> None:
    settings = TeamsSettings(app_id="app-1", app_type="UserAssignedMSI", app_tenant_id="t")
    assert settings.authenticated


def test_unknown_app_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        TeamsSettings(app_type="SomeTenant")


def test_a_configuration_error_never_shows_the_password() -> None:
    with pytest.raises(ValidationError) as error:
        TeamsSettings(app_id="app-1", app_password="SUPERSECRET", app_type="SingleTenant")
    assert "SUPERSECRET" not in str(error.value)

"""Teams' settings, under the names Azure Bot Service and the Bot Framework docs use.

`MicrosoftAppId`, `MicrosoftAppPassword`, `MicrosoftAppType` and `MicrosoftAppTenantId` are what
the Azure portal, the Teams Toolkit and every Bot Framework sample call them, so they are read
as they are (case does not matter), with no project prefix. Field names work too, for code and
tests: `TeamsSettings(app_id="...")`. (pydantic-settings then also reads the field names from
the environment; the prefix keeps that to EVIDENCE_DESK_TEAMS_APP_ID and the like, never a
bare APP_ID that something else on the host may have set.)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppType(StrEnum):
    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class TeamsSettings(BaseSettings):
    # hide_input_in_errors: an error must never print the input, which holds the password.
    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        env_prefix="EVIDENCE_DESK_TEAMS_",
        hide_input_in_errors=True,
    )

    app_id: str = Field(
        "",
        validation_alias="MicrosoftAppId",
        description=(
            "The Azure Bot's Microsoft App ID. Empty: local mode for the Bot Framework "
            "Emulator, with authentication off."
        ),
    )
    app_password: SecretStr = Field(
        SecretStr(""),
        validation_alias="MicrosoftAppPassword",
        description="The app registration's client secret (not used with UserAssignedMSI).",
    )
    app_type: AppType = Field(
        AppType.MULTI_TENANT,
        validation_alias="MicrosoftAppType",
        description="MultiTenant, SingleTenant or UserAssignedMSI, as chosen in the Azure Bot.",
    )
    app_tenant_id: str = Field(
        "",
        validation_alias="MicrosoftAppTenantId",
        description="Directory (tenant) ID; required for SingleTenant and UserAssignedMSI.",
    )

    local_mode: bool | None = Field(
        None,
        description=(
            "Local (Bot Framework Emulator) mode, with no MicrosoftAppId: no token is checked, "
            "so it runs only when EVIDENCE_DESK_HOST is loopback and replies only to a loopback "
            "serviceUrl. Default: on when the host is loopback, else Teams stays unmounted; "
            "true on another host refuses to start."
        ),
    )

    @field_validator("app_id", "app_tenant_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("app_type", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        """`singletenant` or `SINGLETENANT` mean SingleTenant; empty means the default."""
        if isinstance(value, str):
            if not value.strip():
                return AppType.MULTI_TENANT
            for member in AppType:
                if member.value.lower() == value.strip().lower():
                    return member
        return value

    @model_validator(mode="after")
    def _complete(self) -> TeamsSettings:
        if not self.app_id:
            return self
        if self.app_type is not AppType.MULTI_TENANT and not self.app_tenant_id:
            raise ValueError(
                f"MicrosoftAppTenantId is required when MicrosoftAppType is {self.app_type.value}"
            )
        if (
            self.app_type is not AppType.USER_ASSIGNED_MSI
            and not self.app_password.get_secret_value()
        ):
            raise ValueError(
                f"MicrosoftAppPassword is required when MicrosoftAppId is set and MicrosoftAppType is {self.app_type.value}"
            )
        return self

    @property
    def authenticated(self) -> bool:
        """False in local (Emulator) mode: no app id, so no token is checked or sent."""
        return bool(self.app_id)

    def sdk_configuration(self) -> object:
        """The object botbuilder's ConfigurationBotFrameworkAuthentication reads (its own
        attribute names)."""
        return _SdkConfiguration(
            APP_ID=self.app_id,
            APP_PASSWORD=self.app_password.get_secret_value(),
            APP_TYPE=self.app_type.value,
            APP_TENANTID=self.app_tenant_id,
        )


class _SdkConfiguration:
    def __init__(self, **values: str) -> None:
        for name, value in values.items():
            setattr(self, name, value)

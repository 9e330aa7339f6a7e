"""Single sign-on settings (EVIDENCE_DESK_OIDC_*): "Sign in with Microsoft" against one
Microsoft Entra ID tenant (NHSmail's, or a trust's own), checked once at start."""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Entra's multi-tenant names: each would accept people from any organisation, and the ID
#: token's issuer could then not be checked against one tenant.
MULTI_TENANT: Final = frozenset({"common", "organizations", "consumers"})
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def _items(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


class OidcSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVIDENCE_DESK_OIDC_", extra="ignore", hide_input_in_errors=True
    )

    client_id: str = Field(
        "",
        max_length=200,
        description=(
            "The Entra ID app registration's Application (client) ID. Empty: no single "
            "sign-on (the console has its local accounts only, and the web chat outside demo "
            "mode gives each browser an anonymous signed identity)."
        ),
    )
    client_secret: SecretStr = Field(
        SecretStr(""), description="The app registration's client secret (its Value)."
    )
    tenant: str = Field(
        "",
        description=(
            "The Directory (tenant) ID to sign in against (NHSmail's, or your trust's), or one "
            "of its verified domains. Required with a client id; `common`, `organizations` "
            "and `consumers` are refused."
        ),
    )
    authority: str = Field(
        "https://login.microsoftonline.com",
        description=(
            "Where the tenant's discovery document is: {authority}/{tenant}/v2.0/.well-known/"
            "openid-configuration. Change it only for a sovereign cloud or a test provider."
        ),
    )
    redirect_url: str = Field(
        "",
        description=(
            "The callback address registered in Entra ID, e.g. "
            "https://desk.example.nhs.uk/auth/callback. Empty: built from the request "
            "(scheme as the trusted proxy reports it, and the Host header)."
        ),
    )
    allowed_domains: str = Field(
        "",
        description=(
            "Comma-separated email domains that may sign in, e.g. `nhs.net`; anyone else is "
            "refused. Empty: anyone the tenant signs in."
        ),
    )
    admin_role: str = Field(
        "EvidenceDesk.Admin",
        description=(
            "An app role (in the ID token's `roles` claim) that makes the person an admin of "
            "the console. Empty: roles are not used."
        ),
    )
    admin_groups: str = Field(
        "",
        description=(
            "Comma-separated group object IDs (in the `groups` claim, once the app "
            "registration emits group claims) whose members are admins."
        ),
    )
    admin_emails: str = Field(
        "",
        description=(
            "Comma-separated email addresses that are admins when they sign in (an "
            "allow-list, for a tenant where you cannot add roles or groups)."
        ),
    )

    @field_validator("tenant")
    @classmethod
    def _tenant(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in MULTI_TENANT:
            raise ValueError(
                f"{value!r} would let any organisation's accounts in: name your tenant "
                "(its Directory ID or a verified domain)"
            )
        if value and not _TENANT.match(value):
            raise ValueError("a tenant is a Directory ID (a GUID) or a domain name")
        return value

    @field_validator("authority", "redirect_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) address")
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: str) -> str:
        for domain in _items(value.lower()):
            if not _DOMAIN.match(domain.lstrip("@")):
                raise ValueError(f"{domain!r} is not a domain name")
        return value

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        if self.client_id and not self.tenant:
            raise ValueError("EVIDENCE_DESK_OIDC_TENANT is required with a client id")
        if self.client_id and not self.client_secret.get_secret_value():
            raise ValueError("EVIDENCE_DESK_OIDC_CLIENT_SECRET is required with a client id")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)

    @property
    def discovery_url(self) -> str:
        return f"{self.authority}/{self.tenant}/v2.0/.well-known/openid-configuration"

    @property
    def domains(self) -> frozenset[str]:
        return frozenset(d.lstrip("@") for d in _items(self.allowed_domains.lower()))

    @property
    def admin_group_ids(self) -> frozenset[str]:
        return frozenset(g.lower() for g in _items(self.admin_groups))

    @property
    def admin_email_list(self) -> frozenset[str]:
        return frozenset(_items(self.admin_emails.lower()))

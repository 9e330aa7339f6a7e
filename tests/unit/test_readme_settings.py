"""Every setting the program reads is in the README's one configuration table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from bot.config import Settings
from bot.config.oidc import OidcSettings
from bot.config.slack import SlackSettings
from bot.config.teams import TeamsSettings
from bot.config.web import WebSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def variables(cls: type[BaseSettings]) -> list[str]:
    prefix = str(cls.model_config.get("env_prefix") or "")
    names = []
    for name, field in cls.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            continue  # a platform's settings, read from its own variables (checked on its own)
        alias = field.validation_alias
        if isinstance(alias, str):
            names.append(alias)
        elif alias is not None and hasattr(alias, "choices"):
            names.append(str(alias.choices[0]))
        else:
            names.append(f"{prefix}{name}".upper())
    return names


def table_rows() -> set[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)`", section, flags=re.MULTILINE))


@pytest.mark.parametrize("cls", [Settings, SlackSettings, TeamsSettings, WebSettings, OidcSettings])
def test_each_setting_has_a_row_in_the_readme_configuration_table(
    cls: type[BaseSettings],
) -> None:
    missing = [name for name in variables(cls) if name not in table_rows()]
    assert not missing, f"add these to the README's configuration table: {missing}"

"""The Teams app package: manifest.json (from deploy/teams/manifest.template.json) and the two
icons, zipped, ready to upload in Teams ("Upload a custom app") or the Teams admin centre.

The manifest holds no messaging endpoint (that lives in the Azure Bot registration); the
endpoint's host fills `validDomains`. Placeholders in the template: `${{APP_ID}}` (the Azure
Bot's Microsoft App ID, also the Teams app id), `${{BOT_ENDPOINT}}` (the full messaging URL)
and `${{BOT_DOMAIN}}` (its host name).

The manifest asks for one resource-specific consent permission, `ChannelMessage.Read.Group`
(with the `webApplicationInfo` Teams requires beside it): the team owner grants it when adding
the app to a team, and it lets the bot receive that team's channel messages without an
@mention, which listening mode needs. Without it Teams delivers only messages that mention the
bot, and listening mode stays silent.
"""

from __future__ import annotations

import json
import re
import struct
import uuid
import zipfile
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

ASSETS: Final = Path(__file__).resolve().parents[3] / "deploy" / "teams"
TEMPLATE: Final = "manifest.template.json"
ICONS: Final = {"color.png": (192, 192), "outline.png": (32, 32)}
_PLACEHOLDER = re.compile(r"\$\{\{\s*([A-Z_]+)\s*\}\}")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs make the same package


def _app_id(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ValueError(
            f"app id {value!r} is not a GUID: use the Azure Bot's Microsoft App ID "
            "(Azure portal > your Azure Bot > Configuration)"
        ) from None


def _endpoint(value: str) -> tuple[str, str]:
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"endpoint {value!r} must be an https:// URL, like https://bot.example.nhs.uk/api/messages"
        )
    return value.strip(), parts.hostname


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def render_manifest(template: str, values: dict[str, str]) -> dict[str, Any]:
    """Fill every placeholder (JSON-escaped); an unknown one is an error, not left behind."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"the manifest template uses an unknown placeholder ${{{{{name}}}}}")
        return json.dumps(values[name])[1:-1]

    manifest: dict[str, Any] = json.loads(_PLACEHOLDER.sub(fill, template))
    return manifest


def build_package(app_id: str, endpoint: str, out: Path, assets: Path = ASSETS) -> Path:
    """Write the app package to `out` and return its path. ValueError names a bad argument or
    asset; OSError is a file that could not be read or written."""
    app_id = _app_id(app_id)
    endpoint, domain = _endpoint(endpoint)
    template = assets / TEMPLATE
    if not template.is_file():
        raise ValueError(f"no manifest template at {template} (pass the deploy/teams folder)")
    manifest = render_manifest(
        template.read_text(encoding="utf-8"),
        {"APP_ID": app_id, "BOT_ENDPOINT": endpoint, "BOT_DOMAIN": domain},
    )
    for name, size in ICONS.items():
        if _png_size(assets / name) != size:
            raise ValueError(f"{assets / name} must be {size[0]}x{size[1]} pixels")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entries = {
            "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
        }
        entries |= {name: (assets / name).read_bytes() for name in ICONS}
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, data)
    return out

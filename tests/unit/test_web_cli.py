"""`evidence-desk admin add` and `kb import|versions|export --to`, on a SQLite database,
through the real entry point (`bot.cli.main`), as the console script runs them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli.main import main
from knowledge import SHIPPED_KB_DIR
from tests.conftest import entry_text


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCE_DESK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")


def test_admin_add_reads_the_password_from_stdin_and_refuses_short_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["admin", "add", "Admin@Example.nhs.uk", "--password-stdin"]) == 0
    assert "admin@example.nhs.uk" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["admin", "add", "other@example.nhs.uk", "--password-stdin"]) == 1
    assert "at least 12" in capsys.readouterr().err
    assert main(["admin", "list"]) == 0
    listing = capsys.readouterr().out
    assert "admin@example.nhs.uk" in listing and "other@" not in listing


def test_kb_import_then_export_to_a_folder_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "import", str(SHIPPED_KB_DIR), "--note", "shipped"]) == 0
    assert "version 1 published" in capsys.readouterr().out
    out = tmp_path / "exported"
    assert main(["kb", "export", "--to", str(out)]) == 0
    shipped = sorted(p.name for p in (SHIPPED_KB_DIR / "faqs").glob("*.md"))
    assert sorted(p.name for p in (out / "faqs").glob("*.md")) == shipped
    assert (out / "site.yaml").read_text() == (SHIPPED_KB_DIR / "site.yaml").read_text()
    assert main(["kb", "validate", str(out)]) == 0
    assert main(["kb", "versions"]) == 0
    assert "shipped" in capsys.readouterr().out
    assert main(["kb", "export"]) == 0  # the JSON lines export still works


def test_an_invalid_folder_is_not_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "kb"
    (folder / "faqs").mkdir(parents=True)
    (folder / "site.yaml").write_text("library_name: Test\n")
    (folder / "faqs" / "sample-entry.md").write_text(entry_text(body="Mail {{missing}}"))
    assert main(["kb", "import", str(folder)]) == 1
    assert "placeholder {{missing}}" in capsys.readouterr().out
    assert main(["kb", "export", "--to", str(tmp_path / "out")]) == 1


def test_admin_add_sso_makes_an_account_with_no_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing is asked for
    assert main(["admin", "add", "head.librarian@nhs.net", "--sso"]) == 0
    assert "sign in with Microsoft" in capsys.readouterr().out
    assert main(["admin", "list"]) == 0
    assert "head.librarian@nhs.net" in capsys.readouterr().out

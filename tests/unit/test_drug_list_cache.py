"""The packaged drug list, unpacked once (bz2 and pickle, ~0.9 s) and then read from the cache
directory as text: the names read back must be the package's, whatever the cache holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from handlers import intents
from handlers.intents import packaged_drug_names

#: Without the process-wide memo, so each call reads the package or the cache again.
read_names: Callable[[Path | None], frozenset[str]] = packaged_drug_names.__wrapped__


@pytest.fixture(scope="module")
def from_package() -> frozenset[str]:
    return read_names(None)


def unpacks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record each time the package's data file is unpacked."""
    calls: list[Path] = []
    real = intents._unpack_drug_names

    def spy(data_file: Path) -> frozenset[str]:
        calls.append(data_file)
        return real(data_file)

    monkeypatch.setattr(intents, "_unpack_drug_names", spy)
    return calls


def test_the_drug_names_read_from_the_cache_are_the_packages_own(
    tmp_path: Path, from_package: frozenset[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert read_names(tmp_path) == from_package  # unpacked, and written
    calls = unpacks(monkeypatch)
    assert read_names(tmp_path) == from_package
    assert calls == []
    assert "amoxicillin" in from_package


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data.replace(b"amoxicillin", b"amoxicillim"), id="edited"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_a_damaged_drug_names_cache_is_read_from_the_package_again(
    damage: Callable[[bytes], bytes],
    tmp_path: Path,
    from_package: frozenset[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_names(tmp_path)
    (cached,) = tmp_path.glob("drug-names-*.txt")
    cached.write_bytes(damage(cached.read_bytes()))
    calls = unpacks(monkeypatch)
    assert read_names(tmp_path) == from_package
    assert len(calls) == 1


def test_an_unwritable_cache_directory_still_gives_the_drug_names(
    tmp_path: Path, from_package: frozenset[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert read_names(blocker / "cache") == from_package

"""Where keys live: a private file written atomically, or an environment variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from origin.identity.keyring_file import (
    KeyringSource,
    create_keyring,
    ensure_dev_keyring,
    load_keyring,
    save_keyring,
)
from origin.identity.keys import Keyring, KeyringError, generate_key
from origin.settings import Settings

NOW = 1_800_000_000


def settings_in(data_dir: Path, **values: str) -> Settings:
    return Settings.from_mapping({"OUTPOST_DATA_DIR": str(data_dir), **values})


def test_the_keyring_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-keys.json"

    save_keyring(Keyring((generate_key("ES256", now=NOW),)), path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["signing-keys.json"]  # no temporaries


def test_saving_replaces_and_loading_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    first = Keyring((generate_key("ES256", now=NOW),))
    second = Keyring((generate_key("EdDSA", now=NOW),))

    save_keyring(first, path)
    save_keyring(second, path)

    assert load_keyring(path).signing_key().kid == second.signing_key().kid


def test_creating_never_replaces_an_existing_keyring(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    first = Keyring((generate_key("ES256", now=NOW),))

    assert create_keyring(first, path) is True
    assert create_keyring(Keyring((generate_key("ES256", now=NOW),)), path) is False

    assert load_keyring(path).signing_key().kid == first.signing_key().kid
    assert [p.name for p in tmp_path.iterdir()] == ["signing-keys.json"]


def test_a_missing_keyring_names_the_command_that_creates_one(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="outpost keys generate"):
        load_keyring(tmp_path / "absent.json")


def test_an_inline_keyring_wins_over_the_file(tmp_path: Path) -> None:
    inline = Keyring((generate_key("ES256", now=NOW),))

    loaded = load_keyring(tmp_path / "absent.json", inline.to_json())

    assert loaded.signing_key().kid == inline.signing_key().kid


def test_development_gets_a_keyring_created_on_first_need(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)

    created = ensure_dev_keyring(settings)

    assert created == tmp_path / "keys" / "signing-keys.json"
    assert load_keyring(created).signing_key().alg == "ES256"
    assert ensure_dev_keyring(settings) is None  # there is one now


def test_no_keyring_is_created_when_keys_come_from_the_environment_or_in_production(
    tmp_path: Path,
) -> None:
    inline = Keyring((generate_key("ES256", now=NOW),)).to_json()

    assert ensure_dev_keyring(settings_in(tmp_path, OUTPOST_SIGNING_KEYS=inline)) is None
    production = settings_in(tmp_path).model_copy(update={"environment": "production"})
    assert ensure_dev_keyring(production) is None
    assert not (tmp_path / "keys").exists()


def test_the_source_sees_a_rotation_at_the_next_call(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    old = generate_key("ES256", now=NOW)
    save_keyring(Keyring((old,)), path)
    source = KeyringSource(path)
    assert source.keyring().signing_key().kid == old.kid
    new = generate_key("ES256", now=NOW + 1)

    save_keyring(Keyring((old,)).rotate(new, now=NOW + 1, grace_seconds=60), path)

    assert source.keyring().signing_key().kid == new.kid
    kids = {key.kid for key in source.verification_keys(NOW + 2).keys}
    assert kids == {old.kid, new.kid}


def test_verification_keys_drop_a_key_when_its_grace_ends(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    old, new = generate_key("ES256", now=NOW), generate_key("RS256", now=NOW)
    save_keyring(Keyring((old,)).rotate(new, now=NOW, grace_seconds=60), path)
    source = KeyringSource(path)

    during = source.verification_keys(NOW + 59)
    after = source.verification_keys(NOW + 60)

    assert {key.kid for key in during.keys} == {old.kid, new.kid}
    assert during.algorithms == {"ES256", "RS256"}
    assert {key.kid for key in after.keys} == {new.kid}
    assert after.algorithms == {"RS256"}
    assert source.verification_keys(NOW + 61) is after  # parsed once, then reused


def test_a_keyring_file_that_disappears_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    save_keyring(Keyring((generate_key("ES256", now=NOW),)), path)
    source = KeyringSource(path)
    source.keyring()

    path.unlink()

    with pytest.raises(KeyringError, match="no signing keys"):
        source.keyring()

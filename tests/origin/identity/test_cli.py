"""``outpost keys generate|rotate|list`` and ``outpost token``, run through ``commands.main``."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from commands import main
from origin.identity.keyring_file import KeyringSource, load_keyring
from origin.identity.keys import Keyring, generate_key
from origin.identity.signature import PyJwtSignatureVerifier
from shared.jwt import VerificationPolicy, verify_token

pytestmark = pytest.mark.anyio


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OUTPOST_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("OUTPOST_SIGNING_KEYS_FILE", raising=False)
    monkeypatch.delenv("OUTPOST_ENV", raising=False)
    return tmp_path


def keys_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "signing-keys.json"


def test_generate_writes_a_private_keyring_with_one_es256_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "generate"]) == 0

    keyring = load_keyring(keys_file(data_dir))
    assert [key.alg for key in keyring.keys] == ["ES256"]
    assert stat.S_IMODE(keys_file(data_dir).stat().st_mode) == 0o600
    assert keyring.signing_key().kid in capsys.readouterr().out


def test_generate_refuses_to_replace_a_keyring_unless_forced(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "generate"])
    first = load_keyring(keys_file(data_dir)).signing_key().kid

    refused = main(["keys", "generate"])
    assert "outpost keys rotate" in capsys.readouterr().err
    unchanged = load_keyring(keys_file(data_dir)).signing_key().kid
    forced = main(["keys", "generate", "--force", "--alg", "RS256"])
    replaced = load_keyring(keys_file(data_dir)).signing_key()

    assert (refused, unchanged) == (1, first)
    assert forced == 0
    assert replaced.kid != first
    assert replaced.alg == "RS256"


def test_generate_to_stdout_prints_a_keyring_for_the_environment_and_writes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "generate", "--stdout", "--alg", "EdDSA"]) == 0

    printed = Keyring.from_json(capsys.readouterr().out)
    assert printed.signing_key().alg == "EdDSA"
    assert not keys_file(data_dir).exists()


def test_rotate_adds_a_current_key_and_retires_the_old_after_the_default_grace(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "generate"])
    old = load_keyring(keys_file(data_dir)).signing_key()

    started = int(time.time())
    assert main(["keys", "rotate"]) == 0

    keyring = load_keyring(keys_file(data_dir))
    new = keyring.signing_key()
    retired = next(key for key in keyring.keys if key.kid == old.kid)
    assert new.kid != old.kid
    assert new.alg == old.alg
    assert retired.retire_at is not None
    assert started + 930 <= retired.retire_at <= int(time.time()) + 930
    assert "verifies until" in capsys.readouterr().out


def test_list_shows_which_key_signs_and_which_only_verify(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "generate"])
    main(["keys", "rotate", "--grace-seconds", "60"])
    capsys.readouterr()

    assert main(["keys", "list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert sum("current (signs)" in line for line in lines) == 1
    assert sum("verifies until" in line for line in lines) == 1


def test_an_environment_keyring_is_rotated_to_stdout_only(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inline = Keyring((generate_key("ES256", now=int(time.time())),))
    monkeypatch.setenv("OUTPOST_SIGNING_KEYS", inline.to_json())

    refused = main(["keys", "rotate"])
    assert "--stdout" in capsys.readouterr().err
    printed = main(["keys", "rotate", "--stdout"])
    rotated = Keyring.from_json(capsys.readouterr().out)

    assert (refused, printed) == (1, 0)
    assert len(rotated.keys) == 2
    assert rotated.signing_key().kid != inline.signing_key().kid
    assert not keys_file(data_dir).exists()


async def test_token_prints_only_a_token_that_verifies_with_the_keyring(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["token", "--sub", "alice", "--role", "admin", "--role", "ops", "--ttl", "120"]) == 0
    )

    captured = capsys.readouterr()
    assert "created a development signing key" in captured.err  # first use on a fresh clone
    (token,) = captured.out.splitlines()
    keys = KeyringSource(keys_file(data_dir)).verification_keys(time.time())
    verified = await verify_token(
        token,
        policy=VerificationPolicy(
            issuer="http://127.0.0.1:8000", audience="outpost", algorithms=keys.algorithms
        ),
        keys=keys.keys,
        verifier=PyJwtSignatureVerifier(),
        now=time.time(),
    )
    assert verified.subject == "alice"
    assert verified.roles == {"admin", "ops"}
    assert verified.expires_at - verified.claims["iat"] == 120
    assert "sid" not in verified.claims


def test_token_is_refused_in_production(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OUTPOST_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/app")
    monkeypatch.setenv("OUTPOST_EDGE_SECRETS", "k1:" + "s" * 40)
    monkeypatch.setenv("OUTPOST_SIGNING_KEYS", Keyring((generate_key("ES256", now=1),)).to_json())

    assert main(["token", "--sub", "alice"]) == 1
    assert capsys.readouterr().out == ""


def test_token_needs_a_subject(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--sub", ""])

    assert exited.value.code == 2


def test_the_keyring_is_plain_json_that_names_each_key(data_dir: Path) -> None:
    main(["keys", "generate"])

    document = json.loads(keys_file(data_dir).read_text())

    assert set(document["keys"][0]) == {"kid", "alg", "jwk", "created_at", "retire_at"}

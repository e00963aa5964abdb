"""Where the keyring lives: a file (default ``<data dir>/keys/signing-keys.json``) or an env var.

The file is written atomically with mode 0600 in a 0700 directory and never committed; for
containers and secret managers the whole document can come from ``OUTPOST_SIGNING_KEYS``
instead. :class:`KeyringSource` re-reads the file when it changes, so ``outpost keys rotate``
takes effect in a running origin without a restart.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from origin.identity.keys import DEFAULT_ALGORITHM, Keyring, KeyringError, generate_key
from origin.settings import Settings
from shared.jwt import KeySet, parse_jwks


def load_keyring(path: Path, inline: str | None = None) -> Keyring:
    """The keyring from ``inline`` JSON when given, else from ``path``."""
    if inline is not None:
        return Keyring.from_json(inline)
    try:
        return Keyring.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyringError(f"no signing keys at {path}; run: outpost keys generate") from None


def save_keyring(keyring: Keyring, path: Path) -> None:
    """Replace the file atomically: a crash never leaves half a keyring, and readers never see it.

    ``mkstemp`` creates the file with mode 0600, and ``os.replace`` keeps that mode.
    """
    temporary = _write_temporary(keyring, path)
    try:
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def create_keyring(keyring: Keyring, path: Path) -> bool:
    """Write ``keyring`` only if there is no file yet; False when one exists.

    ``os.link`` fails if ``path`` exists, so processes starting together (several workers) agree
    on one keyring instead of each writing its own.
    """
    temporary = _write_temporary(keyring, path)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def ensure_dev_keyring(settings: Settings, *, now: int | None = None) -> Path | None:
    """Outside production, create a keyring when there is none; the path when one was made.

    This is what lets a fresh clone run ``outpost dev`` at once. Production never gets here
    without keys: its settings refuse to load (see ``Settings.check_production_safety``).
    """
    if settings.is_production or settings.signing_keys_inline is not None:
        return None
    path = settings.signing_keys_path
    if path.is_file():
        return None
    key = generate_key(DEFAULT_ALGORITHM, now=int(time.time()) if now is None else now)
    return path if create_keyring(Keyring((key,)), path) else None


def _write_temporary(keyring: Keyring, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=".keyring-")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(keyring.to_json())
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


@dataclass(frozen=True, slots=True)
class VerificationKeys:
    """The keys the origin verifies its own tokens with, valid until ``valid_until``."""

    keys: KeySet
    algorithms: frozenset[str]
    valid_until: float


class KeyringSource:
    """The current keyring, re-read when its file changes; inline keyrings are read once.

    A ``stat`` per call costs about two microseconds, far below a signature check, so there is no
    polling interval: a rotation is visible to the very next request.
    """

    def __init__(self, path: Path, inline: str | None = None) -> None:
        self.path = path
        self._inline = inline
        self._keyring: Keyring | None = None
        self._file_identity: tuple[int, int, int] | None = None
        self._verification: VerificationKeys | None = None

    def keyring(self) -> Keyring:
        if self._inline is not None:
            if self._keyring is None:
                self._keyring = load_keyring(self.path, self._inline)
            return self._keyring
        identity = self._stat()
        if self._keyring is None or identity != self._file_identity:
            self._keyring = load_keyring(self.path)
            self._file_identity = identity
            self._verification = None
        return self._keyring

    def verification_keys(self, now: float) -> VerificationKeys:
        """The parsed key set for ``now``; rebuilt when the keyring changes or a grace ends."""
        keyring = self.keyring()
        cached = self._verification
        if cached is not None and now < cached.valid_until:
            return cached
        keys = keyring.verification_keys(now)
        next_change = keyring.next_retirement(now)
        cached = VerificationKeys(
            # The origin's own key set may hold its HS256 secret; it is never published.
            keys=parse_jwks(
                {"keys": [key.verification_jwk() for key in keys]}, allow_symmetric=True
            ),
            algorithms=frozenset(key.alg for key in keys),
            valid_until=float("inf") if next_change is None else next_change,
        )
        self._verification = cached
        return cached

    def _stat(self) -> tuple[int, int, int]:
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            raise KeyringError(
                f"no signing keys at {self.path}; run: outpost keys generate"
            ) from None
        # Rotation replaces the file (a new inode); mtime and size catch edits in place.
        return (found.st_ino, found.st_mtime_ns, found.st_size)


def keyring_source(settings: Settings) -> KeyringSource:
    return KeyringSource(settings.signing_keys_path, settings.signing_keys_json)

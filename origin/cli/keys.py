"""``outpost keys generate|rotate|list``: the signing keys of the origin's tokens."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from origin.settings import Settings


def register(verbs: Any) -> None:
    from origin.identity.keys import DEFAULT_ALGORITHM, SUPPORTED_ALGORITHMS

    keys = verbs.add_parser(
        "keys",
        help="manage the token signing keys",
        description="Manage the keys that sign the origin's access tokens. They live in "
        "OUTPOST_SIGNING_KEYS_FILE (default: <data dir>/keys/signing-keys.json) or, for "
        "containers, in OUTPOST_SIGNING_KEYS as JSON (use --stdout to produce it).",
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)

    generate = actions.add_parser(
        "generate",
        help="create a keyring with one new key",
        description="Create a keyring holding one new signing key. Refuses to replace an "
        "existing keyring (that would log everyone out) unless --force is given.",
    )
    generate.add_argument(
        "--alg",
        choices=SUPPORTED_ALGORITHMS,
        default=DEFAULT_ALGORITHM,
        help=f"signature algorithm (default {DEFAULT_ALGORITHM}; HS256 only when nothing "
        "but this origin verifies tokens: it has no public key to publish)",
    )
    generate.add_argument("--force", action="store_true", help="replace an existing keyring")
    _add_stdout_flag(generate)
    generate.set_defaults(handler=run_generate)

    rotate = actions.add_parser(
        "rotate",
        help="add a new current key; the old one stays published for a grace period",
        description="Add a new signing key and retire the current one after a grace period, "
        "during which tokens it signed keep verifying. Keys whose grace has ended are removed. "
        "A running origin picks the change up at its next request.",
    )
    rotate.add_argument(
        "--alg", choices=SUPPORTED_ALGORITHMS, help="algorithm of the new key (default: as now)"
    )
    rotate.add_argument(
        "--grace-seconds",
        type=_non_negative_int,
        help="how long the old key keeps verifying (default: the access token lifetime plus "
        "the clock leeway, so no valid token is cut short; 0 drops it at once, for a key "
        "that leaked)",
    )
    _add_stdout_flag(rotate)
    rotate.set_defaults(handler=run_rotate)

    listing = actions.add_parser(
        "list", help="show the keys and their state", description="Show the keyring's keys."
    )
    listing.set_defaults(handler=run_list)


def run_generate(args: argparse.Namespace) -> int:
    from origin.identity.keyring_file import save_keyring
    from origin.identity.keys import Keyring, generate_key

    settings = Settings.from_env()
    keyring = Keyring((generate_key(args.alg, now=int(time.time())),))
    if args.stdout:
        sys.stdout.write(keyring.to_json())
        return 0
    path = settings.signing_keys_path
    if path.exists() and not args.force:
        print(
            f"outpost: {path} exists; `outpost keys rotate` replaces keys without logging anyone "
            "out (or pass --force to start over)",
            file=sys.stderr,
        )
        return 1
    save_keyring(keyring, path)
    key = keyring.signing_key()
    print(f"created {key.alg} key {key.kid} in {path}")
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    from origin.identity.keyring_file import load_keyring, save_keyring
    from origin.identity.keys import generate_key
    from origin.identity.service import default_grace_seconds

    settings = Settings.from_env()
    if settings.signing_keys_inline is not None and not args.stdout:
        print(
            "outpost: the keyring comes from OUTPOST_SIGNING_KEYS; rotate with --stdout and "
            "store the printed JSON in that variable",
            file=sys.stderr,
        )
        return 1
    keyring = load_keyring(settings.signing_keys_path, settings.signing_keys_json)
    now = int(time.time())
    current = keyring.signing_key()
    grace = default_grace_seconds(settings) if args.grace_seconds is None else args.grace_seconds
    rotated = keyring.rotate(
        generate_key(args.alg or current.alg, now=now), now=now, grace_seconds=grace
    )
    if args.stdout:
        sys.stdout.write(rotated.to_json())
        return 0
    save_keyring(rotated, settings.signing_keys_path)
    new = rotated.signing_key()
    print(
        f"new current key {new.kid} ({new.alg}); {current.kid} verifies until "
        f"{_when(now + grace)} ({grace} s)"
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from origin.identity.keyring_file import load_keyring

    settings = Settings.from_env()
    keyring = load_keyring(settings.signing_keys_path, settings.signing_keys_json)
    now = time.time()
    current = keyring.signing_key()
    for key in keyring.keys:
        if key is current:
            state = "current (signs)"
        elif key.retire_at is not None and key.retire_at > now:
            state = f"verifies until {_when(key.retire_at)}"
        else:
            state = "retired (dropped at the next rotation)"
        print(f"{key.kid}\t{key.alg}\tcreated {_when(key.created_at)}\t{state}")
    return 0


def _add_stdout_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdout",
        action="store_true",
        help="print the keyring JSON (for OUTPOST_SIGNING_KEYS) instead of writing the file",
    )


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))

"""How ``outpost edge --runtime workerd`` runs ``wrangler dev``: what reaches the command line, what
stays in wrangler.toml, and what the worker's secrets go through."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from edge.runtime.cpython.workerd_host import (
    BUNDLE_SETTING,
    DEV_BUNDLE_FLAG,
    PROJECT_ROOT,
    WRANGLER_TOML,
    WorkerdSetup,
    WorkerdUnavailable,
    env_file_text,
    find_setup,
    worker_bindings,
    wrangler_dev_command,
    wrangler_environment,
)

SECRET = "a-test-only-assertion-secret-0123456789"


def _setup(bundle_dir: Path | None) -> WorkerdSetup:
    return WorkerdSetup(Path("node"), Path("wrangler.js"), Path("workerd"), bundle_dir)


def _command(setup: WorkerdSetup, tmp_path: Path) -> list[str]:
    variables, _ = worker_bindings({"ORIGIN_URL": "http://127.0.0.1:1"}, ["JWT_ISSUER"])
    return wrangler_dev_command(
        setup,
        host="127.0.0.1",
        port=8787,
        variables=variables,
        env_file=tmp_path / "worker.env",
        state_dir=tmp_path / "state",
    )


def test_the_deployed_configuration_never_carries_the_dev_bundle_flag() -> None:
    config = tomllib.loads(WRANGLER_TOML.read_text(encoding="utf-8"))

    assert DEV_BUNDLE_FLAG not in config.get("compatibility_flags", [])
    assert DEV_BUNDLE_FLAG not in WRANGLER_TOML.read_text(encoding="utf-8")


def test_offline_the_dev_bundle_flag_is_added_on_the_command_line_only(tmp_path: Path) -> None:
    command = _command(_setup(tmp_path), tmp_path)
    flags = command[command.index("--compatibility-flags") + 1 :]

    assert flags[:2] == ["python_workers", DEV_BUNDLE_FLAG]


def test_online_the_command_is_plain_wrangler_dev_with_the_configured_flags(
    tmp_path: Path,
) -> None:
    command = _command(_setup(None), tmp_path)

    assert DEV_BUNDLE_FLAG not in command
    assert "MINIFLARE_WORKERD_PATH" not in wrangler_environment(_setup(None), {})


def test_offline_workerd_runs_through_the_projects_wrapper_with_the_bundle_folder(
    tmp_path: Path,
) -> None:
    environment = wrangler_environment(_setup(tmp_path), {})

    assert environment["MINIFLARE_WORKERD_PATH"] == str(
        PROJECT_ROOT / "tools/workerd-with-bundle.sh"
    )
    assert environment[BUNDLE_SETTING] == str(tmp_path)
    assert environment["OUTPOST_WORKERD_BINARY"] == "workerd"


def test_secrets_go_through_the_env_file_never_the_command_line(tmp_path: Path) -> None:
    env = {"ORIGIN_URL": "http://127.0.0.1:1", "EDGE_ASSERTION_SECRET": SECRET, "HOME": "/root"}
    variables, secrets = worker_bindings(env, ["ORIGIN_URL", "JWT_ISSUER"])

    assert secrets == {"EDGE_ASSERTION_SECRET": SECRET}
    assert variables == {"ORIGIN_URL": "http://127.0.0.1:1", "JWT_ISSUER": ""}  # no HOME
    assert env_file_text(secrets) == f"EDGE_ASSERTION_SECRET='{SECRET}'\n"
    assert SECRET not in " ".join(_command(_setup(None), tmp_path))


def test_a_secret_the_env_file_cannot_hold_literally_is_refused() -> None:
    with pytest.raises(WorkerdUnavailable, match="EDGE_ASSERTION_SECRET"):
        env_file_text({"EDGE_ASSERTION_SECRET": "it's"})


def test_a_bundle_folder_without_the_bundle_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(WorkerdUnavailable, match=BUNDLE_SETTING):
        find_setup({BUNDLE_SETTING: str(tmp_path)})


def test_offline_without_a_bundle_folder_is_refused_naming_the_setting() -> None:
    with pytest.raises(WorkerdUnavailable, match=f"set {BUNDLE_SETTING}"):
        find_setup({}, online=False)


def test_local_secrets_stay_out_of_git() -> None:
    for name in (".dev.vars", ".wrangler/state/cache.sqlite"):
        command = ["git", "check-ignore", "--quiet", name]
        ignored = subprocess.run(command, cwd=PROJECT_ROOT, check=False)  # noqa: S603
        assert ignored.returncode == 0, f"{name} is not git-ignored"


def test_the_dev_vars_example_configures_a_local_edge_for_the_development_origin() -> None:
    from edge.config import EdgeConfig

    lines = (PROJECT_ROOT / ".dev.vars.example").read_text(encoding="utf-8").splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    config = EdgeConfig.from_env(settings)

    assert config.is_local
    assert config.origin_url == "http://127.0.0.1:8000"
    assert {"ORIGIN_URL", "JWT_ISSUER", "JWKS_URL", "EDGE_MODE"} <= settings.keys()

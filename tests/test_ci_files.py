"""The shipping files (Dockerfile, compose stack, .env example, CI workflows) say what they must.

These are static checks that run with the normal suite; `.ci/container` proves the image by
building and running it. The linters (hadolint, check-jsonschema with the vendored GitHub and
Compose schemas) run offline from the dev extra.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from origin.settings import Settings, SettingsError, read_dotenv, variables

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
TOOLS = Path(sys.executable).parent  # the venv's bin/, where the dev extra's linters live
# The packages the production image holds: the origin, what it stands on, the command's entry.
IMAGE_PACKAGES = {"shared", "origin", "commands"}
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def workflow(name: str) -> Any:
    return load_yaml(WORKFLOWS / name)


def all_steps(document: Any) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job["steps"]]


def step_using(document: Any, action: str) -> dict[str, Any]:
    matches = [step for step in all_steps(document) if step.get("uses", "").startswith(action)]
    assert len(matches) == 1, f"expected one step using {action}, found {len(matches)}"
    return matches[0]


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    tool = TOOLS / name
    assert tool.exists(), f"{name} is missing from {TOOLS}: install the dev extra"
    return subprocess.run(  # noqa: S603 - a fixed tool from our own venv
        [str(tool), *args], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    pairs = []
    for line in logical.splitlines():
        if line.strip():
            instruction, _, rest = line.strip().partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def instruction_values(name: str) -> list[str]:
    return [rest for instruction, rest in dockerfile_instructions() if instruction == name]


# --- upkeep: dependency updates, commit hooks, the worker's configuration ------------------------


def test_dependabot_watches_every_ecosystem_the_repository_pins() -> None:
    path = ROOT / ".github" / "dependabot.yml"
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.dependabot", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    updates = load_yaml(path)["updates"]
    watched = {update["package-ecosystem"] for update in updates}
    assert {"pip", "npm", "docker", "github-actions"} <= watched
    # Dependabot updates pins only in files named requirements*.txt / *.in: the pins live there.
    (pip,) = (update for update in updates if update["package-ecosystem"] == "pip")
    pins = ROOT / pip["directory"].lstrip("/") / "requirements.txt"
    assert pins.is_file()
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==\S+", line) for line in pins.read_text().split())


def test_pre_commit_runs_ruff_and_mypy_from_the_projects_venv() -> None:
    result = run_tool("pre-commit", "validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    (repository,) = load_yaml(ROOT / ".pre-commit-config.yaml")["repos"]
    assert repository["repo"] == "local"  # the pinned versions, not pre-commit's own copies
    entries = {hook["id"]: hook["entry"] for hook in repository["hooks"]}
    assert all(hook["language"] == "system" for hook in repository["hooks"])
    assert entries["ruff-check"].startswith(".venv/bin/ruff check")
    assert entries["ruff-format"].startswith(".venv/bin/ruff format")
    assert entries["mypy"] == ".venv/bin/mypy"


def test_wrangler_toml_is_valid_for_wrangler_and_traces_the_worker() -> None:
    schema = ROOT / "node_modules" / "wrangler" / "config-schema.json"
    if not schema.exists():
        pytest.skip("wrangler is not installed: npm ci")
    result = run_tool("check-jsonschema", "--schemafile", str(schema), "wrangler.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    observability = tomllib.loads((ROOT / "wrangler.toml").read_text())["observability"]
    assert observability["traces"]["enabled"] is True


# --- workflows ---------------------------------------------------------------------------------


def test_workflows_are_valid_github_actions_workflows() -> None:
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert {Path(name).name for name in files} == {"test.yml", "image.yml", "deploy-edge.yml"}
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version_noted() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        lines = path.read_text(encoding="utf-8").splitlines()
        uses = [line for line in lines if line.strip().lstrip("- ").startswith("uses:")]
        assert uses, f"{path.name} uses no action"
        for line in uses:
            reference, _, comment = line.split("uses:", 1)[1].partition("#")
            assert PINNED_ACTION.match(reference.strip()), f"{path.name}: {line.strip()}"
            assert re.fullmatch(r"v\d+\.\d+\.\d+", comment.strip()), f"{path.name}: {line}"


def test_the_test_workflow_runs_the_readme_test_command_against_real_services() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./scripts/test" in readme
    document = workflow("test.yml")
    assert set(document["on"]) == {"push", "pull_request"}
    (job,) = document["jobs"].values()
    assert {"postgres", "redis"} <= set(job["services"])
    env = job["env"]
    assert env["CI"] == "true"
    assert env["TEST_POSTGRES_URL"].startswith("postgresql://")
    assert env["TEST_POSTGRES_URL"].endswith("@127.0.0.1:5432/test")
    assert env["TEST_REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert step_using(document, "actions/setup-python")["with"]["python-version"] == "3.11"
    assert step_using(document, "actions/setup-node")["with"]["node-version"] == "20"
    assert all_steps(document)[-1]["run"] == "./scripts/test"


def test_the_image_workflow_builds_with_cache_and_pushes_to_ghcr_outside_pull_requests() -> None:
    document = workflow("image.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert document["permissions"]["packages"] == "write"
    build = step_using(document, "docker/build-push-action")["with"]
    assert build["push"] == "${{ github.event_name != 'pull_request' }}"
    assert build["cache-from"] == "type=gha"
    assert build["cache-to"].startswith("type=gha")
    assert step_using(document, "docker/login-action")["with"]["registry"] == "ghcr.io"
    assert step_using(document, "docker/metadata-action")["with"]["images"].startswith("ghcr.io/")


def test_the_edge_deploys_on_version_tags_with_its_secrets() -> None:
    document = workflow("deploy-edge.yml")
    assert document["on"]["push"]["tags"] == ["v*"]
    deploy = step_using(document, "cloudflare/wrangler-action")
    assert deploy["with"]["apiToken"] == "${{ secrets.CLOUDFLARE_API_TOKEN }}"
    assert deploy["with"]["accountId"] == "${{ secrets.CLOUDFLARE_ACCOUNT_ID }}"
    assert deploy["with"]["secrets"].split() == ["EDGE_ASSERTION_SECRET"]
    assert deploy["env"]["EDGE_ASSERTION_SECRET"] == "${{ secrets.EDGE_ASSERTION_SECRET }}"
    # Wrangler 4 refuses Node older than 22.
    node = step_using(document, "actions/setup-node")["with"]["node-version"]
    assert int(node) >= 22


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    result = run_tool("hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_base_image_is_pinned_to_an_exact_release() -> None:
    (default,) = [
        rest.split("=", 1)[1]
        for rest in instruction_values("ARG")
        if rest.startswith("PYTHON_IMAGE=")
    ]
    exact_tag = re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", default)
    assert exact_tag, default
    assert instruction_values("FROM") == [
        "${PYTHON_IMAGE} AS builder",
        "${PYTHON_IMAGE} AS runtime",
    ]


def test_runtime_stage_runs_the_outpost_command_as_a_non_root_user_with_a_healthcheck() -> None:
    instructions = dockerfile_instructions()
    runtime = instructions[instructions.index(("FROM", "${PYTHON_IMAGE} AS runtime")) :]
    values = {name: rest for name, rest in runtime}
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", values["USER"]), "the runtime user must not be root"
    assert values["ENTRYPOINT"] == '["outpost"]'
    assert values["CMD"] == '["origin", "--host", "0.0.0.0"]'
    assert values["STOPSIGNAL"] == "SIGTERM"
    assert "/healthz" in values["HEALTHCHECK"]
    assert "curl" not in values["HEALTHCHECK"], "slim images have no curl"
    copies = [rest for name, rest in runtime if name == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"], "the runtime takes only the venv"
    assert not [rest for name, rest in runtime if name == "RUN" and "apt-get" in rest]


def test_dockerfile_bakes_in_no_secret() -> None:
    for name in ("ENV", "ARG", "LABEL"):
        for value in instruction_values(name):
            assert not re.search(r"(?i)password|secret|token|signing_keys", value), value
    # The build's CA bundle arrives as a secret mount, which never lands in a layer.
    mentions = [name for name, rest in dockerfile_instructions() if "pip_cert" in rest]
    assert set(mentions) == {"RUN"}, mentions
    assert any("--mount=type=secret,id=pip_cert" in rest for rest in instruction_values("RUN"))


def test_dockerignore_lets_only_the_source_and_its_metadata_into_the_build() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list starts by excluding everything"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "requirements.txt", "README.md"} | IMAGE_PACKAGES
    copied = {rest.split()[0] for rest in instruction_values("COPY") if "--from" not in rest}
    assert copied <= allowed, "the Dockerfile copies something the context leaves out"


def test_the_image_holds_the_origin_what_it_stands_on_and_the_command_only() -> None:
    copied = {rest.split()[0] for rest in instruction_values("COPY") if "--from" not in rest}
    assert copied - {"pyproject.toml", "requirements.txt", "README.md"} == IMAGE_PACKAGES
    # What the image leaves out is what .ci/container checks the image cannot import.
    container = (ROOT / ".ci" / "container").read_text(encoding="utf-8")
    assert 'for module in ("edge", "loadtest", "templating")' in container


# --- compose -------------------------------------------------------------------------------------


def test_compose_file_is_valid_compose() -> None:
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_migrates_once_then_starts_the_origin_when_its_dependencies_are_healthy() -> None:
    services = load_yaml(ROOT / "compose.yaml")["services"]
    assert set(services) == {"postgres", "redis", "migrate", "origin", "purger"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["origin"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["purger"]["command"] == ["purger"]
    assert services["purger"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
    }
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    for name in ("migrate", "origin", "purger"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["OUTPOST_ENV"] == "production"


def test_compose_keeps_state_in_named_volumes() -> None:
    document = load_yaml(ROOT / "compose.yaml")
    declared = set(document["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in document["services"].values()
        for volume in service.get("volumes", [])
    }
    assert used == declared == {"postgres-data", "redis-data", "origin-data"}


# --- .env.example --------------------------------------------------------------------------------


def test_env_example_documents_every_variable_the_origin_reads() -> None:
    read = set(variables())
    assert {"OUTPOST_ENV", "DATABASE_URL", "REDIS_URL", "OUTPOST_EDGE_SECRETS"} <= read
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert read <= mentioned, f"undocumented: {sorted(read - mentioned)}"


def test_env_example_parses_and_its_defaults_are_valid_settings() -> None:
    values = read_dotenv(ROOT / ".env.example")
    assert values["POSTGRES_PASSWORD"] == "", "the example must not ship a usable password"
    settings = Settings.from_mapping(values)
    assert settings.workers == 1
    assert settings.graceful_timeout_seconds < 30, "must finish within compose's stop grace period"


def test_env_example_as_is_cannot_start_in_production() -> None:
    values = {
        **read_dotenv(ROOT / ".env.example"),
        "OUTPOST_ENV": "production",
        "DATABASE_URL": "postgresql://outpost:x@postgres:5432/outpost",
        "OUTPOST_DATA_DIR": "/nonexistent/outpost",
    }
    with pytest.raises(SettingsError) as refused:
        Settings.from_mapping(values)
    assert "OUTPOST_EDGE_SECRETS" in str(refused.value)
    assert "OUTPOST_SIGNING_KEYS" in str(refused.value)


# --- the container proof -------------------------------------------------------------------------


def test_container_proof_script_is_strict_bash_that_cleans_up() -> None:
    script = ROOT / ".ci" / "container"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "trap cleanup EXIT" in text
    assert "--pull=never" in text
    assert script.stat().st_mode & 0o111, ".ci/container must be executable"
    syntax = subprocess.run(  # noqa: S603
        ["/bin/bash", "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert syntax.returncode == 0, syntax.stderr

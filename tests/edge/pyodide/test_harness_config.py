"""How the harness reads configuration like wrangler does: module rules and the upload set,
.dev.vars, --var; what reaches the worker of an incoming request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.edge.pyodide.node_eval import evaluate

GLOB_CASES: dict[str, tuple[str, str, bool]] = {
    "a globstar spans no directory": ("edge/**/*.py", "edge/worker.py", True),
    "a globstar spans directories": ("edge/**/*.py", "edge/cache/keys.py", True),
    "a prefix is anchored": ("edge/**/*.py", "vendor/edge/x.py", False),
    "a star stays in its directory": ("edge/*.py", "edge/cache/keys.py", False),
    "a dot is literal": ("**/*.py", "edge/workerxpy", False),
    "a leading globstar matches the root": ("**/*.txt", "notes.txt", True),
}


def rule_types(rules: str) -> str:
    return f"m.effectiveRules({rules}).map((rule) => [rule.type, rule.globs])"


RULE_CASES: dict[str, tuple[str, Any]] = {
    "defaults plus the implicit Python rule": (
        rule_types("[]"),
        [
            ["PythonModule", ["**/*.py"]],
            ["Text", ["**/*.txt", "**/*.html", "**/*.sql"]],
            ["Data", ["**/*.bin"]],
            ["CompiledWasm", ["**/*.wasm", "**/*.wasm?module"]],
        ],
    ),
    "a user rule shadows the default of its type": (
        rule_types('[{type: "Text", globs: ["docs/*.txt"]}]'),
        [
            ["Text", ["docs/*.txt"]],
            ["PythonModule", ["**/*.py"]],
            ["Data", ["**/*.bin"]],
            ["CompiledWasm", ["**/*.wasm", "**/*.wasm?module"]],
        ],
    ),
    "fallthrough keeps the next rule of the type": (
        rule_types('[{type: "Data", globs: ["a/*.json"], fallthrough: true}]'),
        [
            ["Data", ["a/*.json"]],
            ["PythonModule", ["**/*.py"]],
            ["Text", ["**/*.txt", "**/*.html", "**/*.sql"]],
            ["Data", ["**/*.bin"]],
            ["CompiledWasm", ["**/*.wasm", "**/*.wasm?module"]],
        ],
    ),
}


@pytest.fixture(scope="module")
def upload_results() -> dict[str, dict[str, Any]]:
    expressions = {
        name: f"m.globToRegExp({glob!r}).test({path!r})"
        for name, (glob, path, _) in GLOB_CASES.items()
    }
    expressions |= {name: expression for name, (expression, _) in RULE_CASES.items()}
    return evaluate("upload-set.mjs", expressions)


@pytest.mark.parametrize("case", GLOB_CASES)
def test_globs_match_as_wrangler_matches_them(
    upload_results: dict[str, dict[str, Any]], case: str
) -> None:
    assert upload_results[case]["value"] is GLOB_CASES[case][2]


@pytest.mark.parametrize("case", RULE_CASES)
def test_module_rules_in_force(upload_results: dict[str, dict[str, Any]], case: str) -> None:
    assert upload_results[case]["value"] == RULE_CASES[case][1]


def test_dev_vars_parse_like_dotenv() -> None:
    text = "\n".join(
        [
            "# secrets",
            'EDGE_ASSERTION_SECRET="s3cr3t with spaces"',
            "export TOKEN='raw $value'",
            "PLAIN=value # trailing comment",
            "",
            'MULTI="line1\\nline2"',
        ]
    )
    result = evaluate("env-bindings.mjs", {"parsed": f"m.parseDevVars({json.dumps(text)})"})

    assert result["parsed"]["value"] == {
        "EDGE_ASSERTION_SECRET": "s3cr3t with spaces",
        "TOKEN": "raw $value",
        "PLAIN": "value",
        "MULTI": "line1\nline2",
    }


def test_binding_precedence_and_declared_names_only() -> None:
    expression = """m.buildEnv({
        vars: {ORIGIN_URL: "https://a", JWT_AUDIENCE: "outpost"},
        devVars: {EDGE_ASSERTION_SECRET: "from-dev-vars"},
        processEnv: {JWT_AUDIENCE: "from-env", HOME: "/root", EXTRA: "x"},
        secretNames: ["EXTRA"],
        overrides: [m.parseVarOverride("ORIGIN_URL:http://127.0.0.1:1")],
    })"""
    result = evaluate("env-bindings.mjs", {"env": expression})

    assert result["env"]["value"] == {
        "ORIGIN_URL": "http://127.0.0.1:1",
        "JWT_AUDIENCE": "from-env",
        "EDGE_ASSERTION_SECRET": "from-dev-vars",
        "EXTRA": "x",
    }


def test_a_missing_secret_is_an_error_naming_it() -> None:
    expression = (
        "m.buildEnv({vars: {}, devVars: {}, processEnv: {}, secretNames: ['EDGE_ASSERTION_SECRET'],"
        " overrides: []})"
    )
    result = evaluate("env-bindings.mjs", {"env": expression})

    assert "EDGE_ASSERTION_SECRET" in result["env"]["error"]


def test_the_upload_set_is_the_built_tree_with_the_entry_under_its_basename() -> None:
    # The wrangler.toml layout: main inside base_dir, one Data rule for JSON.
    result = evaluate(
        "upload-set.mjs",
        {
            "set": "m.collectUploadSet({moduleRoot: 'build/worker', configPath: 'wrangler.toml',"
            " entryFile: 'build/worker/worker.py',"
            " userRules: [{type: 'Data', globs: ['**/*.json']}]})",
        },
    )
    upload = result["set"]["value"]
    names = {module["name"] for module in upload["modules"]}

    assert upload["main"]["name"] == "worker.py"
    assert "worker.py" not in names
    shipped = {"shared/policies/routes.json", "shared/policies/geofence.json", "edge/pipeline.py"}
    assert shipped <= names
    assert all(name.startswith(("edge/", "shared/")) for name in names)


def test_hop_by_hop_headers_and_those_connection_names_never_reach_the_worker() -> None:
    raw = ["Connection", "close, X-Drop-Me", "X-Drop-Me", "1", "Keep-Alive", "5", "X-Keep", "2"]
    result = evaluate(
        "incoming-request.mjs",
        {"headers": f"[...m.toHeaders({json.dumps(raw)})]"},
    )

    assert result["headers"]["value"] == [["x-keep", "2"]]


def test_request_cf_is_simulated_only_by_harness_headers_which_the_worker_never_sees() -> None:
    raw = ["CF-IPCountry", "KP", "X-Harness-Cf-Country", "de", "X-Harness-Cf-Continent", "EU"]
    forged_only = ["CF-IPCountry", "KP", "CF-IPContinent", "AS"]
    result = evaluate(
        "incoming-request.mjs",
        {
            "cf": f"m.buildCf({json.dumps(raw)}, '1.1')",
            "forged": f"m.buildCf({json.dumps(forged_only)}, '1.1')",
            "headers": f"[...m.toHeaders({json.dumps(raw)})]",
        },
    )

    assert result["cf"]["value"] == {
        "httpProtocol": "HTTP/1.1",
        "country": "DE",
        "continent": "EU",
        "isEUCountry": "1",
    }
    assert result["forged"]["value"] == {"httpProtocol": "HTTP/1.1"}
    assert result["headers"]["value"] == [["cf-ipcountry", "KP"]]

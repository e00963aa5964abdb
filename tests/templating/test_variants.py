"""The answers' marks in the template: demo lines and blocks, their no-demo replacements,
template-only text, demo files and the no-demo overlay."""

from __future__ import annotations

import pytest

from templating.variants import apply_markers, keeps_file, overlay_target

APP_PY = """from origin.demo import routes as demo  # template:demo
# template:no-demo: from origin import example

ROUTES = [
    "health",
    *demo.ROUTES,  # template:demo
    # template:no-demo: *example.ROUTES,
]
"""


def test_with_the_demo_demo_lines_stay_and_the_markers_go() -> None:
    assert apply_markers("origin/app.py", APP_PY, demo=True) == (
        'from origin.demo import routes as demo\n\nROUTES = [\n    "health",\n'
        "    *demo.ROUTES,\n]\n"
    )


def test_without_the_demo_its_lines_go_and_the_replacements_are_uncommented() -> None:
    assert apply_markers("origin/app.py", APP_PY, demo=False) == (
        'from origin import example\n\nROUTES = [\n    "health",\n    *example.ROUTES,\n]\n'
    )


def test_a_demo_block_goes_whole_without_the_demo_and_only_its_markers_go_with_it() -> None:
    text = "a\n# template:demo-begin\nb\nc\n# template:demo-end\nd\n"
    assert apply_markers("x.py", text, demo=False) == "a\nd\n"
    assert apply_markers("x.py", text, demo=True) == "a\nb\nc\nd\n"


def test_template_only_text_never_reaches_an_app() -> None:
    text = (
        "# title\n<!-- template:only-begin -->\n## Start a new app\n<!-- template:only-end -->\n"
        "ci-check.sh  # template:only\nrest\n"
    )
    for demo in (True, False):
        assert apply_markers("README.md", text, demo=demo) == "# title\nrest\n"


def test_markdown_comments_mark_demo_lines() -> None:
    text = "| `origin/demo/` | the shop | <!-- template:demo -->\n| `edge/` | the edge |\n"
    assert apply_markers("README.md", text, demo=False) == "| `edge/` | the edge |\n"
    assert apply_markers("README.md", text, demo=True) == (
        "| `origin/demo/` | the shop |\n| `edge/` | the edge |\n"
    )


def test_line_endings_are_kept() -> None:
    text = "keep\r\ndemo  # template:demo\r\n# template:no-demo: lean\r\n"
    assert apply_markers("x.py", text, demo=False) == "keep\r\nlean\r\n"
    assert apply_markers("x.py", text, demo=True) == "keep\r\ndemo\r\n"


def test_demo_routes_leave_the_edge_route_table_as_valid_json() -> None:
    import json

    text = (
        '{\n  "routes": [\n    {"prefix": "/healthz", "auth": "public"},\n'
        '    {"prefix": "/api/products", "auth": "public"},\n'
        '    {"prefix": "/api/orders", "auth": "required"}\n  ]\n}\n'
    )
    lean = json.loads(apply_markers("shared/policies/routes.json", text, demo=False))
    assert lean == {"routes": [{"prefix": "/healthz", "auth": "public"}]}
    assert apply_markers("shared/policies/routes.json", text, demo=True) == text


def test_the_json_demo_lines_apply_only_to_their_file() -> None:
    text = '{"prefix": "/api/products"}\n'
    assert apply_markers("other.json", text, demo=False) == text


def test_text_without_markers_is_unchanged() -> None:
    text = "print('template: not a marker')\n# a comment about demo data\n"
    assert apply_markers("x.py", text, demo=False) == text


@pytest.mark.parametrize(
    "path",
    [
        "origin/demo/routes.py",
        "tests/origin/demo/test_orders.py",
        "origin/db/migrations/versions/0003_demo_shop.py",
    ],
)
def test_demo_files_exist_only_with_the_demo(path: str) -> None:
    assert keeps_file(path, "", demo=True)
    assert not keeps_file(path, "", demo=False)


def test_a_file_can_declare_itself_demo_only_in_its_first_lines() -> None:
    text = '"""Scenario over the shop."""  # template:demo-only\nimport x\n'
    assert keeps_file("tests/shop_scenario.py", text, demo=True)
    assert not keeps_file("tests/shop_scenario.py", text, demo=False)
    assert keeps_file("tests/shop_scenario.py", "\n" * 10 + "# template:demo-only\n", demo=False)


def test_the_demo_only_mark_is_removed_from_the_files_it_keeps() -> None:
    text = '"""Shop scenario."""  # template:demo-only\n# template:demo-only\nimport x\n'
    assert (
        apply_markers("tests/shop_scenario.py", text, demo=True)
        == '"""Shop scenario."""\nimport x\n'
    )


def test_the_template_machinerys_tests_stay_with_the_template() -> None:
    for demo in (True, False):
        assert not keeps_file("tests/templating/test_new.py", "", demo=demo)
    assert keeps_file("tests/origin/test_app.py", "", demo=False)


def test_binary_files_are_kept_by_path_alone() -> None:
    assert keeps_file("assets/logo.png", None, demo=False)


def test_overlay_files_name_their_place_in_the_app() -> None:
    assert overlay_target("templating/no_demo/origin/example.py.tmpl") == "origin/example.py"
    assert overlay_target("templating/no_demo/README") is None
    assert overlay_target("origin/example.py.tmpl") is None


def test_an_html_mark_inside_a_table_row_marks_the_row_and_leaves_no_trace() -> None:
    text = (
        "| path | holds |\n"
        "| `origin/demo/` | the shop <!-- template:demo --> |\n"
        "| `new` | a new app <!-- template:only --> |\n"
        "| `edge/` | the edge |\n"
    )
    assert apply_markers("README.md", text, demo=True) == (
        "| path | holds |\n| `origin/demo/` | the shop |\n| `edge/` | the edge |\n"
    )
    assert apply_markers("README.md", text, demo=False) == (
        "| path | holds |\n| `edge/` | the edge |\n"
    )


def test_a_markdown_line_can_exist_only_without_the_demo() -> None:
    text = "| a | b |\n<!-- template:no-demo: | `origin/example.py` | the first route | -->\n"
    assert apply_markers("README.md", text, demo=True) == "| a | b |\n"
    assert apply_markers("README.md", text, demo=False) == (
        "| a | b |\n| `origin/example.py` | the first route |\n"
    )

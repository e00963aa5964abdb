"""The pure render: template files + answers -> the app's files."""

from __future__ import annotations

from templating.names import AppName
from templating.tree import Answers, TreeFile, render

NAME = AppName("my-shop")
TEMPLATE = {
    "README.md": TreeFile(b"# outpost\n"),
    "scripts/outpost-dev": TreeFile(b"#!/bin/sh\nexec outpost dev\n", executable=True),
    "origin/app.py": TreeFile(
        b"import demo  # template:demo\n# template:no-demo: import example\n"
    ),
    "origin/demo/routes.py": TreeFile(b"ROUTES = []\n"),
    "templating/rules.py": TreeFile(b'TEMPLATE_SLUG = "outpost"\n'),
    "docs/new-app.md": TreeFile(
        b"`outpost new`\n<!-- template:only-begin -->\n## Authors\n<!-- template:only-end -->\n"
    ),
    "templating/no_demo/origin/example.py.tmpl": TreeFile(b'LOGGER = "outpost.example"\n'),
    "tests/templating/test_new.py": TreeFile(b""),
    "assets/logo.bin": TreeFile(b"\x89outpost\0"),
    "assets/latin1.txt": TreeFile("café outpost".encode("latin-1")),
}


def test_the_demo_app_renames_and_keeps_the_demo() -> None:
    app = render(TEMPLATE, Answers(NAME, demo=True))
    assert app["README.md"] == TreeFile(b"# my-shop\n")
    assert app["scripts/my-shop-dev"] == TreeFile(b"#!/bin/sh\nexec my-shop dev\n", True)
    assert app["origin/app.py"].content == b"import demo\n"
    assert "origin/demo/routes.py" in app
    assert "origin/example.py" not in app


def test_the_lean_app_has_the_example_in_place_of_the_demo() -> None:
    app = render(TEMPLATE, Answers(NAME, demo=False))
    assert app["origin/app.py"].content == b"import example\n"
    assert app["origin/example.py"].content == b'LOGGER = "my-shop.example"\n'
    assert not any(path.startswith("origin/demo/") for path in app)


def test_the_machinery_is_copied_verbatim_and_its_tests_are_left_out() -> None:
    for demo in (True, False):
        app = render(TEMPLATE, Answers(NAME, demo=demo))
        assert app["templating/rules.py"] == TEMPLATE["templating/rules.py"]
        assert (
            app["templating/no_demo/origin/example.py.tmpl"]
            == TEMPLATE["templating/no_demo/origin/example.py.tmpl"]
        )
        assert "tests/templating/test_new.py" not in app


def test_exempt_files_keep_the_template_s_name_but_not_its_marks() -> None:
    for demo in (True, False):
        app = render(TEMPLATE, Answers(NAME, demo=demo))
        assert app["docs/new-app.md"].content == b"`outpost new`\n"


def test_files_that_are_not_utf8_text_are_copied_byte_for_byte() -> None:
    app = render(TEMPLATE, Answers(NAME))
    assert app["assets/logo.bin"] == TEMPLATE["assets/logo.bin"]
    assert app["assets/latin1.txt"] == TEMPLATE["assets/latin1.txt"]


def test_rendering_is_deterministic() -> None:
    answers = Answers(NAME, demo=False)
    assert render(TEMPLATE, answers) == render(TEMPLATE, answers)

"""The parts of the template that depend on the answers: the demo shop, and template-only text.

The template stays a runnable app, so choices are marked in comments rather than templated:

* a line ending in ``template:demo`` after ``#``, or holding ``template:demo`` inside ``<!-- -->``
  anywhere (a Markdown table row keeps its closing ``|`` after the mark), exists only with the
  demo; so does a block between ``template:demo-begin`` and ``template:demo-end`` lines;
* a comment line ``template:no-demo: CODE`` (after ``#``) becomes ``CODE`` (same indentation)
  without the demo, and disappears with it: that is how the minimal example replaces the demo's
  wiring; in Markdown, an HTML comment alone on its line, ``template:no-demo: TEXT``, does the
  same;
* ``template:only`` lines and ``template:only-begin``/``-end`` blocks belong to the template
  itself (e.g. the README's "Start a new app"): no generated app has them.

Whole files go by path: :data:`DEMO_PATHS` without the demo, :data:`TEMPLATE_ONLY_PATHS` always,
and a file whose first lines say ``template:demo-only`` without the demo. Files under
:data:`NO_DEMO_OVERLAY` (named ``<path>.tmpl``) are added at ``<path>`` without the demo.
Formats without comments (JSON) use :data:`DEMO_JSON_LINES`: lines matching are demo lines.
"""

from __future__ import annotations

import re

DEMO_PATHS: tuple[str, ...] = (
    "origin/demo/",
    "tests/origin/demo/",
    "origin/db/migrations/versions/0003_demo_shop.py",
    "tests/origin/test_redis_outage.py",  # the response cache it checks caches the demo's routes
    # What the load test's shop scenarios browse. An app without the demo keeps the bench harness
    # and the WAN proxy; its loadtest/scenarios.py (NO_DEMO_OVERLAY) measures its own route.
    "loadtest/catalog.py",
    "tests/loadtest/test_locustfile.py",
    # The soak and the benchmarks that drive traffic measure the shop's mix (browse the catalog,
    # place orders).
    "loadtest/soak/",
    "loadtest/cli/soak.py",
    "tests/loadtest/soak/",
    "benchmarks/origin_throughput.py",
    "benchmarks/origin_tracing.py",
    "benchmarks/edge_overhead.py",
)
TEMPLATE_ONLY_PATHS: tuple[str, ...] = ("tests/templating/",)
NO_DEMO_OVERLAY = "templating/no_demo/"
OVERLAY_SUFFIX = ".tmpl"
DEMO_JSON_LINES: dict[str, tuple[str, ...]] = {
    "shared/policies/routes.json": (r'"prefix":\s*"/api/(?:products|orders)',),
}
DEMO_ONLY_FILE_MARKER = "template:demo-only"
_HEAD_LINES = 5  # how far into a file the demo-only marker is looked for

# A mark ends a line after "#", or sits anywhere in it as an HTML comment (Markdown table rows).
_MARK = r"\s*#\s*template:{kind}\s*$|\s*<!--\s*template:{kind}\s*-->"
_DEMO_LINE = re.compile(_MARK.format(kind="demo(?:-only)?"))
_ONLY_LINE = re.compile(_MARK.format(kind="only"))
_BLOCK = re.compile(r"^\s*(?:#|<!--)\s*template:(?P<kind>demo|only)-(?P<edge>begin|end)\b")
_NO_DEMO = re.compile(r"^(?P<indent>\s*)#\s*template:no-demo:\s?(?P<code>.*)$")
_NO_DEMO_HTML = re.compile(r"^(?P<indent>\s*)<!--\s*template:no-demo:\s?(?P<code>.*?)\s*-->\s*$")


def in_paths(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix) for prefix in prefixes)


def keeps_file(path: str, text: str | None, *, demo: bool) -> bool:
    """Whether a template file (``text`` is None for binary files) belongs in the app."""
    if in_paths(path, TEMPLATE_ONLY_PATHS):
        return False
    if demo:
        return True
    if in_paths(path, DEMO_PATHS):
        return False
    head = "\n".join((text or "").splitlines()[:_HEAD_LINES])
    return DEMO_ONLY_FILE_MARKER not in head


def overlay_target(path: str) -> str | None:
    """Where an overlay file lands in an app without the demo (None: not an overlay file)."""
    if not path.startswith(NO_DEMO_OVERLAY) or not path.endswith(OVERLAY_SUFFIX):
        return None
    return path.removeprefix(NO_DEMO_OVERLAY).removesuffix(OVERLAY_SUFFIX)


def apply_markers(path: str, text: str, *, demo: bool) -> str:
    """``text`` with the marked lines resolved for the answer ``demo`` and the markers gone."""
    json_patterns = [re.compile(pattern) for pattern in DEMO_JSON_LINES.get(path, ())]
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    open_block: str | None = None
    for line in lines:
        block = _BLOCK.match(line)
        if block:
            open_block = block["kind"] if block["edge"] == "begin" else None
            continue
        if open_block == "only" or (open_block == "demo" and not demo):
            continue
        kept_line = _resolve_line(line, demo=demo, json_patterns=json_patterns)
        if kept_line is not None:
            kept.append(kept_line)
    result = "".join(kept)
    if json_patterns and not demo:
        result = _drop_dangling_comma(result)
    return result


def _resolve_line(line: str, *, demo: bool, json_patterns: list[re.Pattern[str]]) -> str | None:
    body, ending = _split_ending(line)
    if _ONLY_LINE.search(body):
        return None
    if _DEMO_LINE.search(body):
        if not demo:
            return None
        unmarked = _DEMO_LINE.sub("", body)
        return unmarked + ending if unmarked.strip() else None  # a mark alone on its line
    no_demo = _NO_DEMO.match(body) or _NO_DEMO_HTML.match(body)
    if no_demo:
        return None if demo else no_demo["indent"] + no_demo["code"] + ending
    if not demo and any(pattern.search(body) for pattern in json_patterns):
        return None
    return line


def _split_ending(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body) :]


def _drop_dangling_comma(text: str) -> str:
    """JSON forbids a comma before a closing bracket, which removing a last entry can leave."""
    return re.sub(r",(\s*[\]}])", r"\1", text)

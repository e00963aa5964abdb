# template:demo-only
"""The FSFT comparison's decisions: how rounds become ratios, medians and verdicts, and how a
copy of FSFT is made to run on Python 3.11. (Running FSFT itself needs a clone of it: see
docs/benchmarks.md.)"""

import pytest
from fsft_comparison import (
    PAIRS,
    PY311_PATCHES,
    Pair,
    Spread,
    locked_constraints,
    patched,
    render,
    summarize,
)
from wrk import Measurement

READ = Pair("read", "/items/{id}", "/orders/{id}", True, 1.3, True)
BARE = Pair("bare", "/health", "/healthz", False, 2.0, False)


def runs(*pairs: tuple[float, float]) -> list[Measurement]:
    """Measurements from (req/s, p99 ms)."""
    return [Measurement(rps, p99 / 2, p99) for rps, p99 in pairs]


def test_each_round_has_its_own_ratio_and_the_summary_is_median_and_range() -> None:
    fsft = runs((400, 30), (500, 20), (100, 90))
    ours = runs((600, 25), (500, 30), (200, 40))

    summary = summarize(READ, fsft, ours)

    assert summary.round_ratios == (1.5, 1.0, 2.0)
    assert summary.ratio == Spread(1.5, 1.0, 2.0)
    assert summary.fsft_rps == Spread(400, 100, 500)
    assert summary.our_rps == Spread(500, 200, 600)
    assert summary.fsft_p99_ms == Spread(30, 20, 90)
    assert summary.our_p99_ms == Spread(30, 25, 40)


def test_the_ratio_is_of_medians_of_rounds_not_of_the_medians_of_each_app() -> None:
    # Round by round outpost is twice as fast; the apps' own medians would say 1.5x.
    summary = summarize(
        BARE, runs((100, 1), (200, 1), (400, 1)), runs((200, 1), (300, 1), (800, 1))
    )

    assert summary.ratio.median == 2.0


def test_a_target_is_met_at_the_ratio_and_with_a_p99_no_worse() -> None:
    fsft = runs((400, 30), (400, 30), (400, 30))

    assert summarize(READ, fsft, runs((520, 30), (520, 29), (520, 31))).met
    assert not summarize(READ, fsft, runs((516, 20), (516, 20), (516, 20))).met  # 1.29x
    assert not summarize(READ, fsft, runs((800, 31), (800, 31), (800, 31))).met  # p99 worse


def test_the_bare_pair_asks_for_speed_only() -> None:
    summary = summarize(BARE, runs((1000, 5)), runs((2000, 50)))

    assert summary.met
    assert summary.target == ">= 2x"


def test_rounds_must_pair_up() -> None:
    with pytest.raises(ValueError, match="both apps"):
        summarize(READ, runs((400, 30), (400, 30)), runs((400, 30)))


def test_the_report_shows_every_round_and_the_verdict() -> None:
    summaries = [
        summarize(READ, runs((400, 30), (400, 30)), runs((400, 30), (800, 20))),
        summarize(BARE, runs((1000, 5), (1000, 5)), runs((3000, 5), (3000, 5))),
    ]

    report = render(summaries, "heading")

    read_row, bare_row = report.splitlines()[-2:]
    assert read_row.startswith("| read | 400 (400-400) | 600 (400-800) | 1.50x (1.00-2.00) |")
    assert "| 1.00 2.00 |" in read_row
    assert read_row.endswith("| >= 1.3x, p99 no worse | met |")
    assert bare_row.endswith("| >= 2x | met |")
    assert report.startswith("heading\n")


def test_the_pairs_are_the_issues_three_with_its_targets() -> None:
    assert [(p.fsft_path, p.our_path, p.target_ratio, p.p99_no_worse) for p in PAIRS] == [
        ("/api/v1/utils/health-check/", "/healthz", 2.0, False),
        ("/api/v1/items/{id}", "/api/orders/{id}", 1.3, True),
        ("/api/v1/items/?limit=20", "/api/orders?limit=20", 1.3, True),
    ]


# The lines as FSFT's backend has them (Python 3.14 syntax and semantics).
FSFT_DEPS = """\
try:
    payload = jwt.decode(token, settings.SECRET_KEY, algorithms=[security.ALGORITHM])
except InvalidTokenError, ValidationError:
    raise HTTPException(status_code=403)
"""
FSFT_MODELS = """\
class User(UserBase, table=True):
    items: list[Item] = Relationship(back_populates="owner", cascade_delete=True)
"""


def test_the_311_patches_parenthesise_the_except_and_quote_the_forward_reference() -> None:
    deps, models = PY311_PATCHES

    assert patched(FSFT_DEPS, deps) == FSFT_DEPS.replace(
        "except InvalidTokenError, ValidationError:", "except (InvalidTokenError, ValidationError):"
    )
    assert patched(FSFT_MODELS, models) == FSFT_MODELS.replace("list[Item]", 'list["Item"]')
    for source, patch in ((FSFT_DEPS, deps), (FSFT_MODELS, models)):
        compile(patched(source, patch) or "", patch.path, "exec")  # valid on this Python


def test_a_patch_the_text_does_not_need_is_not_applied() -> None:
    deps, models = PY311_PATCHES

    assert patched(patched(FSFT_DEPS, deps) or "", deps) is None
    assert patched("class User(UserBase, table=True):\n    pass\n", models) is None


def test_only_the_request_path_packages_are_pinned_from_the_lock() -> None:
    lock = {
        "package": [
            {"name": "fastapi", "version": "0.141.1"},
            {"name": "uvicorn", "version": "0.49.0"},
            {"name": "puremagic", "version": "2.2.0"},  # 3.12+ only: left to pip
            {"name": "app", "source": {"editable": "."}},  # the project itself
        ]
    }

    assert locked_constraints(lock) == ["fastapi==0.141.1", "uvicorn==0.49.0"]

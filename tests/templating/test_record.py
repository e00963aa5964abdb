"""The record of a generated app's template and answers."""

from __future__ import annotations

import json

import pytest

from templating.errors import TemplateError
from templating.names import AppName
from templating.record import TemplateRecord
from templating.tree import Answers

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RECORD = TemplateRecord("/srv/outpost", COMMIT, Answers(AppName("my-shop"), demo=False))


def test_a_record_survives_a_round_trip() -> None:
    assert TemplateRecord.from_json(RECORD.to_json()) == RECORD


def test_the_record_is_plain_reviewable_json() -> None:
    assert json.loads(RECORD.to_json()) == {
        "version": 1,
        "template": {"source": "/srv/outpost", "commit": COMMIT},
        "answers": {"name": "my-shop", "demo": False},
    }


def test_moving_to_a_new_commit_keeps_source_and_answers() -> None:
    moved = RECORD.at("f" * 40)
    assert (moved.source, moved.commit, moved.answers) == (RECORD.source, "f" * 40, RECORD.answers)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("not json", "not a valid record"),
        ("[]", "not a valid record"),
        ('{"version": 1}', "not a valid record"),
        (RECORD.to_json().replace('"version": 1', '"version": 9'), "version 9"),
        (RECORD.to_json().replace(COMMIT, "main"), "full commit id"),
        (RECORD.to_json().replace('"/srv/outpost"', '""'), "non-empty string"),
        (RECORD.to_json().replace('"my-shop"', '"My Shop"'), "valid name"),
        (RECORD.to_json().replace("false", '"no"'), "valid name and demo"),
    ],
)
def test_a_damaged_record_is_refused_with_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(TemplateError, match=complaint):
        TemplateRecord.from_json(text)

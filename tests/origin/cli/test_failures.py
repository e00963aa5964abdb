"""The origin's rule for the command's one-line failures: its settings, its database."""

from __future__ import annotations

from origin.cli.failures import known_failure
from origin.db.migrate import DatabaseNotMigrated
from origin.settings import SettingsError
from shared.cli.failures import BAD_SETTING, FAILED


def test_a_bad_setting_is_a_configuration_error_with_its_own_status() -> None:
    failure = known_failure(SettingsError("OUTPOST_PORT='http': not a number"))

    assert failure is not None
    assert failure.exit_status == BAD_SETTING
    assert str(failure).startswith("configuration error: OUTPOST_PORT")


def test_an_unmigrated_database_says_what_to_run() -> None:
    failure = known_failure(DatabaseNotMigrated(None, "0002", known=False))

    assert failure is not None
    assert failure.exit_status == FAILED
    assert str(failure).startswith("the database has no schema yet")
    assert str(failure).endswith("db upgrade`")


def test_errors_of_other_packages_are_not_the_origins() -> None:
    from edge.config import ConfigError

    assert known_failure(ConfigError("ORIGIN_URL is required")) is None
    assert known_failure(KeyError("a bug")) is None

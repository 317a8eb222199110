"""`manage.py check` reports nothing on the database it runs on: a new user's `make run`
(SQLite) and production (PostgreSQL) start without warnings."""

from io import StringIO

from django.core.management import call_command


def test_check_reports_no_issues(db):
    out, err = StringIO(), StringIO()
    call_command("check", databases=["default"], stdout=out, stderr=err)
    assert err.getvalue() == ""
    # SQLite silences one warning (settings.SILENCED_SYSTEM_CHECKS), PostgreSQL none.
    assert out.getvalue().strip() in {
        "System check identified no issues (0 silenced).",
        "System check identified no issues (1 silenced).",
    }


def test_the_silenced_warning_is_only_sqlites_include(settings):
    assert settings.SILENCED_SYSTEM_CHECKS == ["models.W040"]

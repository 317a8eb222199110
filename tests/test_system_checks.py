"""`manage.py check` reports nothing on the database it runs on: a new user's `make run`
(SQLite) and production (PostgreSQL) start without warnings. The one warning silenced
(settings.SILENCED_SYSTEM_CHECKS) is SQLite's, for the INCLUDE columns it ignores."""

from io import StringIO

from django.core import checks
from django.core.management import call_command
from django.db import connection

from treatments.models import PairCertainty


def test_check_reports_no_issues(db):
    out, err = StringIO(), StringIO()
    call_command("check", databases=["default"], stdout=out, stderr=err)
    assert err.getvalue() == ""
    silenced = 1 if connection.vendor == "sqlite" else 0
    assert out.getvalue().strip() == f"System check identified no issues ({silenced} silenced)."


def test_the_silenced_warning_is_only_the_covering_index_sqlite_ignores(db):
    # run_checks gives silenced messages too (the command leaves them out).
    messages = checks.run_checks(include_deployment_checks=False, databases=["default"])
    shown = [(message.id, message.obj) for message in messages]
    if connection.vendor == "sqlite":
        assert shown == [("models.W040", PairCertainty)]
    else:
        assert shown == []

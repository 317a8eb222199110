"""The test database made by copying one migrated template instead of migrating again
(docs/performance.md, "The test suite's time").

`make test` needs three test databases: one per pytest-xdist worker, then one for the
contract tests run afterwards in one process. Migrating costs about 13 s of CPU each
(46 migrations; on SQLite many of them rebuild a table per added field or constraint).
The first process to need a database migrates a template under a lock; every process,
that one included, then copies it: PostgreSQL's ``CREATE DATABASE … TEMPLATE``, or
SQLite's backup API into the usual in-memory test database. The copy is the migrated
database, page for page, with what the post_migrate receivers added (the groups and
their permissions, the SQLite trigram indexes).

The template is kept between runs under a name that holds a digest of everything a
migration could depend on: the project's own code (migrations, models, the post_migrate
receivers) and the versions of the installed distributions (Django's and the other
apps' migrations). Any change makes a new template; the stale ones of the same
database are dropped when it is made. PostgreSQL: ``test_<name>_tpl_<digest>`` beside
the test databases; SQLite: a file in the temporary directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

PROJECT_PACKAGES = ("mecfs_kb", "curation", "findings", "treatments")


def digest() -> str:
    """What the migrated schema and its rows could depend on."""
    h = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for package in PROJECT_PACKAGES:
        for path in sorted((base / package).rglob("*.py")):
            h.update(str(path.relative_to(base)).encode())
            h.update(path.read_bytes())
    # A set: a checkout's own egg-info can be found twice, depending on sys.path.
    versions = sorted(
        {f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()}
    )
    h.update("\n".join(versions).encode())
    return h.hexdigest()[:12]


@contextlib.contextmanager
def _file_lock(name: str) -> Iterator[None]:
    path = Path(tempfile.gettempdir()) / f"{name}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate_into(connection, test_name: str, verbosity: int) -> None:
    """Django's own test database creation (``create_test_db``: create, migrate with the
    post_migrate receivers), into ``test_name``; the settings' NAME is left pointing at
    it."""
    connection.settings_dict["TEST"]["NAME"] = test_name
    connection.creation.create_test_db(
        verbosity=verbosity, autoclobber=True, serialize=False, keepdb=False
    )


def _point_at(connection, name: str) -> None:
    """What ``create_test_db`` does once the database exists: the settings name it."""
    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name


def create_test_db(connection, verbosity: int = 0) -> str:
    """Makes the test database of ``connection`` as a copy of the template (migrated
    first if there is none yet) and points the settings at it, like Django's
    ``create_test_db``. Returns the name it replaced, for ``teardown_databases``."""
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation._get_test_db_name()
    if connection.vendor == "postgresql":
        # One template for all the workers' databases (test_<name>_gw0, _gw1, …).
        template = f"test_{old_name}_tpl_{digest()}"
        _postgresql_copy(connection, test_name, template, verbosity)
    else:
        _sqlite_copy(connection, test_name, verbosity)
    # The rest of Django's create_test_db, in its order.
    call_command("createcachetable", database=connection.alias)
    connection.ensure_connection()
    return old_name


# --- PostgreSQL ------------------------------------------------------------------------------


def _postgresql_copy(connection, test_name: str, template: str, verbosity: int) -> None:
    # The lock is the database server's, so it holds across processes; it is taken on
    # the maintenance database ("postgres"), where no test database is in use.
    key = int(hashlib.sha256(template.encode()).hexdigest()[:15], 16)
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            if cursor.fetchone() is None:
                _postgresql_make_template(connection, cursor, template, verbosity)
            quoted = connection.ops.quote_name
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted(test_name)}")
            cursor.execute(f"CREATE DATABASE {quoted(test_name)} TEMPLATE {quoted(template)}")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    _point_at(connection, test_name)


def _postgresql_make_template(connection, cursor, template: str, verbosity: int) -> None:
    quoted = connection.ops.quote_name
    # Migrated under a temporary name and renamed once complete: a template that
    # exists is a whole one, even if a run was stopped halfway through.
    building = f"{template}_building"
    saved = connection.settings_dict["NAME"], connection.settings_dict["TEST"].get("NAME")
    try:
        _migrate_into(connection, building, verbosity)
    finally:
        connection.close()
        settings.DATABASES[connection.alias]["NAME"] = saved[0]
        connection.settings_dict["NAME"] = saved[0]
        connection.settings_dict["TEST"]["NAME"] = saved[1]
    cursor.execute(f"ALTER DATABASE {quoted(building)} RENAME TO {quoted(template)}")
    # Templates of this test database made from other code: they will not be used again.
    prefix = template[: template.rindex("_tpl_") + len("_tpl_")]
    cursor.execute(
        "SELECT datname FROM pg_database WHERE starts_with(datname, %s) AND datname <> %s",
        [prefix, template],
    )
    for (stale,) in cursor.fetchall():
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted(stale)}")


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_copy(connection, test_name: str, verbosity: int) -> None:
    folder = Path(tempfile.gettempdir())
    # One per checkout and database alias: checkouts of other code keep their own.
    checkout = hashlib.sha256(str(settings.BASE_DIR).encode()).hexdigest()[:8]
    stem = f"mecfs_kb_test_template_{checkout}_{connection.alias}"
    template = folder / f"{stem}_{digest()}.sqlite3"
    # Copied under the lock too: no stale template is removed while it is read.
    with _file_lock(stem):
        if not template.exists():
            # Migrated the usual way, in this process's test database, then saved.
            _migrate_into(connection, test_name, verbosity)
            building = template.with_suffix(".building")
            building.unlink(missing_ok=True)
            target = sqlite3.connect(building)
            try:
                connection.ensure_connection()
                connection.connection.backup(target)
            finally:
                target.close()
            os.replace(building, template)
            for stale in folder.glob(f"{stem}_*.sqlite3"):
                if stale != template:
                    stale.unlink(missing_ok=True)
            return
        # Django's own creation of the empty in-memory (or file) test database, then
        # the template's pages copied into it.
        connection.creation._create_test_db(verbosity, autoclobber=True, keepdb=False)
        _point_at(connection, test_name)
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{template}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()

"""Record history (django-simple-history), as every curated model keeps it."""

from __future__ import annotations

import functools

from django.db import connections
from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords
from simple_history.signals import (
    post_create_historical_m2m_records,
    pre_create_historical_m2m_records,
)


class History(HistoricalRecords):
    """simple_history's ``HistoricalRecords``, for every curated model, with two costs of
    each save cut (issue 14):

    - ``record.history`` (which simple_history reads on every save, for the history
      model) makes the manager's class once (``ManagerClassOnce``), not on every access;
    - the copy of the chosen many-to-many links kept with every historical row is made
      more cheaply: not at all for a row just inserted (its "+" history row: no link can
      name a row that did not exist a moment ago, so the read always found nothing;
      links set right after the insert are kept by the next history row, as before);
      otherwise by the database, one ``INSERT … SELECT`` per link field
      (``copy_links_sql``): the link table's rows, columns as they are, each with the
      new history row's id. simple_history read every link into Python, both linked
      records joined and built, then inserted them again; the copy keeps the same ids.
      Where something listens to simple_history's signals about these rows (nothing in
      this project does), they are read and inserted as rows, as before, so that the
      listeners get them.
    """

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                ManagerClassOnce(
                    descriptor.model,
                    manager=descriptor.manager_class,
                    queryset=descriptor.queryset_class,
                ),
            )

    def create_historical_record_m2ms(self, history_instance, instance):
        if history_instance.history_type == "+":
            return
        listened = pre_create_historical_m2m_records.has_listeners() or (
            post_create_historical_m2m_records.has_listeners()
        )
        fields = history_instance._history_m2m_fields
        if listened:
            for field in fields:
                self._copy_links_as_rows(self.m2m_models[field], field, history_instance, instance)
            return
        if not fields:
            return
        alias = history_instance._state.db
        statements = [copy_links_sql(alias, self.m2m_models[field], field) for field in fields]
        parameters = [history_instance.pk, instance.pk]
        with connections[alias].cursor() as cursor:
            if connections[alias].vendor == "postgresql" and len(statements) > 1:
                # One round trip for every link field: the copies but the last run as
                # data-modifying WITH queries of the last (PostgreSQL runs each whole).
                *first, last = statements
                withs = ", ".join(f"copy_{n} AS ({sql})" for n, sql in enumerate(first))
                cursor.execute(f"WITH {withs} {last}", parameters * len(statements))
            else:
                for sql in statements:
                    cursor.execute(sql, parameters)

    def _copy_links_as_rows(self, m2m_history_model, field, history_instance, instance):
        through_model = field.remote_field.through
        columns = [f.attname for f in through_model._meta.fields]
        links = through_model._default_manager.filter(**{field.m2m_field_name(): instance}).values(
            *columns
        )
        insert_rows = [m2m_history_model(history=history_instance, **link) for link in links]
        about = {
            "sender": m2m_history_model,
            "history_instance": history_instance,
            "instance": instance,
            "field": field,
        }
        pre_create_historical_m2m_records.send(rows=insert_rows, **about)
        created_rows = m2m_history_model.objects.bulk_create(insert_rows)
        post_create_historical_m2m_records.send(created_rows=created_rows, **about)


@functools.cache
def copy_links_sql(alias: str, m2m_history_model, field) -> str:
    """``INSERT INTO <kept links> (<the link table's columns>, history) SELECT <those
    columns>, %s FROM <link table> WHERE <its column to the record> = %s``: the record's
    links, copied into the history of links with the id of the history row (first
    parameter) of the record (second)."""
    quote = connections[alias].ops.quote_name
    through = field.remote_field.through
    columns = [f.column for f in through._meta.fields]
    history_column = m2m_history_model._meta.get_field("history").column
    kept = ", ".join(quote(c) for c in [*columns, history_column])
    read = ", ".join(quote(c) for c in columns)
    return (
        f"INSERT INTO {quote(m2m_history_model._meta.db_table)} ({kept}) "
        f"SELECT {read}, %s FROM {quote(through._meta.db_table)} "
        f"WHERE {quote(field.m2m_column_name())} = %s"
    )


class ManagerClassOnce(HistoryDescriptor):
    """simple_history's descriptor of ``Model.history``, making its manager's class
    (``HistoryManager.from_queryset(HistoricalQuerySet)``, a new class every time) once
    per model instead of on every access: simple_history reads ``record.history`` on
    every save to find the history model, and a class costs about 0.1 ms to make. The
    manager it returns is the same kind, for the same record."""

    def __get__(self, instance, owner):
        manager_class = self.__dict__.get("_manager_class")
        if manager_class is None:
            manager_class = self._manager_class = self.manager_class.from_queryset(
                self.queryset_class
            )
        return manager_class(self.model, instance)

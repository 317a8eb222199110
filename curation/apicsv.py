"""CSV on every list of the API: ``Accept: text/csv`` or ``?format=csv`` answers every
row the filters select (not one page), streamed a chunk at a time, through the project's
one CSV writer (curation/csvfile.py), so no cell reaches a spreadsheet as a formula.

The columns are the list's own JSON fields, in order: a nested object becomes one column
per field (``citation.doi``), a list of plain values one cell joined with "; ", a list of
objects one cell of JSON. ``page`` and ``page_size`` do not apply. Errors (a bad filter)
keep the API's JSON error body.

Constant memory: rows are read with ``QuerySet.iterator(chunk_size=…)`` (a server-side
cursor on PostgreSQL), serialised ``csv_chunk_size`` at a time, and written as they go,
so neither the rows nor the text of the file are ever held whole. Queries: the list's
own (one, plus its prefetches per chunk), plus what the viewset attaches per chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

from curation.csvfile import csv_stream
from curation.versions import data_version_of

CSV_MEDIA_TYPE = "text/csv"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class CSVRenderer(BaseRenderer):
    """Chosen by content negotiation for a list; the list answers with a streamed
    response of its own (``CSVListMixin``), so this renders nothing but a fallback."""

    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Errors are switched to the JSON renderer (CSVListMixin.finalize_response).
        return b""


Column = tuple[str, tuple[str, ...]]


def csv_columns(serializer: serializers.Serializer, prefix: tuple[str, ...] = ()) -> list[Column]:
    """(header, path) per column: the serializer's readable fields in order, a nested
    object's fields flattened as ``name.field``."""
    columns: list[Column] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        path = (*prefix, name)
        if isinstance(field, serializers.Serializer):  # one nested object, not a list
            columns.extend(csv_columns(field, path))
        else:
            columns.append((".".join(path), path))
    return columns


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def csv_cell(value: Any) -> Any:
    """One JSON value as one cell: null empty, booleans as JSON writes them, a list of
    plain values joined with "; ", anything else nested as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(_plain(item) for item in value):
        return "; ".join(str(item) for item in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _walk(row: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(row, dict):
            return None
        row = row.get(key)
    return row


class CSVListMixin:
    """For an API viewset: its list answers CSV too. Rows a page needs more than its
    queryset for (summaries, links) are added by ``prepare_rows``, per chunk."""

    csv_chunk_size = 500

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "list":
            renderers = [*renderers, CSVRenderer()]
        return renderers

    def wants_csv(self) -> bool:
        return isinstance(getattr(self.request, "accepted_renderer", None), CSVRenderer)

    def list(self, request, *args, **kwargs):
        if not self.wants_csv():
            return super().list(request, *args, **kwargs)
        # Filters are checked here, before anything is sent: a bad one is a JSON 400.
        # So are page and page_size, though a CSV list sends every row.
        if self.paginator is not None and hasattr(self.paginator, "parameters_check"):
            self.paginator.parameters_check(request)
        queryset = self.filter_queryset(self.get_queryset())
        columns = csv_columns(self.get_serializer())
        number = data_version_of(request).number
        response = StreamingHttpResponse(
            csv_stream(
                fieldnames=[header for header, _path in columns],
                chunks=self._csv_chunks(queryset, columns),
            ),
            content_type=CSV_CONTENT_TYPE,
        )
        name = request.path.rstrip("/").rsplit("/", 1)[-1]
        response["Content-Disposition"] = f'attachment; filename="{name}-v{number}.csv"'
        return response

    def _csv_chunks(self, queryset, columns: list[Column]) -> Iterator[Iterator[dict]]:
        size = self.csv_chunk_size
        rows = queryset.iterator(chunk_size=size)
        while chunk := list(islice(rows, size)):
            self.prepare_rows(chunk)
            data = self.get_serializer(chunk, many=True).data
            yield ({header: csv_cell(_walk(row, path)) for header, path in columns} for row in data)

    def prepare_rows(self, rows: list) -> None:
        """What a page of rows (or a chunk of a CSV file) needs beyond its queryset."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(
            getattr(response, "accepted_renderer", None), CSVRenderer
        ):
            json_renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()
            response.accepted_renderer = json_renderer
            response.accepted_media_type = json_renderer.media_type
        return response


class CSVSchemaMixin:
    """For the schema class: a list documents ``text/csv`` beside JSON for its 200, and
    every other response (errors included) stays JSON only."""

    def _has_csv(self) -> bool:
        return any(isinstance(r, CSVRenderer) for r in self.view.get_renderers())

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if not media_types:
            media_types = [m for m in self.map_renderers("media_type") if m != CSV_MEDIA_TYPE]
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if getattr(self.view, "action", None) == "list" and self._has_csv() and "200" in responses:
            ok = responses["200"]
            ok.setdefault("content", {})[CSV_MEDIA_TYPE] = {"schema": {"type": "string"}}
            ok["description"] = (
                f"{ok.get('description') or 'The page.'} With `Accept: text/csv` or "
                "`?format=csv`: every row the filters select (not one page), streamed as "
                "CSV; one column per field, nested objects as `name.field` columns, lists "
                "joined with `; ` (lists of objects as JSON); cells that start like a "
                "spreadsheet formula get a leading `'`."
            )
        return responses

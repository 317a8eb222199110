"""What every public list page shares: filters read from the URL by one FilterSet, a
status 400 page naming the parameter and the reason for bad input, pagination that
refuses nonsense instead of failing, and CSV/JSON downloads of the same filtered rows;
and, for detail pages, the few most recent retractions they show apart.

Lives in findings (below treatments) so that both apps' list views can use it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Model, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.text import Truncator
from django_filters.views import FilterView

from curation.cache import public_count
from curation.csvfile import BOM, csv_stream
from curation.pages import InputError, page_number_check
from curation.statements import template_list
from curation.versions import data_version_of

EXPORT_FORMATS = ("csv", "json")
# Retractions are rare: a page lists the most recent few, each with its reason.
RETRACTED_SHOWN = 20
# Downloads in constant memory (issue 14): a list's rows are read this many at a time
# (one query, read in chunks; each chunk's own queries, such as its summaries), fewer
# where a row reads many objects (ReaderListView.export_row_weight) ...
EXPORT_CHUNK_ROWS = 1000
# ... and a file up to this many characters is answered whole; a larger one streams: its
# first bytes leave at once and memory holds one chunk. Either way the response cache
# keeps it until the next publish (a streamed one in pieces: mecfs_kb/response_cache.py),
# and the warm after a publish fills it (mecfs_kb/warm.py). A file answered whole is held
# three times over (its lines, the text, the bytes): the therapy list at 500,000 evidence
# items (3.4 MB) streams, as it did not when this bound was 8 MB (issue 14, part 5).
EXPORT_WHOLE_CHARS = 1_000_000
# A streamed file is written in pieces of about this size, not a write per row.
EXPORT_PIECE_CHARS = 64_000


def form_errors(form) -> list[InputError]:
    """A bound form's (or a FilterSet's form's) errors, one per parameter and reason."""
    errors = []
    for name, messages in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else name
        for message in messages:
            # Messages may echo the value given: a 5,000-character value stays short, and
            # control characters (NUL …) are shown as U+FFFD rather than sent raw.
            message = "".join(ch if ch.isprintable() else "\ufffd" for ch in str(message))
            errors.append(InputError(name, label, Truncator(message).chars(240)))
    return errors


# Most recently retracted first (the review date is when it was retracted).
RETRACTED_ORDER = (F("reviewed_at").desc(nulls_last=True), F("pk").desc())


def _most_recent(retracted):
    return retracted.order_by(*RETRACTED_ORDER)[: RETRACTED_SHOWN + 1]


def recently_retracted(retracted) -> tuple[list, bool]:
    """The RETRACTED_SHOWN most recently retracted records of ``retracted`` (a
    queryset), and whether there are more: one query, whatever their number."""
    items = list(_most_recent(retracted))
    return items[:RETRACTED_SHOWN], len(items) > RETRACTED_SHOWN


def recently_retracted_kept(key: tuple, build, values: list, alias: str) -> tuple[list, bool]:
    """``recently_retracted(build(values))``, by a statement compiled once
    (curation/statements.py ``template_list``)."""
    # The key names the number read, which the SQL holds.
    key = (*key, RETRACTED_SHOWN)
    items = template_list(key, lambda v: _most_recent(build(v)), values, alias)
    return items[:RETRACTED_SHOWN], len(items) > RETRACTED_SHOWN


def recently_retracted_holds(retracted, pk: int) -> bool:
    """Whether ``recently_retracted(retracted)`` lists the record ``pk``: one query."""
    shown = retracted.order_by(*RETRACTED_ORDER).values_list("pk", flat=True)[:RETRACTED_SHOWN]
    return pk in list(shown)


def _csv_value(value: Any) -> Any:
    """A list (aliases, abnormalities) as one cell; csv_write makes it formula-safe."""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return value


# Modifiers of other filters, not filters of their own: "any/all" of the ticked
# abnormalities, and the order of the list.
NOT_COUNTED_AS_FILTERS = ("match", "sort")


def active_filters(form) -> list[str]:
    """What the reader chose, one short phrase per choice (each ticked box counts), for
    the folded filter panel's summary: "Low NK cell cytotoxicity; Evidence level: B or
    better". Read from the validated form: no query."""
    chosen = getattr(form, "cleaned_data", None) or {}
    phrases = []
    for name, field in form.fields.items():
        value = chosen.get(name)
        if name in NOT_COUNTED_AS_FILTERS or value in (None, "", [], ()):
            continue
        if isinstance(value, Model):
            value = [value]
        if hasattr(value, "model") or (
            isinstance(value, list) and value and isinstance(value[0], Model)
        ):
            # Chosen records (abnormalities, therapies): their names, without a query.
            phrases.extend(str(record) for record in value)
            continue
        labels = dict(getattr(field, "choices", ()))
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if name == "q":
                phrases.append(f"name contains “{item}”")
            else:
                phrases.append(f"{field.label}: {labels.get(item, item)}")
    return phrases


class ReaderListView(FilterView):
    """A public list: ``?<filters>&page=N`` renders HTML, ``&format=csv|json`` downloads
    every row the same filters select (not just one page)."""

    paginate_by = 25
    export_formats: tuple[str, ...] = EXPORT_FORMATS
    export_basename = ""
    export_fields: tuple[str, ...] = ()
    # How many objects one record's download row reads, roughly: a chunk holds
    # ``EXPORT_CHUNK_ROWS`` of them (a therapy's row reads its pairs, dozens at scale).
    export_row_weight = 1

    def export_rows(self, object_list) -> list[dict[str, Any]]:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.input_errors: list[InputError] = []
        self.filterset = self.get_filterset(self.get_filterset_class())
        export = request.GET.get("format", "")
        if export not in ("", *self.export_formats):
            names = [*self.export_formats]
            self.input_errors.append(
                InputError(
                    "format",
                    "Download format",
                    f"must be {', '.join(names[:-1])} or {names[-1]}.",
                )
            )
        # Without any parameter the FilterSet is unbound: the whole list, unfiltered.
        if not self.filterset.is_bound or self.filterset.is_valid():
            self.object_list = self.filterset.qs
        else:
            self.input_errors.extend(form_errors(self.filterset.form))
            self.object_list = self.filterset.queryset.none()
        if export and not self.input_errors:
            return self.export(export)
        context = self.get_context_data(filter=self.filterset, object_list=self.object_list)
        context["input_errors"] = self.input_errors
        context["active_filters"] = active_filters(self.filterset.form)
        return self.render_to_response(context, status=400 if self.input_errors else 200)

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        if not self.request.user.is_authenticated:
            # Every reader sees the same published rows: the count is kept until the
            # next publish instead of a COUNT(*) per page view.
            paginator.count = public_count(queryset)
        number, error = page_number_check(self.request.GET.get(self.page_kwarg, ""), paginator)
        if error:
            self.input_errors.append(error)
        page = paginator.page(number)
        return paginator, page, page.object_list, page.has_other_pages()

    def export(self, export_format: str) -> HttpResponse | StreamingHttpResponse:
        object_list = self.object_list

        def count() -> int:
            if self.request.user.is_authenticated:
                return object_list.count()
            return public_count(object_list)

        return export_response(
            self.request,
            rows=chain.from_iterable(
                self.export_rows(chunk)
                for chunk in export_chunks(
                    object_list, max(1, EXPORT_CHUNK_ROWS // self.export_row_weight)
                )
            ),
            fields=self.export_fields,
            basename=self.export_basename,
            export_format=export_format,
            count=count,
        )


def export_chunks(object_list: QuerySet, size: int | None = None) -> Iterator[list]:
    """The list's records, ``size`` at a time (``EXPORT_CHUNK_ROWS``), in its order: one
    query read in chunks (a server-side cursor on PostgreSQL), prefetches per chunk."""
    size = size or EXPORT_CHUNK_ROWS
    records = object_list.iterator(chunk_size=size)
    while chunk := list(islice(records, size)):
        yield chunk


def _csv_lines(rows: Iterable[dict[str, Any]], fields) -> Iterator[str]:
    """A byte-order mark, then ``csv_stream``'s header and each row's line, every cell
    formula-safe (the same text as curation.csvfile.csv_write, a line at a time)."""
    yield BOM
    yield from csv_stream(
        fieldnames=fields,
        chunks=([{key: _csv_value(value) for key, value in row.items()}] for row in rows),
    )


def _json_rows(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Each row as ``json.dumps(..., indent=1)`` writes it two levels down (inside
    ``results``), so that the file is byte for byte what JsonResponse wrote whole."""
    for row in rows:
        text = json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)
        # No line of JSON is blank (a newline inside a string is written \n).
        yield textwrap.indent(text, "  ")


def _json_file(count: int, data_version: int, rows: Iterable[str]) -> Iterator[str]:
    yield f'{{\n "count": {count},\n "data_version": {data_version},\n "results": ['
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + row
        first = False
    yield "]\n}" if first else "\n ]\n}"


def _pieces(texts: Iterable[str]) -> Iterator[str]:
    piece: list[str] = []
    size = 0
    for text in texts:
        piece.append(text)
        size += len(text)
        if size >= EXPORT_PIECE_CHARS:
            yield "".join(piece)
            piece, size = [], 0
    if piece:
        yield "".join(piece)


def export_response(
    request,
    *,
    rows: Iterable[dict[str, Any]],
    fields,
    basename: str,
    export_format: str,
    count: Callable[[], int] | None = None,
) -> HttpResponse | StreamingHttpResponse:
    """``rows`` as a CSV (UTF-8 with a byte-order mark, for spreadsheets) or JSON file.

    Rows are read as they come: a file of up to ``EXPORT_WHOLE_CHARS`` is answered whole,
    a larger one streams (``StreamingHttpResponse``), with the same bytes. A streamed
    JSON file starts with its ``count``: ``count()`` gives it (default: the rows are
    counted as they are read, which holds them all)."""
    # The data version the rows show: in the file name and, for JSON, the body
    # (X-Data-Version carries it too). A CSV file keeps plain rows for its parsers.
    data_version = data_version_of(request).number
    filename = f"{basename}-v{data_version}.{export_format}"
    json_file = export_format == "json"
    texts = _json_rows(rows) if json_file else _csv_lines(rows, fields)
    head: list[str] = []
    size = 0
    for text in texts:
        head.append(text)
        size += len(text)
        if size > EXPORT_WHOLE_CHARS and (count is not None or not json_file):
            break
    else:
        # Read to the end within the bound: the whole file at once.
        body = _json_file(len(head), data_version, head) if json_file else head
        response = HttpResponse(
            "".join(body),
            content_type="application/json" if json_file else "text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    rest = chain(head, texts)
    response = StreamingHttpResponse(
        _pieces(_json_file(count(), data_version, rest) if json_file else rest),
        content_type="application/json" if json_file else "text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# The columns of every detail page's evidence download (therapy, pair, abnormality):
# one row per item the page lists, in its order, with the group the page puts it in.
EVIDENCE_EXPORT_FIELDS = (
    "kind",
    "group",
    "id",
    "therapy",
    "abnormality",
    "lab_test",
    "level",
    "direction",
    "counted_as",
    "contested",
    "statement",
    "study_design",
    "participants",
    "source",
    "source_year",
    "doi",
    "pmid",
    "source_page",
    "url",
    # Rows of kind "pair" (an abnormality page's ranking of therapies): the pair's
    # stored counts, as every page shows them.
    "supporting",
    "not_supporting",
    "other",
)


def claim_row(
    request, claim, *, kind: str, group: str, counted_as: str, anchor: str, page: int = 1, **more
):
    """One claim (a finding or an evidence item) as a download row; ``url`` is where the
    page downloaded shows it: that page (``page``, of a page with pages) at ``anchor``."""
    query = f"?page={page}" if page > 1 else ""
    source = claim.source
    # 'Fluge 2019', as readers read it (an organisation or title when no author).
    source_name = f"{source.first_author or source.container or source.title} {source.year or ''}"
    row = dict.fromkeys(EVIDENCE_EXPORT_FIELDS, "")
    row.update(
        kind=kind,
        group=group,
        id=claim.pk,
        level=claim.level,
        direction=claim.direction,
        counted_as=counted_as,
        statement=claim.statement,
        study_design=claim.study_design,
        participants=claim.participants,
        source=source_name.strip(),
        source_year=source.year or "",
        doi=source.doi,
        pmid=source.pmid,
        source_page=request.build_absolute_uri(source.get_absolute_url()),
        url=request.build_absolute_uri(f"{request.path}{query}#{anchor}"),
    )
    row.update(more)
    return row


class DetailDownloadMixin:
    """A detail page that also downloads what it lists: ``?format=csv|json`` gives the
    rows ``download_rows(context)`` builds from the very context the page renders (the
    same items, in the same groups and order)."""

    download_fields: tuple[str, ...] = EVIDENCE_EXPORT_FIELDS

    def download_basename(self, context) -> str:
        raise NotImplementedError

    def download_rows(self, context) -> list[dict[str, Any]]:
        raise NotImplementedError

    def render_to_response(self, context, **kwargs):
        export = self.request.GET.get("format", "")
        if not export or context.get("input_errors"):
            return super().render_to_response(context, **kwargs)
        if export not in EXPORT_FORMATS:
            context["input_errors"] = [
                InputError("format", "Download format", "must be csv or json.")
            ]
            return super().render_to_response(context, status=400)
        return export_response(
            self.request,
            rows=self.download_rows(context),
            fields=self.download_fields,
            basename=self.download_basename(context),
            export_format=export,
        )

"""What every public list page shares: filters read from the URL by one FilterSet, a
status 400 page naming the parameter and the reason for bad input, pagination that
refuses nonsense instead of failing, and CSV/JSON downloads of the same filtered rows;
and, for detail pages, the few most recent retractions they show apart.

Lives in findings (below treatments) so that both apps' list views can use it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Model
from django.http import HttpResponse, JsonResponse
from django.utils.text import Truncator
from django_filters.views import FilterView

from curation.cache import public_count
from curation.csvfile import csv_write
from curation.pages import InputError, page_number_check
from curation.versions import data_version_of

EXPORT_FORMATS = ("csv", "json")
# Retractions are rare: a page lists the most recent few, each with its reason.
RETRACTED_SHOWN = 20


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


def recently_retracted(retracted) -> tuple[list, bool]:
    """The RETRACTED_SHOWN most recently retracted records of ``retracted`` (a
    queryset), and whether there are more: one query, whatever their number."""
    items = list(
        retracted.order_by(F("reviewed_at").desc(nulls_last=True), "-pk")[: RETRACTED_SHOWN + 1]
    )
    return items[:RETRACTED_SHOWN], len(items) > RETRACTED_SHOWN


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

    def export(self, export_format: str) -> HttpResponse:
        rows = self.export_rows(self.object_list)
        # The data version the rows show: in the file name and, for JSON, the body
        # (X-Data-Version carries it too). A CSV file keeps plain rows for its parsers.
        data_version = data_version_of(self.request).number
        filename = f"{self.export_basename}-v{data_version}.{export_format}"
        if export_format == "json":
            response = JsonResponse(
                {"count": len(rows), "data_version": data_version, "results": rows},
                json_dumps_params={"ensure_ascii": False, "indent": 1},
            )
        else:
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            csv_write(
                response,
                fieldnames=self.export_fields,
                rows=({key: _csv_value(value) for key, value in row.items()} for row in rows),
            )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

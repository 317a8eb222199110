"""Reading a reader page's URL parameters on the ground floor: one refused parameter
(shown on the page with status 400) and page numbers that refuse nonsense instead of
failing. ``findings/pages.py`` builds the filtered lists on these; ``/changes/`` uses
them as they are."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

# Longer than any real page number; also keeps int() away from 5,000-digit strings.
MAX_PAGE_DIGITS = 9


@dataclass(frozen=True)
class InputError:
    """One refused URL parameter: shown on the page and sent with status 400."""

    param: str
    label: str
    message: str


def parse_page_number(raw: str) -> int | None:
    """A page number is 1, 2, 3 …; anything else (-1, 0, 1.5, ², 'last') is None."""
    if not raw:
        return 1
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_PAGE_DIGITS:
        return None
    number = int(raw)
    return number if number >= 1 else None


def page_number_check(raw: str, paginator: Paginator) -> tuple[int, InputError | None]:
    """The page to show for ``?page=raw``, and the error to show with it (page 1) when
    ``raw`` is not a page number or past the last page."""
    number = parse_page_number(raw)
    if number is None:
        return 1, InputError("page", "Page", "must be a whole number, 1 or more.")
    if number > paginator.num_pages:
        pages = paginator.num_pages
        return 1, InputError(
            "page",
            "Page",
            f"there {'is' if pages == 1 else 'are'} only {pages} "
            f"page{'' if pages == 1 else 's'} of results.",
        )
    return number, None


class CheckedPageMixin:
    """For a ``ListView``: a bad ``?page=`` shows page 1 with the error and status 400
    (Django's own pagination answers 404, which tells a reader nothing)."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        number, error = page_number_check(self.request.GET.get(self.page_kwarg, ""), paginator)
        self.input_errors = [error] if error else []
        page = paginator.page(number)
        return paginator, page, page.object_list, page.has_other_pages()

    def render_to_response(self, context, **response_kwargs):
        errors = getattr(self, "input_errors", [])
        context["input_errors"] = errors
        if errors:
            response_kwargs["status"] = 400
        return super().render_to_response(context, **response_kwargs)


class RetractedPageMixin:
    """A reader who asks for a record an editor retracted (a therapy, an abnormality, a
    source) is told so, with the date and the reason, as 410 Gone, instead of a bare 404:
    a bookmark or a link from elsewhere still explains itself. Nothing on the page
    counts; it names only what readers may see of a retraction (``retraction``).

    Views name the retracted record a 404 was about in ``retracted_record``; previews
    (which carry ``preview``) keep their own 404s."""

    retracted_template = "retracted_page.html"

    def retracted_record(self, **kwargs):
        """The retracted record this request was for, or None. For a DetailView: its
        model's retracted record with the URL's slug or pk."""
        model = self.get_queryset().model
        slug = kwargs.get(self.slug_url_kwarg)
        if slug is not None:
            lookup = {self.get_slug_field(): slug}
        elif kwargs.get(self.pk_url_kwarg) is not None:
            lookup = {"pk": kwargs[self.pk_url_kwarg]}
        else:
            return None
        return model._default_manager.retracted().filter(**lookup).first()

    def get(self, request, *args, **kwargs):
        try:
            return self.page_response(request, *args, **kwargs)
        except Http404:
            response = self.retracted_response(request, **kwargs)
            if response is None:
                raise
            return response

    def page_response(self, request, *args, **kwargs):
        """The page itself: the view's own ``get`` (a view that builds its page another
        way overrides this, not ``get``)."""
        return super().get(request, *args, **kwargs)

    def retracted_response(self, request, **kwargs):
        """The 410 page for the retracted record this request was for; None if none."""
        if getattr(self, "preview", None) is not None:
            return None
        record = self.retracted_record(**kwargs)
        if record is None:
            return None
        context = {
            "record": record,
            "kind": record._meta.verbose_name,
            "retraction": record.retraction,
        }
        return render(request, self.retracted_template, context, status=410)

"""The admin's "Import BibTeX / RIS / PubMed file" page, linked from the sources list.

Two steps. The curator uploads a file: it is read whole (findings/importing.py) and,
if it can be imported, kept on the server (SourceImportFile, for
SOURCE_IMPORT_KEEP_MINUTES) under a random token; the preview page lists every entry
with its verdict. The curator ticks the entries to create and confirms: the server
reads the stored file again and judges every entry again against the sources as they
are now, and creates the ticked entries that are still new, as drafts. The browser
sends back entry numbers only, never an entry's content; a token is usable only by
the curator who uploaded the file.
"""

from __future__ import annotations

import datetime
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from findings.importing import (
    FORMATS,
    NEW,
    ImportFileError,
    check_size,
    import_preview,
    import_read,
    sources_import,
)
from findings.models import SourceImportFile


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A BibTeX (.bib), RIS (.ris), PubMed (.nbib, MEDLINE) or CSL-JSON (.json) "
        "file, in UTF-8.",
    )
    file_format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[("", "Tell from the content"), *FORMATS.items()],
    )


def _expiry() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=settings.SOURCE_IMPORT_KEEP_MINUTES)


def _filename(name: str) -> str:
    """The uploaded file's own name, without any folder a browser sent with it."""
    base = PurePath(name.replace("\\", "/")).name or "upload"
    return base if len(base) <= 255 else base[:120] + "…" + base[-120:]


def _context(model_admin, request, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "max_mb": settings.SOURCE_IMPORT_MAX_MB,
        "keep_minutes": settings.SOURCE_IMPORT_KEEP_MINUTES,
        "upload_url": reverse("admin:findings_source_import"),
        **extra,
    }


def import_upload_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = _filename(upload.name)
        try:
            check_size(upload.size)  # before reading it into memory
            data = upload.read()
            imported = import_read(
                data, filename=filename, file_format=form.cleaned_data["file_format"] or None
            )
        except ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            SourceImportFile.objects.filter(created_at__lt=_expiry()).delete()
            stored = SourceImportFile.objects.create(
                uploaded_by=request.user,
                filename=filename,
                file_format=imported.file_format,
                content=data,
            )
            return HttpResponseRedirect(
                reverse("admin:findings_source_import_preview", args=[stored.token])
            )
    context = _context(
        model_admin, request, title="Import sources from a file", form=form, formats=FORMATS
    )
    return TemplateResponse(request, "admin/findings/source/import_upload.html", context)


def import_preview_view(model_admin, request, token):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    # Queries: the stored file, then every source's identifiers, title and year (one).
    stored = SourceImportFile.objects.filter(
        token=token, uploaded_by=request.user, created_at__gte=_expiry()
    ).first()
    if stored is None:
        messages.error(
            request,
            "That upload is not there any more: uploads are kept for "
            f"{settings.SOURCE_IMPORT_KEEP_MINUTES} minutes, and only for the curator who "
            "uploaded them. Upload the file again.",
        )
        return HttpResponseRedirect(reverse("admin:findings_source_import"))
    try:
        imported = import_read(
            bytes(stored.content), filename=stored.filename, file_format=stored.file_format
        )
    except ImportFileError as exc:  # the limit was lowered since the upload
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:findings_source_import"))
    import_preview(imported)
    error = ""
    if request.method == "POST":
        chosen = {int(n) for n in request.POST.getlist("entry") if n.isascii() and n.isdigit()}
        if not chosen:
            error = "Tick the entries to create (new entries are ticked at first)."
        else:
            try:
                created = sources_import(imported=imported, chosen=chosen, user=request.user)
            except ImportFileError as exc:
                error = exc.message
            else:
                stored.delete()
                return _done(request, imported, chosen, created)
    new = [e for e in imported.entries if e.verdict == NEW]
    context = _context(
        model_admin,
        request,
        title=f"Import {stored.filename}: check the entries",
        imported=imported,
        counts=imported.counts(),
        new_count=len(new),
        error=error,
        changelist_url=reverse("admin:findings_source_changelist"),
    )
    return TemplateResponse(request, "admin/findings/source/import_preview.html", context)


def _done(request, imported, chosen: set[int], created: list) -> HttpResponseRedirect:
    gone = sorted(e.number for e in imported.entries if e.number in chosen and e.verdict != NEW)
    messages.success(
        request,
        f"Created {len(created)} draft source{'s' if len(created) != 1 else ''} from "
        f"{imported.filename}. They are drafts: check each one, then submit it for review.",
    )
    if gone:
        messages.warning(
            request,
            "Not created, because they are no longer new (a source with the same "
            f"identifier or title was added since the preview): entries "
            f"{', '.join(map(str, gone))}.",
        )
    url = reverse("admin:findings_source_changelist")
    return HttpResponseRedirect(f"{url}?status__exact=draft")


def import_urls(model_admin) -> list:
    site = model_admin.admin_site
    return [
        path(
            "import/",
            site.admin_view(lambda request: import_upload_view(model_admin, request)),
            name="findings_source_import",
        ),
        path(
            "import/<uuid:token>/",
            site.admin_view(
                lambda request, token: import_preview_view(model_admin, request, token)
            ),
            name="findings_source_import_preview",
        ),
    ]

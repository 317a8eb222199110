from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from findings.importing import (
    DUPLICATE,
    DUPLICATE_IN_FILE,
    FORMATS,
    INVALID,
    ImportFileError,
    check_size,
    import_preview,
    import_read,
    sources_import,
)


class Command(BaseCommand):
    help = (
        "Import sources from a BibTeX, RIS, PubMed (MEDLINE .nbib) or CSL-JSON file: every "
        "entry is judged new, duplicate (of a source, or of an earlier entry of the file) "
        "or invalid, and the new ones are created as drafts (never published) in the "
        "name of --user. With --dry-run nothing is written. The last line gives the "
        "counts: new N, duplicate N, invalid N."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to import (UTF-8).")
        parser.add_argument(
            "--format",
            choices=sorted(FORMATS),
            help="The file's format; by default it is told from the content.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the verdicts and create nothing.",
        )
        parser.add_argument(
            "--user",
            help="The curator or editor (username) the drafts are created by, as their "
            "history says. Required unless --dry-run.",
        )

    def handle(self, *args, file, format, dry_run, user, **options):
        path = Path(file)
        importer = None
        if not dry_run:
            if not user:
                raise CommandError("Say who imports with --user USERNAME (or use --dry-run).")
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"There is no user {user!r}.")
        try:
            check_size(path.stat().st_size)
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        except ImportFileError as exc:
            raise CommandError(exc.message) from None
        try:
            imported = import_preview(import_read(data, filename=path.name, file_format=format))
        except ImportFileError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{path.name}: {imported.format_label}, {len(imported.entries)} entries")
        for entry in imported.entries:
            self.stdout.write(self._line(entry))
        if not dry_run:
            try:
                created = sources_import(imported=imported, chosen=None, user=importer)
            except (ImportFileError, Exception) as exc:
                message = getattr(exc, "message", None) or " ".join(getattr(exc, "messages", []))
                raise CommandError(message or str(exc)) from None
            self.stdout.write(
                self.style.SUCCESS(f"Created {len(created)} drafts as {importer.get_username()}.")
            )
        else:
            self.stdout.write("Dry run: nothing was written.")
        self.stdout.write(imported.counts_line())

    def _line(self, entry) -> str:
        head = f"{entry.number:>5}  {entry.verdict_label:<26}"
        if entry.verdict == INVALID:
            return f"{head}{entry.origin}: {' '.join(entry.reasons)}"
        if entry.verdict in (DUPLICATE, DUPLICATE_IN_FILE):
            return f"{head}{entry.title[:70]} — of {'; '.join(map(str, entry.matches))}"
        return f"{head}{entry.key}  {entry.title[:70]}"

"""A literature curator note reworded for readers (issue 18.4) reaches a live database
through review. Apart from tests/test_literature.py, whose module-wide load would be
seen here."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from treatments.literature import CURATOR, EDITOR, LITERATURE_DIR, REWORD_NOTE, literature_load
from treatments.models import TherapyEvidence

CLAIMS = json.loads((LITERATURE_DIR / "claims.json").read_text(encoding="utf-8"))


def _literature_with_old_note(tmp_path, old: str, new: str):
    for name in ("records.nbib", "records.ris", "verification.json"):
        (tmp_path / name).write_bytes((LITERATURE_DIR / name).read_bytes())
    claims = json.loads(json.dumps(CLAIMS))
    [item] = [i for i in claims["evidence"] if new in i["curator_note"]]
    item["curator_note"] = item["curator_note"].replace(new, old)
    (tmp_path / "claims.json").write_text(json.dumps(claims), encoding="utf-8")
    return item


@pytest.mark.django_db
def test_a_curator_note_reworded_for_readers_reaches_a_live_database_through_review(tmp_path):
    """Loaded when the note said "see hla-risk-alleles" (a slug), the claim gets the
    reader's wording on the next load: suggested by the curator, accepted by the
    editor, in history; a note a curator has edited since is left alone."""
    call_command("load_seed", stdout=StringIO())
    item = _literature_with_old_note(tmp_path, "see hla-risk-alleles", "see HLA risk alleles")
    literature_load(directory=tmp_path)
    record = TherapyEvidence.objects.get(source__key=item["source"], statement=item["statement"])
    assert "see hla-risk-alleles" in record.curator_note

    report = literature_load()

    record.refresh_from_db()
    assert "see HLA risk alleles" in record.curator_note
    entry = record.history.order_by("-history_date", "-history_id").first()
    assert entry.history_change_reason.endswith(f"by {CURATOR}: {REWORD_NOTE}")
    assert report.created.get("therapy evidence note rewording") == 1
    assert "1 created" not in literature_load().summary()


@pytest.mark.django_db
def test_a_curator_note_edited_since_the_load_is_not_reworded(tmp_path):
    from curation.revisions import suggestion_accept
    from curation.services import record_edit

    call_command("load_seed", stdout=StringIO())
    item = _literature_with_old_note(tmp_path, "see hla-risk-alleles", "see HLA risk alleles")
    literature_load(directory=tmp_path)
    record = TherapyEvidence.objects.get(source__key=item["source"], statement=item["statement"])
    # A person's edit (not the literature accounts'), which no later load overwrites.
    from tests import factories

    curator = factories.make_curator()
    editor = get_user_model().objects.get(username=EDITOR)
    edit = record_edit(
        record=record, fields={"curator_note": "A curator's own note."}, user=curator, reason="x"
    )
    suggestion_accept(suggestion=edit.suggestion, user=editor, note="ok")

    literature_load()

    record.refresh_from_db()
    assert record.curator_note == "A curator's own note."

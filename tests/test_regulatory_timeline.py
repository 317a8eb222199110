"""Regulatory status as a reader needs it (issue 18): what holds now in each
jurisdiction first, then its history in date order; dates in every download."""

import csv
import datetime
import io

import pytest

from tests import factories
from treatments.models import RegulatoryStatusKind, date_in_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("note", "when"),
    [
        ("Running since March 1997 per the registry record.", (1997, 3, 0)),
        ("Advisory committee meeting on 20 Dec 2012 (a vote).", (2012, 12, 20)),
        ("As of the 2025-08 Wikipedia snapshot.", (2025, 8, 0)),
        ("1997 per Wikipedia (2025-08 snapshot); not checked.", (1997, 0, 0)),
        ("Date of the page not recorded.", None),
    ],
)
def test_the_date_a_note_gives_is_the_first_it_names(note, when):
    assert date_in_text(note) == when


def build():
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    kinds = RegulatoryStatusKind
    made = {}
    for name, jurisdiction, kind, date, note in [
        ("latest", "United States", kinds.INVESTIGATIONAL, None, "As of the 2025-08 snapshot."),
        ("first", "United States", kinds.EXPANDED_ACCESS, None, "Running since March 1997."),
        ("rejected", "United States", kinds.REJECTED, datetime.date(2009, 11, 25), ""),
        ("argentina", "Argentina", kinds.APPROVED_FOR_MECFS, None, "Reported in August 2016."),
    ]:
        made[name] = factories.make_regulatory_status(
            therapy=therapy,
            jurisdiction=jurisdiction,
            regulatory_status=kind,
            date=date,
            date_note=note,
            statement=f"Statement {name}.",
        )
    return made


def test_the_therapy_page_says_what_holds_now_then_the_history_in_date_order(client):
    build()

    html = " ".join(client.get("/treatments/rintatolimod/").content.decode().split())

    now = html[html.index('class="statuses current-statuses"') :]
    now = now[: now.index("</ul>")]
    assert "<strong>Argentina</strong>: Approved for ME/CFS (Reported in August 2016)" in now
    assert "<strong>United States</strong>: Investigational (As of the 2025-08 snapshot)" in now
    history = html[html.index("History, oldest first") :]
    order = [history.index(f"Statement {name}.") for name in ("first", "rejected", "latest")]
    assert order == sorted(order)
    assert "25 November 2009" in history


def test_the_list_download_gives_each_status_with_its_date(client):
    build()

    response = client.get("/treatments/?format=csv")
    [row] = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))

    assert row["access"] == (
        "Argentina: Approved for ME/CFS (Reported in August 2016); "
        "United States: Investigational (As of the 2025-08 snapshot)"
    )
    assert row["access_history"].split("; ")[1:4] == [
        "United States: Expanded access (Running since March 1997)",
        "United States: Rejected (25 November 2009)",
        "United States: Investigational (As of the 2025-08 snapshot)",
    ]

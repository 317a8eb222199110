"""Decimals in the admin read as the curator typed them: 21.3, not the column's 21.3000."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (Decimal("21.3"), "21.3"),
        (Decimal("0.96"), "0.96"),
        (Decimal("100"), "100"),
        (Decimal("-0.5"), "-0.5"),
    ],
)
def test_the_change_form_shows_a_decimal_without_trailing_zeros(client, stored, shown):
    curator = factories.make_curator()
    finding = factories.make_finding(
        created_by=curator,
        effect_measure="md",
        effect_value=stored,
    )
    client.force_login(curator)
    page = client.get(reverse("admin:findings_finding_change", args=[finding.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="effect_value" value="{shown}"' in html


def test_saving_the_form_unchanged_keeps_the_value(client):
    """The shorter text parses to the same number, so the form sees no change."""
    from curation.admin import PlainDecimalField

    field = PlainDecimalField(max_digits=12, decimal_places=4, required=False)
    assert field.prepare_value(Decimal("21.3000")) == "21.3"
    assert not field.has_changed(Decimal("21.3000"), "21.3")
    assert field.prepare_value(None) is None

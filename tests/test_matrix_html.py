"""The evidence matrix's rows written out in Python (findings/templatetags/reader.py
``matrix_rows``, issue 14): the same markup, byte for byte, as the template loop they
replaced (kept in tests/data/matrix_rows_reference.html), for every kind of cell."""

import itertools
from pathlib import Path

import pytest
from django.template import Context, Template

from findings.models import Abnormality, Level
from findings.templatetags.reader import matrix_rows
from treatments.counts import EvidenceCounts, LevelDirection
from treatments.models import Certainty, NetDirection
from treatments.views import Tie

REFERENCE = Path(__file__).parent / "data" / "matrix_rows_reference.html"


def reference(rows) -> str:
    # The loop alone: the indentation before it and the line end after it stay in
    # the page's template.
    loop = REFERENCE.read_text().lstrip(" ").removesuffix("\n")
    return Template("{% load reader %}" + loop).render(Context({"matrix_rows": rows}))


def cells(abnormality) -> list:
    # Every level, every way the strongest items point, with and without a certainty
    # and net direction, contested items or none, and empty cells between them.
    made = [None]
    for n, (level, direction, certainty, net) in enumerate(
        itertools.product(
            [*Level.values, ""],
            [*LevelDirection.values, ""],
            ["", *Certainty.values],
            ["", *NetDirection.values],
        )
    ):
        if n % 7:
            continue
        counts = EvidenceCounts(
            supporting=n % 3,
            not_supporting=n % 2,
            other=n % 5,
            contested=n % 4 == 0,
            best_level=level,
            best_direction=direction,
        )
        made.append(
            Tie(
                abnormality=abnormality,
                therapy_slug=f"therapy-{n}",
                therapy_name=f"Therapy <{n}> & “quoted”",
                counts=counts,
                certainty=certainty,
                direction=net if certainty else "",
            )
        )
        made.append(None)
    return made


@pytest.mark.parametrize(
    "name", ["Low NK cell cytotoxicity", "IgG <1> & 'subclass' \"deficiency\"", ""]
)
def test_the_rows_are_the_templates_rows(name):
    abnormality = Abnormality(pk=7, slug="low-nk", name=name)
    other = Abnormality(pk=8, slug="high-il6", name="IL-6 & TNF")
    rows = [(abnormality, cells(abnormality)), (other, [None, None]), (other, [])]
    mine = matrix_rows(rows)
    assert mine == reference(rows)
    assert mine.count('class="cell level-') > 20 and "certainty-" in mine


def test_no_rows_no_markup():
    assert matrix_rows([]) == reference([]) == ""

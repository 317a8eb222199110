"""Reader markup written out in Python rather than by templates (issue 14), each the
same, byte for byte, as the template it replaced, kept in tests/data/: the level badge
and the line of counts (findings/templatetags/reader.py ``level_badge``, ``counts_line``;
the former inclusion templates _level.html and _counts.html) and the evidence matrix's
rows (``matrix_rows``; the loop of treatments/home.html), for every kind of value."""

import itertools
from pathlib import Path

import pytest
from django.template import Context, Template

from findings.models import LEVEL_SHORT, Abnormality, Level
from findings.templatetags.reader import card_ties, counts_line, level_badge, matrix_rows
from treatments.counts import EvidenceCounts, LevelDirection
from treatments.models import Certainty, NetDirection
from treatments.views import Tie

DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "matrix_rows_reference.html"


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


def _render(name: str, context: dict) -> str:
    return Template((DATA / name).read_text()).render(Context(context))


@pytest.mark.parametrize("letter", [*Level.values, "", None])
@pytest.mark.parametrize("words", [True, False])
@pytest.mark.parametrize("direction", ["", "for", "mixed", "<against> & “so”"])
def test_the_level_badge_is_its_former_templates(letter, words, direction):
    mine = level_badge(letter, words=words, direction=direction)
    name = LEVEL_SHORT.get(letter or "", "")
    theirs = _render(
        "level_badge_reference.html",
        {"letter": letter, "name": name, "words": words, "direction": direction},
    )
    assert mine == theirs


@pytest.mark.parametrize("level", [True, False])
@pytest.mark.parametrize("pair", ["", "ivig/low-nk", "a&b/<c>"])
@pytest.mark.parametrize(
    "counts",
    [
        EvidenceCounts(),
        EvidenceCounts(
            supporting=3,
            not_supporting=1,
            other=2,
            contested=1,
            best_level="B",
            best_direction="for",
        ),
        EvidenceCounts(other=4, contested=4, best_level="E", best_direction="contested"),
        EvidenceCounts(supporting=1, best_level="A", best_direction="mixed"),
    ],
)
def test_the_line_of_counts_is_its_former_templates(counts, pair, level):
    mine = counts_line(counts, pair=pair, level=level)
    theirs = _render("counts_line_reference.html", {"c": counts, "pair": pair, "level": level})
    assert mine == theirs


@pytest.mark.django_db
@pytest.mark.parametrize("chosen", [[], ["nk"], ["nk", "igg-3"]])
def test_the_checkboxes_are_the_former_templates(chosen):
    """The abnormality checkboxes of the therapy list (a thousand at scale), written
    out in Python from label columns, against the loop over the field's options that
    the template held before (tests/data/checkboxes_reference.html)."""
    from django_filters.fields import ModelChoiceIterator

    from tests import factories
    from treatments.filters import TherapyFilter
    from treatments.models import Therapy

    for slug, name in [
        ("nk", "Low NK <cell> cytotoxicity"),
        ("igg-3", "IgG3 & 'subclass' \"deficiency\""),
        ("rnase-l", "RNase L — pathway"),
    ]:
        factories.make_abnormality(slug=slug, name=name)
    factories.make_abnormality(slug="draft", name="A draft", status="draft")
    form = TherapyFilter({"abnormality": chosen}, queryset=Therapy.objects.all()).form
    mine = Template("{% load reader %}{% checkboxes form.abnormality %}").render(
        Context({"form": form})
    )
    # The former loop over Django's own choices (a record each, its label str()).
    form.fields["abnormality"].iterator = ModelChoiceIterator
    assert mine == _render("checkboxes_reference.html", {"form": form})
    assert mine.count('class="check"') == 3 and mine.count(" checked") == len(chosen)
    assert "A draft" not in mine and "&lt;cell&gt;" in mine


CARD_TIES_REFERENCE = DATA / "card_ties_reference.html"


def card_ties_reference(ties, selected) -> str:
    # The loop alone, as the therapy list's card wrote it (templates/treatments/
    # therapy_list.html before reader.card_ties).
    loop = CARD_TIES_REFERENCE.read_text().lstrip(" ").removesuffix("\n")
    return Template("{% load reader %}" + loop).render(
        Context({"ties": ties, "selected_abnormalities": selected})
    )


@pytest.mark.parametrize("selected", [set(), {"low-nk"}, {"low-nk", "a-b", "unknown"}])
def test_a_cards_ties_are_the_templates_ties(selected):
    names = ["Low NK cell cytotoxicity", "IgG <1> & 'subclass' \"deficiency\"", ""]
    ties = []
    for n, (level, direction) in enumerate(
        itertools.product([*Level.values, ""], [*LevelDirection.values, ""])
    ):
        slug = ["low-nk", "a-b", "other"][n % 3]
        ties.append(
            Tie(
                abnormality=Abnormality(pk=n, slug=slug, name=names[n % 3]),
                therapy_slug=f"therapy-{n}",
                therapy_name="Therapy",
                counts=EvidenceCounts(supporting=n % 3, best_level=level, best_direction=direction),
            )
        )
    mine = card_ties(ties, selected)
    assert mine == card_ties_reference(ties, selected)
    assert mine.count("<li") == len(ties) and "&lt;1&gt;" in mine
    assert ("your filter" in mine) == bool(selected)


def test_no_ties_no_markup():
    assert card_ties([], set()) == card_ties_reference([], set()) == ""

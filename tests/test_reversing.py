"""Links to records named by slugs, filled into a path reversed once
(curation/reversing.py): the same URLs as Django's reverse() gives, under any script
prefix, and reverse()'s own answer for anything that is not a plain slug."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from curation.reversing import slug_reverse
from treatments.views import pair_url

SLUGS = [
    ("ldn", "low-nk-cell-cytotoxicity"),
    ("synthetic-therapy-1", "synthetic-abnormality-1"),
    ("a_b-9", "Z"),
    ("0slug-hole-10", "0slug-hole-00"),  # the placeholders themselves
]


def djangos(therapy: str, abnormality: str) -> str:
    return reverse(
        "treatments:pair-evidence", kwargs={"slug": therapy, "abnormality_slug": abnormality}
    )


@pytest.mark.parametrize(("therapy", "abnormality"), SLUGS)
def test_a_pairs_url_is_the_one_reverse_gives(therapy, abnormality):
    assert pair_url(therapy, abnormality) == djangos(therapy, abnormality)
    assert pair_url(therapy, abnormality) == f"/treatments/{therapy}/abnormalities/{abnormality}/"


@pytest.mark.parametrize(("therapy", "abnormality"), SLUGS)
def test_under_a_script_prefix_too(therapy, abnormality):
    try:
        for prefix in ("/kb/", "/other/mount/", "/"):
            set_script_prefix(prefix)
            assert pair_url(therapy, abnormality) == djangos(therapy, abnormality)
            assert pair_url(therapy, abnormality).startswith(prefix)
    finally:
        set_script_prefix("/")


def test_a_record_with_one_slug_and_a_view_with_none():
    assert slug_reverse("treatments:therapy-detail", slug="ivig") == reverse(
        "treatments:therapy-detail", kwargs={"slug": "ivig"}
    )
    assert slug_reverse("treatments:therapy-list") == reverse("treatments:therapy-list")


@pytest.mark.parametrize("value", ["two words", "naïve", "a/b", "", "x?y=1"])
def test_what_is_not_a_plain_slug_gets_reverses_own_answer(value):
    with pytest.raises(NoReverseMatch):
        djangos(value, "nk")
    with pytest.raises(NoReverseMatch):
        pair_url(value, "nk")
    with pytest.raises(NoReverseMatch):
        pair_url("ldn", value)


def test_therapies_and_abnormalities_link_their_pages_as_reverse_does():
    from findings.models import Abnormality
    from treatments.models import Therapy

    therapy, abnormality = Therapy(slug="ivig"), Abnormality(slug="low-nk_2")
    assert therapy.get_absolute_url() == reverse("treatments:therapy-detail", args=["ivig"])
    assert abnormality.get_absolute_url() == reverse(
        "findings:abnormality-detail", args=["low-nk_2"]
    )


def test_a_levels_direction_reads_as_its_choice():
    from treatments.counts import EvidenceCounts, LevelDirection

    for value, label in LevelDirection.choices:
        assert EvidenceCounts(best_direction=value).best_direction_label == label
        assert label == LevelDirection(value).label
    assert EvidenceCounts().best_direction_label == ""

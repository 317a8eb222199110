"""A therapy's abnormality summaries written as JSON text from each stored row's
counts_json (treatments/api.py PAIRS_AS_JSON, treatments/summaries.py pairs_as_json)
answer byte for byte what TherapyAbnormalitySerializer answered; the counts' members a
stored row keeps (PairCertainty.counts_json, a generated column) say what the serializer
says of the row; and the CHECK constraint that lets the column write the strongest level
and its direction unescaped holds."""

import orjson
import pytest
from django.db import IntegrityError, transaction

from curation.models import Status
from findings.models import Direction, Level
from tests.factories import make_abnormality, make_evidence, make_therapy, rated_once
from tests.test_api_fast_lists import assert_same, both_ways, noticed_sources
from treatments import api
from treatments.certainty import certainty_recompute
from treatments.models import CertaintyOverride, PairCertainty
from treatments.serializers import TherapyAbnormalitySerializer, counts_representation
from treatments.summaries import pair_summaries

# Names the JSON text must escape as orjson does, and whose order differs between code
# points (how Python sorts, and PostgreSQL's "C" collation) and a language's collation.
# Each with the level of its evidence: in the order the lists show them.
NAMED = [
    ('Quoted "NK" cells', Level.A),
    ("Ünïcode — αβ", Level.A),
    ("Back\\slash", Level.B),
    ("Tab\there", Level.B),
    ("Zeta", Level.C),  # before "alpha" by code point, after it in English
    ("alpha", Level.C),
    ("Bell\x07", Level.E),
    ("Line\nbreak", Level.E),
]
NAMES = [name for name, _level in NAMED]


def build_pairs(held=None) -> dict:
    """Three therapies tied to abnormalities with such names at several levels and ways
    (two at one level, so the name orders them), one pair with an editor's override, one
    of held items only (no tie), one draft therapy, and one with no evidence."""
    # Listed in reverse, so that the order shown is not the order made.
    abnormalities = [
        make_abnormality(name=name, slug=f"abn-{index}")
        for index, name in reversed(list(enumerate(NAMES)))
    ][::-1]
    # Its publisher's retraction notice awaits an editor.
    held = held or noticed_sources()[0]
    with rated_once():
        rich = make_therapy(slug="rich")
        ways = [Direction.SUPPORTS, Direction.DOES_NOT_SUPPORT, Direction.MIXED]
        for index, (abnormality, (_name, level)) in enumerate(
            zip(abnormalities, NAMED, strict=True)
        ):
            for step in range(1 + index % 3):
                make_evidence(
                    therapy=rich,
                    abnormality=abnormality,
                    level=level,
                    direction=ways[(index + step) % 3],
                )
        make_evidence(therapy=rich, abnormality=None, level=Level.D)
        make_evidence(therapy=rich, abnormality=abnormalities[0], source=held)
        other = make_therapy(slug="other")
        make_evidence(therapy=other, abnormality=abnormalities[5], level=Level.B)
        make_evidence(therapy=other, abnormality=abnormalities[4], level=Level.B)
        draft = make_therapy(slug="draft", status=Status.DRAFT)
        make_evidence(therapy=draft, abnormality=abnormalities[1])
        make_therapy(slug="none")
        CertaintyOverride.objects.create(
            therapy=rich,
            abnormality=abnormalities[1],
            certainty="low",
            net_direction="no_benefit",
            reason="An editor's reason.",
            status=Status.PUBLISHED,
        )
    certainty_recompute()  # the ratings, overrides linked, as publishing stores them
    return {"abnormality": abnormalities[4].slug}


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["anonymous", "curator"])
def test_summaries_written_by_the_database_answer_what_the_serializer_did(
    reader, api_client, curator_api, monkeypatch
):
    client = api_client if reader == "anonymous" else curator_api
    data = build_pairs()
    shown = {}
    for url in [
        "/api/v1/therapies/",
        "/api/v1/therapies/?page_size=1",
        "/api/v1/therapies/?page_size=1&page=2",
        f"/api/v1/therapies/?abnormality={data['abnormality']}",
        "/api/v1/therapies/?sort=evidence",
        "/api/v1/therapies/rich/",
        "/api/v1/therapies/other/",
        "/api/v1/therapies/none/",
        *(["/api/v1/therapies/draft/"] if reader == "curator" else []),
    ]:
        drf, fast = both_ways(
            client,
            url,
            monkeypatch,
            switch=(api, "PAIRS_AS_JSON"),
            # The second way never represents a pair through the serializer.
            serializers=(TherapyAbnormalitySerializer,),
        )
        assert_same(drf, fast, url)
        body = fast.json()
        for therapy in body.get("results", [body]):
            shown[therapy["slug"]] = therapy
    # What the comparison covered.
    rich = shown["rich"]
    # A first, then B, C, E; at one level by code point ("Z" before "a").
    assert [pair["name"] for pair in rich["abnormalities"]] == NAMES
    overridden = next(p for p in rich["abnormalities"] if p["name"] == "Ünïcode — αβ")
    assert (overridden["certainty"], overridden["net_direction"]) == ("low", "no_benefit")
    assert rich["counts"]["best_level"] == "A" and rich["counts"]["held"] == 1
    assert shown["none"]["abnormalities"] == [] and shown["none"]["counts"]["total"] == 0
    assert [p["name"] for p in shown["other"]["abnormalities"]] == ["Zeta", "alpha"]
    if reader == "curator":
        assert shown["draft"]["abnormalities"] == []  # as before: published therapies only


@pytest.mark.django_db
def test_a_csv_list_represents_the_summaries_through_the_serializer(api_client, monkeypatch):
    build_pairs()
    calls = []
    original = TherapyAbnormalitySerializer.to_representation

    def counted(self, instance):
        calls.append(instance)
        return original(self, instance)

    monkeypatch.setattr(TherapyAbnormalitySerializer, "to_representation", counted)
    response = api_client.get("/api/v1/therapies/?format=csv")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert len(calls) == len(NAMES) + 2  # every pair of the two published therapies
    calls.clear()
    assert api_client.get("/api/v1/therapies/rich/").status_code == 200
    assert calls == []  # JSON text


@pytest.mark.django_db
def test_each_stored_row_keeps_the_members_the_serializer_shows():
    build_pairs()
    serializer = TherapyAbnormalitySerializer()
    therapies = PairCertainty.objects.values_list("therapy_id", flat=True)
    pairs = [
        pair
        for summary in pair_summaries(therapies).values()
        for pair in summary
        if pair.abnormality_id is not None
    ]
    kept = {
        (therapy, abnormality): text
        for therapy, abnormality, text in PairCertainty.objects.filter(
            abnormality__isnull=False
        ).values_list("therapy_id", "abnormality_id", "counts_json")
    }
    assert len(pairs) >= len(NAMES)
    for pair in pairs:
        shown = serializer.to_representation(pair)
        members = {key: shown[key] for key in list(shown)[2:9]}  # best_level … counts
        text = orjson.dumps(members).decode()
        assert "{" + kept[pair.therapy_id, pair.abnormality_id] + "}" == text
        assert members["counts"] == counts_representation(pair)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column, value",
    [("evidence_best_level", "Z"), ("evidence_best_level", '"'), ("evidence_best_direction", "up")],
)
def test_the_strongest_level_and_its_direction_are_only_their_choices(column, value):
    make_evidence()
    with pytest.raises(IntegrityError), transaction.atomic():
        PairCertainty.objects.update(**{column: value})

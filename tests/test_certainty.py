"""Certainty per pair (issue 12): the rules on small bodies of evidence, the stored ratings
kept current by publishing, retracting and accepted suggestions, editors' overrides, the
seed's pairs, and /api/v1/pairs/."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from curation.models import Status
from curation.revisions import suggestion_accept
from curation.services import (
    record_create,
    record_edit,
    record_publish,
    record_retract,
    record_submit,
)
from tests.factories import (
    make_abnormality,
    make_editor,
    make_evidence,
    make_source,
    make_therapy,
)
from treatments.certainty import Item, certainty_recompute, rate
from treatments.models import CertaintyOverride, PairCertainty, TherapyEvidence
from treatments.seed import SEED_PATH, seed_load

_ids = itertools.count(1)


def rct(patients=250, direction="supports", **fields) -> Item:
    """A trial that leaves nothing to step down for, unless ``fields`` say otherwise:
    low risk of bias, patients selected for the abnormality, a clinical outcome."""
    pk = next(_ids)
    values = {
        "pk": pk,
        "source": pk,
        "design": "rct",
        "direction": direction,
        "patients": patients,
        "link_kind": "selected",
        "selected": "yes",
        "outcome_type": "clinical",
        "risk_of_bias": "low",
    }
    return Item(**{**values, **fields})


def lab(**fields) -> Item:
    return rct(design="in_vitro", level="D", patients=None, outcome_type="surrogate", **fields)


def opinion(**fields) -> Item:
    return rct(design="expert_opinion", level="E", patients=None, link_kind="rationale", **fields)


def cohort(patients=500, **fields) -> Item:
    return rct(design="cohort", level="C", patients=patients, **fields)


same_trial = next(_ids)

# (what the body is, its items, the certainty, the net direction, words one reason holds)
BODIES = [
    (
        "one RCT of 30 supporting",
        [rct(30)],
        "low",
        "benefit",
        "Down two steps for imprecision: the only trial had 30 participants",
    ),
    (
        "two large low-risk RCTs agreeing",
        [rct(250), rct(300)],
        "high",
        "benefit",
        "No step down",
    ),
    (
        "an RCT finding benefit and one finding none",
        [rct(250), rct(250, "does_not_support")],
        "low",
        "uncertain",
        "Down two steps for inconsistency: 1 trial (250 patients) found benefit, 1 trial "
        "(250 patients) found none",
    ),
    (
        "a large RCT finding benefit and a small one finding none",
        [rct(500), rct(100, "does_not_support")],
        "moderate",
        "benefit",
        "Down one step for inconsistency",
    ),
    (
        "only in vitro studies",
        [lab(), lab()],
        "very_low",
        "benefit",
        "Very low: only laboratory evidence (2 in vitro or ex vivo studies)",
    ),
    (
        "two large RCTs in patients not selected for the abnormality",
        [
            rct(250, selected="no", link_kind="measured"),
            rct(300, selected="no", link_kind="measured"),
        ],
        "moderate",
        "benefit",
        "Down one step for indirectness: both trials did not select patients for low NK "
        "cell cytotoxicity",
    ),
    (
        "two large RCTs tied to the abnormality by rationale only",
        [rct(250, link_kind="rationale"), rct(300, link_kind="rationale")],
        "low",
        "benefit",
        "Down two steps for indirectness: both trials neither selected patients for low NK "
        "cell cytotoxicity nor measured it",
    ),
    (
        "two large RCTs measuring only a laboratory marker",
        [rct(250, outcome_type="surrogate"), rct(300, outcome_type="surrogate")],
        "moderate",
        "benefit",
        "measured only a laboratory marker",
    ),
    (
        "an RCT in another condition (level D)",
        [rct(500, level="D")],
        "low",
        "benefit",
        "Down two steps for indirectness: the only trial was in another condition",
    ),
    (
        "two large RCTs whose risk of bias nobody assessed",
        [rct(250, risk_of_bias="not_assessed"), rct(300, risk_of_bias="not_assessed")],
        "moderate",
        "benefit",
        "Down one step for risk of bias: not assessed for both trials",
    ),
    (
        "two large RCTs at high risk of bias",
        [rct(250, risk_of_bias="high"), rct(300, risk_of_bias="high")],
        "low",
        "benefit",
        "Down two steps for risk of bias: high for both trials",
    ),
    (
        "two large RCTs whose CI crosses no effect",
        [
            rct(
                250,
                effect_measure="smd",
                effect_value=Decimal("0.2"),
                ci_low=Decimal("-0.1"),
                ci_high=Decimal("0.5"),
            ),
            rct(300),
        ],
        "moderate",
        "benefit",
        "Down one step for imprecision: the 95 % CI of 1 of 2 trials crosses no effect",
    ),
    (
        "a risk ratio whose CI stays above 1",
        [
            rct(
                500,
                effect_measure="rr",
                effect_value=Decimal("1.8"),
                ci_low=Decimal("1.2"),
                ci_high=Decimal("2.6"),
            )
        ],
        "high",
        "benefit",
        "No step down",
    ),
    (
        "a large low-risk cohort only",
        [cohort(500)],
        "low",
        "benefit",
        "Starts at low: no randomised trial",
    ),
    (
        "a trial that does not report how many took part",
        [rct(None)],
        "moderate",
        "benefit",
        "the only trial does not report how many took part",
    ),
    (
        "only a web article proposing it (a rationale)",
        [opinion()],
        "very_low",
        "not_studied",
        "Very low: only opinion (1 expert opinion); nothing was studied",
    ),
    (
        "a registered trial with no result",
        [rct(None, direction="describes")],
        "very_low",
        "not_studied",
        "Not counted: 1 item that reports no result",
    ),
    (
        "an RCT retracted by an editor, beside a cohort",
        [rct(500, retracted=True), cohort(500)],
        "low",
        "benefit",
        "Not counted: 1 item retracted by an editor",
    ),
    (
        "an RCT whose source the publisher retracted, beside a cohort",
        [rct(500, source_retracted=True), cohort(500)],
        "low",
        "benefit",
        "Not counted: 1 item whose source its publisher retracted",
    ),
    (
        "an RCT whose source's retraction notice awaits an editor, beside a cohort",
        [rct(500, held=True), cohort(500)],
        "low",
        "benefit",
        "Not counted: 1 item whose source has a publisher's notice awaiting an editor's review",
    ),
    (
        "a contradicted seed-article claim (opinion) beside two large RCTs finding none",
        [
            opinion(contradicted=True),
            rct(250, "does_not_support"),
            rct(300, "does_not_support"),
        ],
        "high",
        "no_benefit",
        "Not counted: 1 item of weaker design",
    ),
    (
        "two items of one trial (it counts once)",
        [rct(60, source=same_trial), rct(60, source=same_trial)],
        "low",
        "benefit",
        "the only trial had 60 participants",
    ),
    (
        "an item with no design recorded",
        [rct(500, design="")],
        "very_low",
        "not_studied",
        "Not counted: 1 item with no study design recorded",
    ),
]


@pytest.mark.parametrize(
    ("body", "items", "certainty", "direction", "reason"), BODIES, ids=[b[0] for b in BODIES]
)
def test_each_body_of_evidence_gets_its_rating_and_says_why(
    body, items, certainty, direction, reason
):
    rating = rate(items, abnormality="low NK cell cytotoxicity")

    assert (rating.certainty, rating.net_direction) == (certainty, direction), rating.reasons
    assert any(reason in sentence for sentence in rating.reasons), rating.reasons
    assert rating.reasons and all(r.endswith(".") for r in rating.reasons)


def test_the_only_trial_of_30_says_so_in_plain_words():
    rating = rate([rct(30)], abnormality="low NK cell cytotoxicity")

    assert rating.reasons == [
        "Starts at high: 1 randomised controlled trial.",
        "Down two steps for imprecision: the only trial had 30 participants (fewer than 100).",
    ]
    assert rating.what_would_change == "Larger trials would raise it."
    assert (rating.items_counted, rating.studies_counted, rating.participants_counted) == (
        1,
        1,
        30,
    )


def test_a_rating_never_goes_below_very_low_and_says_so():
    rating = rate(
        [rct(20, risk_of_bias="high", link_kind="rationale")], abnormality="low NK cytotoxicity"
    )

    assert rating.certainty == "very_low"
    assert "Very low is the lowest rating: the steps down stop there." in rating.reasons


def test_harm_is_never_computed():
    directions = {rate(items).net_direction for _, items, *_ in BODIES}

    assert "harm" not in directions


def test_a_therapy_as_a_whole_is_not_marked_down_for_patients_not_selected():
    rating = rate([rct(250, selected="no", link_kind=""), rct(300, selected="no", link_kind="")])

    assert rating.certainty == "high"


def test_the_rules_table_is_in_the_module_docstring_and_the_data_model_notes():
    from treatments import certainty

    docs = (SEED_PATH.parent.parent / "docs" / "data-model.md").read_text(encoding="utf-8")
    for words in ("Where it starts", "Steps down", "imprecision", "not_studied"):
        assert words in certainty.__doc__
    for words in ("Certainty per pair", "under 100 patients", "not_studied"):
        assert words in docs


# ---------------------------------------------------------------------------
# Stored ratings, kept current
# ---------------------------------------------------------------------------

pytest_db = pytest.mark.django_db


def submitted_evidence(curator, **fields) -> TherapyEvidence:
    evidence = make_evidence(status=Status.DRAFT, created_by=curator, **fields)
    return record_submit(record=evidence, user=curator)


def rating_of(therapy, abnormality=None) -> PairCertainty:
    return PairCertainty.objects.get(therapy=therapy, abnormality=abnormality)


@pytest_db
def test_publishing_evidence_rates_its_pair_and_its_therapy(curator, editor):
    therapy, abnormality = make_therapy(), make_abnormality(name="Low NK cell cytotoxicity")
    evidence = submitted_evidence(
        curator,
        therapy=therapy,
        abnormality=abnormality,
        design="rct",
        patients=30,
        risk_of_bias="low",
        risk_of_bias_reason="Randomised, blinded, no losses.",
        selected_for_abnormality="yes",
        outcome_type="clinical",
    )
    assert not PairCertainty.objects.exists()

    record_publish(record=evidence, user=editor)

    pair = rating_of(therapy, abnormality)
    assert (pair.certainty, pair.net_direction) == ("low", "benefit")
    assert "the only trial had 30 participants" in " ".join(pair.reasons)
    assert pair.evidence_counted == [evidence.pk]
    assert rating_of(therapy).certainty == "low"


@pytest_db
def test_retracting_an_item_rates_the_pair_again_without_it(curator, editor):
    therapy, abnormality = make_therapy(), make_abnormality()
    make_evidence(therapy=therapy, abnormality=abnormality, design="cohort", patients=500)
    trial = make_evidence(therapy=therapy, abnormality=abnormality, design="rct", patients=500)
    certainty_recompute()
    assert rating_of(therapy, abnormality).starting_certainty == "high"

    record_retract(record=trial, user=editor, note="Misread the paper.")

    pair = rating_of(therapy, abnormality)
    assert pair.starting_certainty == "low"
    assert "Not counted: 1 item retracted by an editor." in pair.reasons
    assert trial.pk not in pair.evidence_counted


@pytest_db
def test_an_accepted_suggestion_that_moves_an_item_rates_both_therapies_again(curator, editor):
    first, second, abnormality = make_therapy(), make_therapy(), make_abnormality()
    evidence = make_evidence(therapy=first, abnormality=abnormality, design="rct", patients=99)
    certainty_recompute()
    assert rating_of(first, abnormality).items_counted == 1

    edit = record_edit(record=evidence, fields={"therapy": second}, user=curator, reason="Typo")
    suggestion_accept(suggestion=edit.suggestion, user=editor)

    assert not PairCertainty.objects.filter(therapy=first).exists()
    assert rating_of(second, abnormality).evidence_counted == [evidence.pk]


@pytest_db
def test_a_publisher_retraction_of_a_source_rates_its_pairs_again(curator, editor):
    source = make_source()
    evidence = make_evidence(source=source, design="rct", patients=500)
    certainty_recompute()

    edit = record_edit(record=source, fields={"retracted": True}, user=curator)
    suggestion_accept(suggestion=edit.suggestion, user=editor)

    pair = rating_of(evidence.therapy, evidence.abnormality)
    assert pair.net_direction == "not_studied"
    assert "Not counted: 1 item whose source its publisher retracted." in pair.reasons


@pytest_db
def test_the_command_rates_every_pair_and_reports_how_many(capsys):
    for _ in range(3):
        make_evidence(design="case_series", patients=5)

    call_command("certainty_recompute")

    assert PairCertainty.objects.pairs().count() == 3
    assert PairCertainty.objects.therapy_wide().count() == 3
    assert "Stored 6 certainty ratings." in capsys.readouterr().out


@pytest_db
def test_the_command_with_missing_rates_only_therapies_without_a_rating():
    rated = make_evidence(design="rct", patients=500)
    certainty_recompute()
    before = rating_of(rated.therapy).computed_at
    unrated = make_evidence(design="rct", patients=500)

    call_command("certainty_recompute", "--missing")

    assert rating_of(rated.therapy).computed_at == before
    assert rating_of(unrated.therapy, unrated.abnormality).certainty == "low"


# ---------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------


@pytest_db
def test_an_editors_override_goes_through_review_and_is_shown_beside_the_computed_rating(
    curator, editor, api_client
):
    evidence = make_evidence(
        design="rct",
        patients=30,
        risk_of_bias="low",
        risk_of_bias_reason="Fine.",
        selected_for_abnormality="yes",
        outcome_type="clinical",
    )
    certainty_recompute()
    other_editor = make_editor()
    override = record_create(
        model=CertaintyOverride,
        fields={
            "therapy": evidence.therapy,
            "abnormality": evidence.abnormality,
            "certainty": "very_low",
            "net_direction": "uncertain",
            "reason": "The trial's outcome was changed after unblinding.",
        },
        user=editor,
    )
    record_submit(record=override, user=editor)
    assert rating_of(evidence.therapy, evidence.abnormality).override is None  # not yet

    record_publish(record=override, user=other_editor, note="Agreed.")

    pair = rating_of(evidence.therapy, evidence.abnormality)
    assert pair.override == override
    assert (pair.shown_certainty, pair.certainty) == ("very_low", "low")
    body = api_client.get(
        f"/api/v1/pairs/?therapy={evidence.therapy.slug}&abnormality={evidence.abnormality.slug}"
    ).json()
    [row] = body["results"]
    assert (row["certainty"], row["net_direction"]) == ("very_low", "uncertain")
    assert (row["computed_certainty"], row["computed_net_direction"]) == ("low", "benefit")
    assert row["override"]["reason"] == "The trial's outcome was changed after unblinding."
    history = list(override.history.values_list("history_change_reason", flat=True))
    assert history[0] == "Published: Agreed."

    record_retract(record=override, user=other_editor, note="The outcome was pre-registered.")

    pair = rating_of(evidence.therapy, evidence.abnormality)
    assert pair.override is None
    assert pair.shown_certainty == "low"


@pytest_db
def test_a_second_override_of_one_rating_is_refused_at_the_field(editor):
    evidence = make_evidence()
    values = {
        "therapy": evidence.therapy,
        "abnormality": evidence.abnormality,
        "certainty": "low",
        "reason": "Because.",
    }
    record_create(model=CertaintyOverride, fields=values, user=editor)

    with pytest.raises(ValidationError) as refused:
        record_create(model=CertaintyOverride, fields=values, user=editor)

    assert "already has an override" in refused.value.message_dict["abnormality"][0]


@pytest_db
def test_the_override_page_shows_the_computed_rating_and_its_reasons(editor_client, editor):
    evidence = make_evidence(design="rct", patients=30)
    certainty_recompute()
    override = CertaintyOverride.objects.create(
        therapy=evidence.therapy,
        abnormality=evidence.abnormality,
        certainty="very_low",
        reason="Because.",
        created_by=editor,
    )

    page = editor_client.get(
        reverse("admin:treatments_certaintyoverride_change", args=[override.pk])
    ).content.decode()

    assert "computed rating" in page
    assert "the only trial had 30 participants" in page


# ---------------------------------------------------------------------------
# The seed
# ---------------------------------------------------------------------------


@pytest_db
def test_every_seed_pair_and_therapy_has_a_rating_with_at_least_one_reason():
    seed_load()
    pairs = set(
        TherapyEvidence.objects.published()
        .filter(abnormality__isnull=False)
        .values_list("therapy_id", "abnormality_id")
    )
    therapies = set(TherapyEvidence.objects.published().values_list("therapy_id", flat=True))

    ratings = {(r.therapy_id, r.abnormality_id): r for r in PairCertainty.objects.all()}

    assert pairs and pairs <= set(ratings)
    assert {(t, None) for t in therapies} <= set(ratings)
    assert all(rating.reasons for rating in ratings.values())
    assert all(rating.what_would_change for rating in ratings.values())


@pytest_db
def test_the_seed_ratings_are_what_the_rules_give():
    seed_load()
    by_name = {
        (r.therapy.slug, r.abnormality.slug if r.abnormality_id else None): r
        for r in PairCertainty.objects.with_related()
    }

    # Two placebo-controlled trials (92 and 234 patients), not selected for RNase L.
    rintatolimod = by_name["rintatolimod", None]
    assert (rintatolimod.certainty, rintatolimod.net_direction) == ("low", "benefit")
    # The negative IVIG trial (30 patients, not selected for low IgG1).
    igg1 = by_name["ivig", "igg1-subclass-deficiency"]
    assert (igg1.certainty, igg1.net_direction) == ("very_low", "no_benefit")
    # Four IVIG trials pointing different ways.
    ivig = by_name["ivig", None]
    assert ivig.net_direction == "uncertain"
    assert any("inconsistency" in reason for reason in ivig.reasons)
    # Sizofiran: a review, a patent and the contradicted 2025 claim - nothing studied.
    sizofiran = by_name["sizofiran", None]
    assert sizofiran.net_direction == "not_studied"
    # Laboratory studies only.
    trpm3 = by_name["low-dose-naltrexone", "nk-cell-trpm3-dysfunction"]
    assert trpm3.certainty == "very_low"
    assert trpm3.reasons[0].startswith("Very low: only laboratory evidence")


@pytest_db
def test_load_seed_rates_a_database_that_has_no_ratings(capsys):
    seed_load()
    PairCertainty.objects.all().delete()

    call_command("load_seed")

    assert PairCertainty.objects.therapy_wide().count() == 7
    assert "Rated" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# /api/v1/pairs/ and therapies
# ---------------------------------------------------------------------------


def _rated_pairs():
    nk = make_abnormality(slug="low-nk-cell-cytotoxicity", name="Low NK cell cytotoxicity")
    strong = make_therapy(slug="strong", name="Strong")
    weak = make_therapy(slug="weak", name="Weak")
    for patients in (250, 300):
        make_evidence(
            therapy=strong,
            abnormality=nk,
            design="rct",
            patients=patients,
            risk_of_bias="low",
            risk_of_bias_reason="Fine.",
            selected_for_abnormality="yes",
            outcome_type="clinical",
        )
    make_evidence(therapy=weak, abnormality=nk, design="expert_opinion", level="E")
    make_evidence(therapy=weak, abnormality=None, design="in_vitro", level="D")
    make_evidence(therapy=make_therapy(status=Status.DRAFT), abnormality=nk, design="rct")
    certainty_recompute()
    return nk, strong, weak


@pytest_db
def test_pairs_filter_by_abnormality_therapy_certainty_and_direction(api_client):
    nk, _, _ = _rated_pairs()

    def pairs(query):
        response = api_client.get(f"/api/v1/pairs/?{query}")
        assert response.status_code == 200, response.content
        return [(r["therapy"], r["abnormality"]) for r in response.json()["results"]]

    # The draft therapy's pair is not public.
    assert pairs(f"abnormality={nk.slug}") == [("strong", nk.slug), ("weak", nk.slug)]
    assert pairs("certainty=high") == [("strong", nk.slug)]
    assert pairs("certainty=high&certainty=very_low") == [("strong", nk.slug), ("weak", nk.slug)]
    assert pairs("direction=not_studied") == [("weak", nk.slug)]
    assert pairs("therapy=weak") == [("weak", nk.slug)]
    # "-" is most first (issue 16): the most certain pair first.
    assert pairs("sort=-certainty") == [("strong", nk.slug), ("weak", nk.slug)]
    assert pairs("sort=certainty") == [("weak", nk.slug), ("strong", nk.slug)]


@pytest_db
def test_a_pair_says_how_sure_we_are_and_why(api_client):
    _, strong, _ = _rated_pairs()

    [row] = api_client.get("/api/v1/pairs/?therapy=strong").json()["results"]

    assert row["therapy_name"] == "Strong"
    assert row["abnormality_name"] == "Low NK cell cytotoxicity"
    assert row["certainty"] == row["computed_certainty"] == "high"
    assert row["certainty_reasons"][0] == "Starts at high: 2 randomised controlled trials."
    assert row["override"] is None
    assert (row["items_counted"], row["studies_counted"], row["participants_counted"]) == (
        2,
        2,
        550,
    )
    assert sorted(row["evidence_counted"]) == sorted(
        TherapyEvidence.objects.filter(therapy=strong).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("certainty=sure", "certainty"),
        ("direction=up", "direction"),
        ("abnormality=no-such-thing", "abnormality"),
        ("therapy=no-such-thing", "therapy"),
        ("sort=colour", "sort"),
    ],
)
@pytest_db
def test_a_bad_pairs_filter_is_a_400_naming_the_parameter(api_client, query, parameter):
    response = api_client.get(f"/api/v1/pairs/?{query}")

    assert response.status_code == 400
    assert parameter in response.json()["errors"]


@pytest_db
def test_therapies_carry_their_rating_and_each_pairs_certainty(api_client):
    _rated_pairs()

    body = api_client.get("/api/v1/therapies/weak/").json()

    assert body["rating"]["certainty"] == "very_low"
    assert body["rating"]["certainty_reasons"][0].startswith("Very low: only laboratory")
    [summary] = body["abnormalities"]
    assert (summary["certainty"], summary["net_direction"]) == ("very_low", "not_studied")


def test_the_schema_documents_pairs_and_the_ratings_on_therapies(client, db):
    schema = json.loads(client.get("/api/v1/schema/?format=json").content)

    operation = schema["paths"]["/api/v1/pairs/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"abnormality", "therapy", "certainty", "direction", "sort"} <= names
    pair = schema["components"]["schemas"]["PairCertainty"]["properties"]
    assert {"certainty", "net_direction", "certainty_reasons", "override"} <= set(pair)
    assert "rating" in schema["components"]["schemas"]["Therapy"]["properties"]


@pytest_db
def test_generate_synthetic_rates_what_it_wrote():
    call_command("generate_synthetic", "--evidence", "60", "--seed", "3")

    rated = set(PairCertainty.objects.therapy_wide().values_list("therapy_id", flat=True))
    assert rated == set(TherapyEvidence.objects.visible().values_list("therapy_id", flat=True))

"""The curators' admin: usable by a non-programmer, fast, and within each role's rights."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from curation.models import Status
from curation.roles import CURATORS, EDITORS, role_permission_codenames
from findings.models import Finding, Source
from tests.factories import (
    make_abnormality,
    make_evidence,
    make_finding,
    make_harm,
    make_source,
    make_therapy,
    rated_once,
)
from treatments.models import TherapyEvidence


def fill(rows: int) -> None:
    """``rows`` sources, each backing one finding and one item of therapy evidence."""
    with rated_once():
        for _ in range(rows):
            evidence = make_evidence()
            make_finding(source=evidence.source, abnormality=evidence.abnormality)
            make_harm(therapy=evidence.therapy, source=evidence.source)


# Every admin page for a logged-in curator starts with the same 3 queries:
# session, user, the user's permissions (own and group, one query: mecfs_kb/auth.py).
AUTH = 3

# Changelists: AUTH + COUNT(*) of the filtered rows + the page of rows, with the
# columns' related objects joined (list_select_related / annotations), plus
# whatever the sidebar filters list.
CHANGELISTS = [
    # + DISTINCT years for the year filter
    ("findings/source", AUTH + 3),
    # + the abnormalities listed in the abnormality filter
    ("findings/finding", AUTH + 3),
    # + the therapies and the abnormalities listed in their filters
    ("treatments/therapyevidence", AUTH + 4),
    ("treatments/therapy", AUTH + 2),
    ("findings/abnormality", AUTH + 2),
    ("findings/labtest", AUTH + 2),
    # + the therapies of the therapy filter + DISTINCT jurisdictions
    ("treatments/regulatorystatus", AUTH + 4),
    # + the therapies of the therapy filter
    ("treatments/harm", AUTH + 3),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "queries"), CHANGELISTS)
@pytest.mark.parametrize("rows", [1, 50])
def test_changelists_take_the_same_queries_for_1_and_50_rows(
    curator_client, django_assert_num_queries, model, queries, rows
):
    fill(rows)
    with django_assert_num_queries(queries):
        response = curator_client.get(f"/admin/{model}/")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 50])
def test_source_search_finds_by_title_author_and_doi(
    curator_client, django_assert_num_queries, rows
):
    fill(rows)
    wanted = make_source(title="Natural killer cells in ME", authors="Brenu EW", doi="10.1186/x-1")
    # AUTH + COUNT(*) + the page of rows + DISTINCT years for the year filter
    with django_assert_num_queries(AUTH + 3):
        response = curator_client.get("/admin/findings/source/", {"q": "killer"})
    assert list(response.context["cl"].result_list) == [wanted]
    for query in ("Brenu", "10.1186/x-1"):
        response = curator_client.get("/admin/findings/source/", {"q": query})
        assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 50])
def test_the_source_page_shows_the_claims_it_makes(curator_client, django_assert_num_queries, rows):
    source = make_source()
    abnormality = make_abnormality()
    for _ in range(rows):
        make_finding(source=source, abnormality=abnormality, statement="Lower NK killing")
    evidence = make_evidence(source=source, statement="LDN improved killing")
    # Inline rows render their selected autocomplete choices one query per row; the
    # page is pinned at its measured size per row count rather than claimed constant.
    response = curator_client.get(reverse("admin:findings_source_change", args=[source.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Lower NK killing" in content
    assert evidence.statement in content
    formsets = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    assert formsets["findings"].formset.queryset.count() == rows


@pytest.mark.django_db
def test_a_therapy_page_shows_its_evidence_regulatory_statuses_and_harms(curator_client):
    evidence = make_evidence(statement="Reduced symptoms in an open trial")
    response = curator_client.get(
        reverse("admin:treatments_therapy_change", args=[evidence.therapy.pk])
    )
    assert response.status_code == 200
    assert "Reduced symptoms in an open trial" in response.content.decode()
    prefixes = {f.formset.prefix for f in response.context["inline_admin_formsets"]}
    assert prefixes == {"evidence", "regulatory_statuses", "harms"}


@pytest.mark.django_db
def test_the_add_pages_explain_levels_and_link_kinds(curator_client, django_assert_num_queries):
    # AUTH + the content type for the history link; autocomplete widgets load their
    # choices by AJAX, so no list of therapies, abnormalities or sources is queried.
    with django_assert_num_queries(AUTH + 1):
        response = curator_client.get(reverse("admin:treatments_therapyevidence_add"))
    content = response.content.decode()
    assert "replicated: two or more independent RCTs" in content
    assert "Selected — patients were selected because they had the abnormality" in content
    assert 'data-theme="admin-autocomplete"' in content


@pytest.mark.django_db
def test_a_curator_adds_a_source_which_starts_as_a_draft_they_created(curator_client, curator):
    response = curator_client.post(
        reverse("admin:findings_source_add"),
        {
            "key": "new2024",
            "kind": "journal_article",
            "title": "A new study",
            "doi": "https://doi.org/10.1000/NEW",
            **empty_inlines("findings", "therapy_evidence", "regulatory_statuses", "harms"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get(key="new2024")
    assert source.status == Status.DRAFT
    assert source.created_by == curator
    assert source.doi == "10.1000/new"
    assert source.history.first().history_user == curator


@pytest.mark.django_db
def test_a_bad_doi_in_the_admin_is_a_form_error_and_saves_nothing(curator_client):
    response = curator_client.post(
        reverse("admin:findings_source_add"),
        {
            "key": "bad",
            "kind": "journal_article",
            "title": "A study",
            "doi": "doi.org/nonsense",
            "pmid": "PMID 12x",
            **empty_inlines("findings", "therapy_evidence", "regulatory_statuses", "harms"),
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "is not a DOI" in errors["doi"][0]
    assert "is not a PubMed ID" in errors["pmid"][0]
    assert not Source.objects.filter(key="bad").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "existing", "pasted"),
    [
        ("doi", "10.1186/1479-5876-9-81", "https://doi.org/10.1186/1479-5876-9-81"),
        ("pmid", "21619669", "21619669"),
    ],
)
def test_a_doi_or_pmid_already_used_is_an_error_on_its_field_naming_the_source(
    curator_client, field, existing, pasted
):
    make_source(key="brenu2011_nk", title="Immunological abnormalities", **{field: existing})

    response = curator_client.post(
        reverse("admin:findings_source_add"),
        {
            "key": "copy",
            "kind": "journal_article",
            "title": "The same study again",
            field: pasted,
            **empty_inlines("findings", "therapy_evidence", "regulatory_statuses", "harms"),
        },
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == []
    [message] = form.errors[field]
    assert "already exists" in message
    assert "“brenu2011_nk” (Immunological abnormalities)" in message
    assert not Source.objects.filter(key="copy").exists()


@pytest.mark.django_db
def test_a_curator_cannot_publish_by_editing_the_status(curator_client):
    source = make_source(status=Status.DRAFT)
    response = curator_client.get(reverse("admin:findings_source_change", args=[source.pk]))
    assert "status" not in response.context["adminform"].form.fields


@pytest.mark.django_db
def test_an_editor_changes_the_status_only_through_the_review_actions(editor_client):
    # Editors too: publishing goes through curation/services.py (tests/test_admin_review.py),
    # which refuses self-publishing and rejections without a note.
    source = make_source(status=Status.SUBMITTED)
    response = editor_client.get(reverse("admin:findings_source_change", args=[source.pk]))
    assert "status" not in response.context["adminform"].form.fields
    changelist = editor_client.get(reverse("admin:findings_source_changelist"))
    actions = dict(changelist.context["action_form"].fields["action"].choices)
    assert {"publish_selected", "reject_selected", "retract_selected"} <= set(actions)


@pytest.mark.django_db
def test_deleting_a_source_that_backs_claims_is_refused_and_names_them(editor_client):
    finding = make_finding(
        statement="NK cytotoxicity was lower",
        status=Status.DRAFT,
        source=make_source(status=Status.DRAFT),
    )
    url = reverse("admin:findings_source_delete", args=[finding.source.pk])
    response = editor_client.post(url, {"post": "yes"})
    content = response.content.decode()
    assert "would require deleting the following protected related objects" in content
    assert str(finding) in content
    assert Source.objects.filter(pk=finding.source.pk).exists()


@pytest.mark.django_db
def test_curators_cannot_delete_but_editors_can(curator_client, editor_client):
    source = make_source(status=Status.DRAFT)
    url = reverse("admin:findings_source_delete", args=[source.pk])
    assert curator_client.get(url).status_code == 403
    assert editor_client.get(url).status_code == 200


@pytest.mark.django_db
def test_nobody_deletes_a_published_record_it_is_retracted_instead(editor_client):
    source = make_source(status=Status.PUBLISHED)
    url = reverse("admin:findings_source_delete", args=[source.pk])
    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url, {"post": "yes"}).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()


@pytest.mark.django_db
def test_autocomplete_finds_therapies_by_alias(curator_client):
    make_therapy(name="Rintatolimod", aliases="Ampligen\npoly(I):poly(C12U)")
    response = curator_client.get(
        "/admin/autocomplete/",
        {
            "term": "ampli",
            "app_label": "treatments",
            "model_name": "therapyevidence",
            "field_name": "therapy",
        },
    )
    assert [r["text"] for r in response.json()["results"]] == ["Rintatolimod"]


@pytest.mark.django_db
def test_the_groups_exist_with_the_permissions_of_their_role():
    for role in (CURATORS, EDITORS):
        group = Group.objects.get(name=role)
        granted = {
            (p.content_type.app_label, p.codename)
            for p in group.permissions.select_related("content_type")
        }
        assert granted == set(role_permission_codenames(role))


@pytest.mark.django_db
def test_curators_may_add_and_change_but_not_delete_or_review(curator):
    assert curator.has_perm("treatments.add_therapyevidence")
    assert curator.has_perm("findings.change_finding")
    assert not curator.has_perm("findings.delete_source")
    assert not curator.has_perm("treatments.review_therapyevidence")


@pytest.mark.django_db
def test_editors_may_review_and_delete(editor):
    assert editor.has_perm("treatments.review_therapyevidence")
    assert editor.has_perm("findings.review_finding")
    assert editor.has_perm("findings.delete_source")


@pytest.mark.django_db
def test_a_user_without_a_group_cannot_open_the_admin_models(client):
    from tests.factories import make_user

    user = make_user(is_staff=True)
    client.force_login(user)
    assert client.get("/admin/findings/source/").status_code == 403
    assert not Finding.objects.exists() and not TherapyEvidence.objects.exists()


def empty_inlines(*prefixes: str) -> dict[str, str]:
    data = {}
    for prefix in prefixes:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data

"""Previews (issue 15.3): a record readers cannot see yet, or a suggested change, shown
to the staff who may see it on the readers' own page, marked as a preview, never cached,
never indexed, and in no data version (curation/preview.py)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.template.response import TemplateResponse
from django.test import Client, RequestFactory
from django.urls import resolve

from curation.models import DataVersion, Status, SuggestionState, moderated_models
from curation.preview import preview_url, previewer_for, suggestion_preview_url
from curation.services import record_edit
from mecfs_kb.response_cache import PublicResponseCacheMiddleware
from tests import factories
from treatments.views import pair_url

pytestmark = pytest.mark.django_db

HIDDEN = [Status.DRAFT, Status.SUBMITTED, Status.REJECTED, Status.RETRACTED]


def make_lab_test(**kwargs):
    lab_test = factories.make_lab_test(**kwargs)
    lab_test.abnormalities.add(factories.make_abnormality())
    return lab_test


# One builder per kind of record; claims rest on published records.
KINDS = {
    "therapy": factories.make_therapy,
    "abnormality": factories.make_abnormality,
    "source": factories.make_source,
    "lab test": make_lab_test,
    "finding": factories.make_finding,
    "therapy evidence": factories.make_evidence,
    "general therapy evidence": lambda **kw: factories.make_evidence(abnormality=None, **kw),
    "regulatory status": factories.make_regulatory_status,
    "glossary term": factories.make_glossary_term,
}


@pytest.fixture
def author(db):
    return factories.make_curator()


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def viewers(author):
    """Everyone who may ask for a preview, by who they are to the record."""
    return {
        "anonymous": None,
        "reader with an account": factories.make_user(),
        "other curator": factories.make_curator(),
        "author": author,
        "editor": factories.make_editor(),
    }


def page_template(response) -> str:
    """The template the view rendered (the first; the others are its parts)."""
    return response.templates[0].name


def banner(response) -> str:
    html = response.content.decode()
    found = re.search(r'<aside class="preview-banner".*?</aside>', html, re.S)
    return re.sub(r"\s+", " ", found.group(0)) if found else ""


def page_without_banner(response) -> str:
    """The page as readers would see it: the banner names the record, and a claim's
    name carries the start of its (published) statement."""
    html = response.content.decode()
    return re.sub(r'<aside class="preview-banner".*?</aside>', "", html, flags=re.S)


# ---------------------------------------------------------------------------
# Who may preview what
# ---------------------------------------------------------------------------

# Curators and editors see every record in the admin (``visible_to``), so they may
# preview it; anyone else gets the 404 page a missing record gets.
MAY_PREVIEW = {
    "anonymous": False,
    "reader with an account": False,
    "other curator": True,
    "author": True,
    "editor": True,
}


@pytest.mark.parametrize("kind", ["therapy", "therapy evidence"])
@pytest.mark.parametrize("status", HIDDEN)
@pytest.mark.parametrize("viewer", MAY_PREVIEW)
def test_who_may_preview_a_record_readers_cannot_see(kind, status, viewer, viewers, author):
    record = KINDS[kind](status=status, created_by=author)

    response = client_for(viewers[viewer]).get(preview_url(record))

    if MAY_PREVIEW[viewer]:
        assert response.status_code == 200
        assert f"Preview — not public. Status: {record.get_status_display().lower()}." in (
            banner(response)
        )
    else:
        assert response.status_code == 404
        assert "preview-banner" not in response.content.decode()
        assert "Status:" not in response.content.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_record_has_a_preview_for_curators_and_a_404_for_readers(kind, curator):
    record = KINDS[kind](status=Status.DRAFT)

    assert client_for(curator).get(preview_url(record)).status_code == 200
    assert client_for(None).get(preview_url(record)).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewer", MAY_PREVIEW)
def test_the_preview_address_of_a_public_record_leads_anyone_to_its_public_page(
    kind, viewer, viewers
):
    record = KINDS[kind]()

    response = client_for(viewers[viewer]).get(preview_url(record))

    assert response.status_code == 302
    assert "/preview/" not in response["Location"]
    assert client_for(None).get(response["Location"]).status_code == 200


def test_every_curated_model_has_a_preview():
    # A new kind of curated record needs a RecordPreview in its app's previews.py, or its
    # admin page loses "View on site" for drafts.
    assert [m for m in moderated_models() if previewer_for(m) is None] == []


# Only its author and the editors see a suggestion (Suggestion.objects.visible_to).
MAY_PREVIEW_SUGGESTION = {
    "anonymous": False,
    "reader with an account": False,
    "other curator": False,
    "author": True,
    "editor": True,
}


def suggest(record, user, **fields):
    return record_edit(record=record, fields=fields, user=user, reason="Clearer.").suggestion


@pytest.mark.parametrize("viewer", MAY_PREVIEW_SUGGESTION)
def test_who_may_preview_a_suggestion(viewer, viewers, author):
    evidence = factories.make_evidence(statement="Published text.")
    suggestion = suggest(evidence, author, statement="Suggested text.")

    response = client_for(viewers[viewer]).get(suggestion_preview_url(suggestion))

    if MAY_PREVIEW_SUGGESTION[viewer]:
        assert response.status_code == 200
        assert "Suggested text." in response.content.decode()
    else:
        assert response.status_code == 404
        assert "Suggested text." not in response.content.decode()


# ---------------------------------------------------------------------------
# Marked as a preview: banner, noindex, no-store, no data version
# ---------------------------------------------------------------------------


def test_a_preview_is_marked_for_people_search_engines_and_caches(curator):
    therapy = factories.make_therapy(status=Status.DRAFT, name="Draft therapy")

    response = client_for(curator).get(preview_url(therapy))
    html = response.content.decode()

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"
    assert '<meta name="robots" content="noindex,nofollow">' in html
    assert "<title>Preview: Draft therapy" in html
    # The banner comes first, says what it is, and leads back to the admin.
    assert html.index('class="preview-banner"') < html.index('class="site-header"')
    text = banner(response)
    assert "Preview — not public. Status: draft." in text
    assert f'href="/admin/treatments/therapy/{therapy.pk}/change/"' in text
    # The readers' own template, with the draft's content.
    assert page_template(response) == "treatments/therapy_detail.html"
    assert "<h1>Draft therapy</h1>" in html
    # In no data version: no header, and the footer says so.
    assert "X-Data-Version" not in response
    assert "A preview is in no data version" in html
    assert "Data version" not in html


def test_a_refused_preview_is_the_ordinary_404_page_and_is_not_indexed_either():
    therapy = factories.make_therapy(status=Status.DRAFT)

    response = client_for(None).get(preview_url(therapy))

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_the_banner_says_why_a_claim_cannot_be_published_yet(curator):
    therapy = factories.make_therapy(status=Status.DRAFT, name="New therapy")
    evidence = factories.make_evidence(therapy=therapy, status=Status.DRAFT)

    text = banner(client_for(curator).get(preview_url(evidence)))

    assert "Before it can be published:" in text
    assert "Its therapy “New therapy” is a draft" in text


@pytest.fixture
def cached(settings):
    settings.PUBLIC_CACHE_SECONDS = 600
    settings.PUBLIC_HTTP_MAX_AGE = 60
    cache.clear()
    yield
    cache.clear()


def test_the_response_cache_never_stores_a_preview(cached, curator):
    evidence = factories.make_evidence(status=Status.DRAFT, statement="Not public yet.")
    url = preview_url(evidence)
    staff = client_for(curator)

    first, second = staff.get(url), staff.get(url)
    anonymous = client_for(None).get(url)

    assert first.status_code == second.status_code == 200
    assert "X-Cache" not in first and "X-Cache" not in second
    assert anonymous.status_code == 404
    assert "Not public yet." not in anonymous.content.decode()
    # A public page is cached under the same settings (the cache is on).
    public = pair_url(evidence.therapy.slug, evidence.abnormality.slug)
    client_for(None).get(public)
    assert client_for(None).get(public)["X-Cache"] == "hit"


def test_even_a_request_the_cache_would_answer_never_leaves_a_preview_in_it(cached, curator):
    # No session cookie: the kind of request the response cache serves and stores. The
    # preview's own "private, no-store" keeps it out.
    therapy = factories.make_therapy(status=Status.DRAFT, name="Secret draft")
    url = preview_url(therapy)
    views_run = []

    def view(request):
        views_run.append(request.path)
        request.user = curator
        match = resolve(request.path)
        response = match.func(request, *match.args, **match.kwargs)
        return response.render() if isinstance(response, TemplateResponse) else response

    middleware = PublicResponseCacheMiddleware(view)
    responses = [middleware(RequestFactory().get(url)) for _ in range(2)]

    assert views_run == [url, url]
    assert all(r.status_code == 200 and "X-Cache" not in r for r in responses)
    assert all(b"Secret draft" in r.content for r in responses)


def test_a_preview_never_counts_in_the_data_version_or_the_feeds(curator, author):
    factories.make_evidence(statement="Published before.")
    draft = factories.make_evidence(status=Status.DRAFT, statement="Draft claim text.")
    published = factories.make_evidence(statement="Published claim text.")
    suggestion = suggest(published, author, statement="Suggested claim text.")
    versions = DataVersion.objects.count()
    staff = client_for(curator)

    assert staff.get(preview_url(draft)).status_code == 200
    assert client_for(author).get(suggestion_preview_url(suggestion)).status_code == 200

    assert DataVersion.objects.count() == versions
    reader = client_for(None)
    for url in ("/feeds/evidence/", "/changes/", "/changes/feed/"):
        page = reader.get(url).content.decode()
        assert "Draft claim text." not in page
        assert "Suggested claim text." not in page
        assert "/preview/" not in page


# ---------------------------------------------------------------------------
# What a preview shows
# ---------------------------------------------------------------------------


def marked(response) -> str:
    """The element marked as the previewed record, as text."""
    html = response.content.decode()
    found = re.search(r'<(article|li) class="[^"]*previewed[^"]*".*?</\1>', html, re.S)
    return re.sub(r"\s+", " ", found.group(0)) if found else ""


def test_draft_evidence_is_shown_first_and_marked_on_the_page_of_its_pair(curator):
    evidence = factories.make_evidence(status=Status.DRAFT, statement="The draft item.")
    factories.make_evidence(
        therapy=evidence.therapy, abnormality=evidence.abnormality, statement="A published item."
    )

    response = client_for(curator).get(preview_url(evidence))
    html = response.content.decode()

    assert page_template(response) == "treatments/pair_evidence.html"
    assert "The draft item." in marked(response)
    assert "Preview</strong> — not public: draft." in marked(response)
    assert html.index("The draft item.") < html.index("A published item.")
    assert 'href="#previewed-claim"' in banner(response)
    assert "they do not count it yet" in banner(response)


def test_evidence_about_me_cfs_in_general_is_previewed_on_its_therapys_page(curator):
    source = factories.make_source(title="A general study")
    evidence = factories.make_evidence(
        abnormality=None, source=source, status=Status.SUBMITTED, statement="In general."
    )

    response = client_for(curator).get(preview_url(evidence))
    html = response.content.decode()

    assert page_template(response) == "treatments/therapy_detail.html"
    assert "In general." in marked(response)
    assert "ME/CFS in general (no specific abnormality)" in html
    # Its source is listed with the page's sources, as it will be.
    assert "A general study" in html.split('id="sources-heading"')[1]


def test_a_regulatory_status_is_previewed_where_the_therapy_page_says_where_it_can_be_had(
    curator,
):
    status = factories.make_regulatory_status(
        status=Status.REJECTED, jurisdiction="Narnia", statement="Approved there."
    )

    response = client_for(curator).get(preview_url(status))

    assert "Narnia" in marked(response)
    assert "not public: rejected." in marked(response)


@pytest.mark.parametrize(
    "direction, heading",
    [
        ("supports", "Findings that support it"),
        ("does_not_support", "Findings that do not support it"),
        ("mixed", "Mixed or descriptive findings"),
    ],
)
def test_a_finding_is_previewed_on_its_abnormalitys_page_under_its_direction(
    direction, heading, curator
):
    finding = factories.make_finding(status=Status.DRAFT, direction=direction, statement="Seen.")

    response = client_for(curator).get(preview_url(finding))
    html = response.content.decode()

    assert page_template(response) == "findings/abnormality_detail.html"
    section = html.split(heading)[1].split("<h3")[0]
    assert 'class="evidence previewed"' in section
    assert "Seen." in section


def test_a_finding_only_about_a_lab_test_is_previewed_on_its_sources_page(curator):
    finding = factories.make_finding(
        status=Status.DRAFT, lab_test=factories.make_lab_test(), statement="About the test."
    )

    response = client_for(curator).get(preview_url(finding))

    assert page_template(response) == "findings/source_detail.html"
    assert "About the test." in marked(response)


def test_a_lab_test_is_previewed_on_the_page_of_an_abnormality_it_measures(curator):
    abnormality = factories.make_abnormality(name="Low NK cell cytotoxicity")
    lab_test = factories.make_lab_test(status=Status.DRAFT, name="Chromium release assay")
    lab_test.abnormalities.add(abnormality)

    response = client_for(curator).get(preview_url(lab_test))

    assert "<h1>Low NK cell cytotoxicity</h1>" in response.content.decode()
    assert "Chromium release assay" in marked(response)


def test_a_lab_test_that_names_no_abnormality_says_readers_would_see_it_nowhere(curator):
    lab_test = factories.make_lab_test(status=Status.DRAFT, name="Orphan assay")

    response = client_for(curator).get(preview_url(lab_test))
    html = response.content.decode()

    assert response.status_code == 200
    assert "Readers would not see this lab test anywhere as it is" in html
    assert "Preview — not public. Status: draft." in banner(response)


def test_a_retracted_claim_is_previewed_as_if_published_and_shown_once(curator):
    evidence = factories.make_evidence(
        status=Status.RETRACTED, review_note="Wrong paper.", statement="Withdrawn claim."
    )

    response = client_for(curator).get(preview_url(evidence))
    html = page_without_banner(response)

    assert html.count("Withdrawn claim.") == 1
    assert "Withdrawn claim." in marked(response)
    assert "Retracted evidence" not in html


def test_a_published_claim_on_a_retracted_therapy_is_previewed_not_leaked(curator):
    therapy = factories.make_therapy(status=Status.RETRACTED, name="Withdrawn therapy")
    evidence = factories.make_evidence(therapy=therapy, statement="Still published.")

    staff = client_for(curator).get(preview_url(evidence))
    anonymous = client_for(None).get(preview_url(evidence))

    assert staff.status_code == 200
    assert "Its therapy “Withdrawn therapy” is retracted" in banner(staff)
    assert anonymous.status_code == 404


# ---------------------------------------------------------------------------
# Suggestions: the published record with the change applied, not saved
# ---------------------------------------------------------------------------


def test_a_suggestions_preview_shows_the_suggested_text_while_readers_see_the_published(
    author, editor
):
    evidence = factories.make_evidence(statement="Published text.", quote="")
    suggestion = suggest(evidence, author, statement="Suggested text.", level="C")

    preview = client_for(editor).get(suggestion_preview_url(suggestion))
    public = client_for(None).get(pair_url(evidence.therapy.slug, evidence.abnormality.slug))

    assert "Suggested text." in marked(preview)
    assert "Published text." not in page_without_banner(preview)
    assert 'level-letter">C<' in marked(preview)
    assert "Published text." in public.content.decode()
    assert "Suggested text." not in public.content.decode()
    # Nothing was saved.
    evidence.refresh_from_db()
    assert (evidence.statement, evidence.level) == ("Published text.", "B")
    suggestion.refresh_from_db()
    assert suggestion.state == SuggestionState.PENDING
    text = banner(preview)
    assert "Status: suggested change, waiting for review." in text
    assert f"the change {author.username} suggested to level, statement applied" in text
    assert f'href="/admin/curation/suggestion/{suggestion.pk}/change/"' in text


def test_a_suggested_change_to_a_therapy_is_previewed_on_its_page(author, editor):
    therapy = factories.make_therapy(name="Rintatolimod", summary="The published summary.")
    suggestion = suggest(therapy, author, summary="The suggested summary.")

    preview = client_for(editor).get(suggestion_preview_url(suggestion))
    public = client_for(None).get(therapy.get_absolute_url())

    assert '<p class="lede">The suggested summary.</p>' in preview.content.decode()
    assert '<p class="lede">The published summary.</p>' in public.content.decode()


def test_a_suggestion_moving_a_lab_test_is_previewed_on_the_new_abnormalitys_page(author, editor):
    old = factories.make_abnormality(name="Old abnormality")
    new = factories.make_abnormality(name="New abnormality")
    lab_test = factories.make_lab_test(name="Moved assay")
    lab_test.abnormalities.add(old)
    suggestion = suggest(lab_test, author, abnormalities=[new])

    preview = client_for(editor).get(suggestion_preview_url(suggestion))

    assert "<h1>New abnormality</h1>" in preview.content.decode()
    assert "Moved assay" in marked(preview)
    assert list(lab_test.abnormalities.all()) == [old]


def test_a_suggestion_whose_record_is_gone_is_a_404_not_a_500(author, editor):
    evidence = factories.make_evidence()
    suggestion = suggest(evidence, author, statement="Changed.")
    # The record is deleted behind the suggestion's back (a raw delete; PROTECT and the
    # services would refuse it otherwise).
    type(evidence).objects.filter(pk=evidence.pk)._raw_delete(using="default")

    assert client_for(editor).get(suggestion_preview_url(suggestion)).status_code == 404


def test_a_suggested_link_to_a_record_deleted_since_is_named_not_a_500(author, editor):
    evidence = factories.make_evidence(abnormality=None, statement="Kept.")
    other = factories.make_source(title="A source deleted later")
    suggestion = suggest(evidence, author, source=other)
    other.delete()

    response = client_for(editor).get(suggestion_preview_url(suggestion))

    assert response.status_code == 200
    assert "Not applied here, because what it names is gone" in banner(response)
    assert "Kept." in marked(response)


# ---------------------------------------------------------------------------
# Bad addresses
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/preview/treatments/therapy/0/",
        "/preview/treatments/therapy/99999999999999999999999/",
        "/preview/treatments/therapy/1x/",
        "/preview/treatments/nosuchkind/1/",
        "/preview/nosuchapp/therapy/1/",
        "/preview/auth/user/1/",
        "/preview/curation/suggestion/1/",
        "/preview/suggestions/0/",
        "/preview/suggestions/99999999999999999999999/",
        "/preview/suggestions/abc/",
    ],
)
def test_a_bad_preview_address_is_a_404_never_a_500(url, curator):
    factories.make_therapy(status=Status.DRAFT)

    assert client_for(curator).get(url).status_code == 404


# ---------------------------------------------------------------------------
# Queries, pinned (STYLE.md §14): the same with 1 and with 50 published rows
# ---------------------------------------------------------------------------


def queries_for(client, url, django_assert_num_queries, expected) -> None:
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("published", [1, 50])
def test_queries_for_previewing_draft_evidence_on_its_pair_page(
    published, curator, django_assert_num_queries
):
    therapy, abnormality = factories.make_therapy(), factories.make_abnormality()
    for _ in range(published):
        factories.make_evidence(therapy=therapy, abnormality=abnormality)
    draft = factories.make_evidence(therapy=therapy, abnormality=abnormality, status=Status.DRAFT)
    client = client_for(curator)
    # Session, user, the user's permissions (own and group); the draft with its source,
    # abnormality and therapy, and its two contradiction lists; what it rests on
    # (therapy, abnormality, source); the page: its stored rating with the counts (of
    # the published evidence: a draft changes them only once published), its page of
    # items with their two contradiction lists, its retracted items; the glossary.
    queries_for(client, preview_url(draft), django_assert_num_queries, 15)


@pytest.mark.parametrize("published", [1, 50])
def test_queries_for_previewing_a_draft_status_on_its_therapys_page(
    published, curator, django_assert_num_queries
):
    therapy = factories.make_therapy()
    for _ in range(published):
        factories.make_evidence(therapy=therapy, abnormality=None)
    draft = factories.make_regulatory_status(therapy=therapy, status=Status.DRAFT)
    client = client_for(curator)
    # Session, user, permissions; the status with its therapy and source; what it
    # rests on (therapy, source); the page: pair summaries, the evidence shown and its
    # two contradiction lists, the regulatory statuses, the harms; the glossary.
    queries_for(client, preview_url(draft), django_assert_num_queries, 13)


def test_queries_for_previewing_a_draft_therapy(curator, django_assert_num_queries):
    therapy = factories.make_therapy(status=Status.DRAFT)
    factories.make_evidence(therapy=therapy, status=Status.DRAFT)
    client = client_for(curator)
    # Session, user, permissions; the therapy; the page: pair summaries, the
    # evidence shown (none is public under a draft therapy), the regulatory statuses, the
    # harms; the glossary.
    queries_for(client, preview_url(therapy), django_assert_num_queries, 9)


@pytest.mark.parametrize("published", [1, 50])
def test_queries_for_previewing_a_draft_finding(published, curator, django_assert_num_queries):
    abnormality = factories.make_abnormality()
    for _ in range(published):
        factories.make_finding(abnormality=abnormality)
    draft = factories.make_finding(abnormality=abnormality, status=Status.DRAFT)
    client = client_for(curator)
    # Session, user, permissions; the finding with its abnormality, source and lab
    # test; what it rests on (abnormality, source); the page: its findings counted by
    # group, the page of them, its recently retracted findings, lab tests, therapies tied
    # to it, retracted therapy evidence; the glossary.
    queries_for(client, preview_url(draft), django_assert_num_queries, 13)


@pytest.mark.parametrize("published", [1, 50])
def test_queries_for_previewing_a_suggestion(published, author, editor, django_assert_num_queries):
    therapy, abnormality = factories.make_therapy(), factories.make_abnormality()
    for _ in range(published):
        factories.make_evidence(therapy=therapy, abnormality=abnormality)
    evidence = factories.make_evidence(therapy=therapy, abnormality=abnormality)
    suggestion = suggest(evidence, author, statement="Changed.")
    client = client_for(editor)
    # Session, user, permissions; the suggestion with its author, content type and
    # its record's version; then as for a draft: the record (3), what it rests on (3),
    # the page (7, with its stored rating and counts and the glossary).
    queries_for(client, suggestion_preview_url(suggestion), django_assert_num_queries, 16)


# ---------------------------------------------------------------------------
# The admin: "View on site" and "Preview"
# ---------------------------------------------------------------------------


def view_on_site(response) -> str | None:
    found = re.search(r'<a href="([^"]*)" class="viewsitelink">', response.content.decode())
    return found.group(1) if found else None


def test_view_on_site_of_a_draft_opens_its_preview_and_a_preview_button_too(curator):
    therapy = factories.make_therapy(status=Status.DRAFT, created_by=curator)
    client = client_for(curator)

    page = client.get(f"/admin/treatments/therapy/{therapy.pk}/change/")

    assert view_on_site(page) == preview_url(therapy)
    assert f'<a class="button" href="{preview_url(therapy)}" target="_blank"' in (
        page.content.decode()
    )
    followed = client.get(view_on_site(page))
    assert "Preview — not public. Status: draft." in banner(followed)


def test_view_on_site_of_a_published_record_is_its_public_page_and_there_is_no_preview_button(
    editor,
):
    therapy = factories.make_therapy()

    page = client_for(editor).get(f"/admin/treatments/therapy/{therapy.pk}/change/")

    assert view_on_site(page) == therapy.get_absolute_url()
    assert "/preview/" not in page.content.decode()


def test_view_on_site_of_a_published_claim_leads_to_its_place_on_the_public_page(editor):
    evidence = factories.make_evidence()

    page = client_for(editor).get(f"/admin/treatments/therapyevidence/{evidence.pk}/change/")
    followed = client_for(editor).get(view_on_site(page))

    assert followed.status_code == 302
    assert followed["Location"] == (
        f"{pair_url(evidence.therapy.slug, evidence.abnormality.slug)}#evidence-{evidence.pk}"
    )


def test_inline_claims_on_a_therapys_page_link_to_their_previews(curator):
    evidence = factories.make_evidence(status=Status.DRAFT, abnormality=None)

    page = client_for(curator).get(f"/admin/treatments/therapy/{evidence.therapy.pk}/change/")

    assert f'href="{preview_url(evidence)}"' in page.content.decode()


def test_a_suggestions_admin_page_offers_its_preview(author, editor):
    suggestion = suggest(factories.make_evidence(), author, statement="Changed.")

    page = client_for(editor).get(f"/admin/curation/suggestion/{suggestion.pk}/change/")

    assert f'href="{suggestion_preview_url(suggestion)}"' in page.content.decode()

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from findings.models import Source
from tests.factories import make_abnormality, make_evidence, make_finding, make_source


@pytest.mark.django_db
class TestDOI:
    def test_it_normalises_a_pasted_doi_link_to_lower_case_without_its_prefix(self):
        source = make_source()
        source.doi = "HTTPS://DOI.ORG/10.1186/1479-5876-9-81"
        source.full_clean()
        assert source.doi == "10.1186/1479-5876-9-81"

    def test_it_strips_a_doi_colon_prefix(self):
        source = make_source()
        source.doi = "doi:10.1186/ABC"
        source.full_clean()
        assert source.doi == "10.1186/abc"

    @pytest.mark.parametrize(
        "bad", ["11.1186/x", "10.12/x", "10.1186", "not a doi", "10.1186/has space"]
    )
    def test_it_rejects_a_malformed_doi_with_a_message_that_explains(self, bad):
        source = make_source()
        source.doi = bad
        with pytest.raises(ValidationError) as excinfo:
            source.full_clean()
        message = " ".join(excinfo.value.message_dict["doi"])
        assert "is not a DOI" in message
        assert "10." in message

    def test_it_refuses_a_second_source_with_the_same_doi_in_any_spelling(self):
        make_source(key="brenu2011_nk", title="NK cells", doi="10.1186/1479-5876-9-81")
        duplicate = Source(
            key="dup",
            kind="journal_article",
            title="Copy",
            doi="https://doi.org/10.1186/1479-5876-9-81",
        )
        with pytest.raises(ValidationError) as excinfo:
            duplicate.full_clean()
        assert excinfo.value.message_dict == {
            "doi": [
                "A source with this DOI already exists: “brenu2011_nk” (NK cells). Open that "
                "source instead of adding the document again."
            ]
        }

    def test_the_database_refuses_a_duplicate_doi_even_without_validation(self):
        make_source(doi="10.1000/abc")
        with pytest.raises(IntegrityError), transaction.atomic():
            make_source(doi="10.1000/ABC")

    def test_many_sources_may_have_no_doi(self):
        make_source(doi="")
        make_source(doi="")
        assert Source.objects.filter(doi="").count() == 2

    def test_a_doi_lookup_finds_the_source_whatever_the_spelling(self):
        source = make_source(doi="10.1000/xyz")
        assert Source.objects.get(doi="https://doi.org/10.1000/XYZ") == source


@pytest.mark.django_db
class TestPMID:
    @pytest.mark.parametrize("bad", ["12a45", "0123", "1234567890", "12 34", "-5"])
    def test_it_rejects_a_pmid_that_is_not_digits(self, bad):
        source = make_source()
        source.pmid = bad
        with pytest.raises(ValidationError) as excinfo:
            source.full_clean()
        assert "is not a PubMed ID" in " ".join(excinfo.value.message_dict["pmid"])

    def test_it_accepts_a_pmid_with_a_pmid_prefix_and_stores_digits(self):
        source = make_source()
        source.pmid = " PMID: 2387751 "
        source.full_clean()
        assert source.pmid == "2387751"

    def test_it_refuses_a_duplicate_pmid(self):
        make_source(key="nishikai", title="51 cases", pmid="2387751")
        duplicate = Source(key="dup", kind="journal_article", title="Copy", pmid="2387751")
        with pytest.raises(ValidationError) as excinfo:
            duplicate.full_clean()
        assert list(excinfo.value.message_dict) == ["pmid"]
        assert "A source with this PMID already exists: “nishikai” (51 cases)." in str(
            excinfo.value
        )

    def test_a_source_keeps_its_own_pmid_when_edited(self):
        source = make_source(pmid="2387751", doi="10.1000/abc")
        source.title = "A corrected title"
        source.full_clean()

    def test_it_rejects_a_malformed_pmcid(self):
        source = make_source()
        source.pmcid = "3147318"
        with pytest.raises(ValidationError) as excinfo:
            source.full_clean()
        assert "PubMed Central" in " ".join(excinfo.value.message_dict["pmcid"])


@pytest.mark.django_db
class TestProtectedDeletes:
    def test_it_refuses_to_delete_a_source_that_backs_claims(self):
        finding = make_finding()
        with pytest.raises(ProtectedError) as excinfo:
            finding.source.delete()
        assert finding in excinfo.value.protected_objects

    def test_it_refuses_to_delete_an_abnormality_with_evidence(self):
        evidence = make_evidence()
        with pytest.raises(ProtectedError):
            evidence.abnormality.delete()

    def test_it_refuses_to_delete_a_therapy_with_evidence(self):
        evidence = make_evidence()
        with pytest.raises(ProtectedError):
            evidence.therapy.delete()

    def test_it_deletes_a_source_that_backs_nothing(self):
        source = make_source()
        source.delete()
        assert not Source.objects.filter(key=source.key).exists()


@pytest.mark.django_db
class TestClaimConstraints:
    def test_evidence_naming_an_abnormality_needs_a_link_kind(self):
        evidence = make_evidence()
        evidence.link_kind = ""
        with pytest.raises(ValidationError) as excinfo:
            evidence.full_clean()
        assert "Give a link kind when an abnormality is named" in str(excinfo.value)

    def test_evidence_about_mecfs_generally_has_no_link_kind(self):
        evidence = make_evidence(abnormality=None)
        evidence.link_kind = "measured"
        with pytest.raises(ValidationError):
            evidence.full_clean()

    def test_the_database_refuses_an_unknown_level(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_evidence(level="Z")

    def test_a_finding_must_be_about_an_abnormality_or_a_test(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_finding(abnormality=None, lab_test=None)

    def test_abnormality_slugs_are_unique(self):
        make_abnormality(slug="low-nk")
        with pytest.raises(IntegrityError), transaction.atomic():
            make_abnormality(slug="low-nk")


@pytest.mark.django_db
def test_a_long_title_is_shortened_in_a_sources_name_with_a_visible_ellipsis():
    title = "Evaluation of Immune Dysregulation in an Austrian Patient Cohort Suffering " * 2
    source = make_source(title=title.strip(), authors="Lutz L", year=2021)
    name = str(source)
    assert name.endswith("…")
    assert name.startswith("Lutz L 2021: Evaluation of Immune Dysregulation")
    assert len(name) == len("Lutz L 2021: ") + 80
    assert str(make_source(title="A short title", authors="Lutz L", year=2021)) == (
        "Lutz L 2021: A short title"
    )

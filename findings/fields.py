"""Identifier fields that normalise what curators paste and explain what is wrong."""

import re
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d{1,9}$")
NCT_RE = re.compile(r"^NCT\d{8}$")
# What a curator copies from PubMed or PubMed Central: a label, a link to the record.
PMID_PASTED_RE = re.compile(
    r"^(?:pmid:?|https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/)"
    r"\s*(?P<id>\d+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)
PMCID_PASTED_RE = re.compile(
    r"^(?:pmcid:?\s*|https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc|pmc\.ncbi\.nlm\.nih\.gov)"
    r"/articles/)(?P<id>pmc\d+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)
# A ClinicalTrials.gov record: its label, the new /study/ link or the classic /ct2/show/ one.
NCT_PASTED_RE = re.compile(
    r"^(?:(?:nct\s*(?:id|number)?:?\s*)|https?://(?:www\.)?(?:classic\.)?clinicaltrials\.gov/"
    r"(?:study|ct2/show(?:/record)?)/)?(?P<id>nct\d+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)


def normalise_doi(value: str) -> str:
    """Lower-case, trimmed, without a resolver prefix or ``doi:``: DOIs are case-insensitive."""
    value = (value or "").strip()
    lowered = value.lower()
    for prefix in DOI_PREFIXES:
        if lowered.startswith(prefix):
            value = value[len(prefix) :]
            break
    else:
        if lowered.startswith("doi:"):
            value = value[4:].strip()
    return value.lower()


def normalise_pmid(value: str) -> str:
    """Digits only: ``PMID: 34828599`` and a PubMed link are one paper. Spaces inside
    the number are left for the validator to refuse: ``12 34`` may be two numbers."""
    value = (value or "").strip()
    pasted = PMID_PASTED_RE.match(value)
    return pasted["id"] if pasted else value


def normalise_pmcid(value: str) -> str:
    """``PMC`` and digits, from a label, a PubMed Central link or lower case."""
    value = (value or "").strip()
    pasted = PMCID_PASTED_RE.match(value)
    return (pasted["id"] if pasted else value).upper()


def normalise_nct(value: str) -> str:
    """``NCT`` and eight digits, from a label, a ClinicalTrials.gov link or lower case."""
    value = (value or "").strip()
    pasted = NCT_PASTED_RE.match(value)
    return (pasted["id"] if pasted else value).upper()


class PastedIdentifierField(forms.CharField):
    """A form field that takes an identifier as curators paste it and normalises it.
    It has no length limit of its own, so its widget has no ``maxlength``: a browser
    would cut a pasted ``PMID: 34828599`` to ``PMID: 348285`` (another paper) without a
    word. The model field checks the normalised value, its format before its length."""

    def __init__(self, *, normalise: Callable[[str], str], **kwargs):
        self.normalise = normalise
        super().__init__(**{**kwargs, "max_length": None})

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalise(value) if value else value


class IdentifierField(models.CharField):
    """A normalised identifier column whose forms accept what curators paste."""

    def normalise(self, value: str) -> str:
        raise NotImplementedError

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalise(value) if value else value

    def formfield(self, **kwargs):
        return super().formfield(
            **{"form_class": PastedIdentifierField, "normalise": self.normalise, **kwargs}
        )


def validate_doi(value: str) -> None:
    if value and not DOI_RE.match(value):
        raise ValidationError(
            "%(value)s is not a DOI. A DOI starts with 10., a registrant code of 4 to 9 "
            "digits, a slash and a suffix, for example 10.1186/1479-5876-9-81.",
            code="invalid_doi",
            params={"value": value},
        )


def validate_pmid(value: str) -> None:
    if value and not PMID_RE.match(value):
        raise ValidationError(
            "%(value)s is not a PubMed ID. A PMID is digits only (no 'PMID:' prefix, "
            "no spaces), for example 2387751.",
            code="invalid_pmid",
            params={"value": value},
        )


def validate_pmcid(value: str) -> None:
    if value and not PMCID_RE.match(value):
        raise ValidationError(
            "%(value)s is not a PubMed Central ID. It is PMC followed by digits, "
            "for example PMC3147318.",
            code="invalid_pmcid",
            params={"value": value},
        )


def validate_nct(value: str) -> None:
    if value and not NCT_RE.match(value):
        raise ValidationError(
            "%(value)s is not a ClinicalTrials.gov number. It is NCT followed by eight "
            "digits, for example NCT00215813.",
            code="invalid_nct",
            params={"value": value},
        )


class DOIField(IdentifierField):
    """A DOI stored normalised, so that a pasted ``https://doi.org/10.X/Y`` and
    ``10.x/y`` are found to be the same document by the unique constraint."""

    default_validators = [validate_doi]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def normalise(self, value: str) -> str:
        return normalise_doi(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return normalise_doi(value) if value else value


class PMIDField(IdentifierField):
    default_validators = [validate_pmid]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 12)
        super().__init__(*args, **kwargs)

    def normalise(self, value: str) -> str:
        return normalise_pmid(value)


class PMCIDField(IdentifierField):
    default_validators = [validate_pmcid]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def normalise(self, value: str) -> str:
        return normalise_pmcid(value)


class NCTField(IdentifierField):
    default_validators = [validate_nct]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 11)
        super().__init__(*args, **kwargs)

    def normalise(self, value: str) -> str:
        return normalise_nct(value)

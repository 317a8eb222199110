"""Identifier fields that normalise what curators paste and explain what is wrong."""

import re

from django.core.exceptions import ValidationError
from django.db import models

DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d{1,9}$")


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


class DOIField(models.CharField):
    """A DOI stored normalised, so that a pasted ``https://doi.org/10.X/Y`` and
    ``10.x/y`` are found to be the same document by the unique constraint."""

    default_validators = [validate_doi]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_doi(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return normalise_doi(value) if value else value


class PMIDField(models.CharField):
    default_validators = [validate_pmid]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 12)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value:
            value = value.strip()
            if value.lower().startswith("pmid:"):
                value = value[5:].strip()
        return value


class PMCIDField(models.CharField):
    default_validators = [validate_pmcid]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip().upper() if value else value

"""Plain words for a stored rating (issue 12): the one sentence a reader sees first on a
pair page, built from the fields of ``PairCertainty`` (never typed per pair), and the
short marks the matrix and the gap map use, readable without colour."""

from __future__ import annotations

from treatments.models import Certainty, NetDirection, PairCertainty

# A mark per certainty, the same everywhere: four filled or empty circles, as guideline
# summaries print them, so that a cell reads without its colour.
CERTAINTY_MARK = {
    Certainty.HIGH: "●●●●",
    Certainty.MODERATE: "●●●○",
    Certainty.LOW: "●●○○",
    Certainty.VERY_LOW: "●○○○",
}
DIRECTION_MARK = {
    NetDirection.BENEFIT: "+",
    NetDirection.NO_BENEFIT: "0",
    NetDirection.HARM: "!",
    NetDirection.UNCERTAIN: "±",
    NetDirection.NOT_STUDIED: "?",
}
DIRECTION_WORD = {
    NetDirection.BENEFIT: "helps",
    NetDirection.NO_BENEFIT: "does not help",
    NetDirection.HARM: "harms",
}
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# What the counted studies are, from where the rating started (the best tier present).
STUDY_NOUN = {
    Certainty.HIGH: ("randomised trial", "randomised trials"),
    Certainty.LOW: ("observational or uncontrolled study", "observational or uncontrolled studies"),
    Certainty.VERY_LOW: ("laboratory study or opinion", "laboratory studies or opinions"),
}
FOUND = {
    NetDirection.BENEFIT: "found a benefit",
    NetDirection.NO_BENEFIT: "found no benefit",
    NetDirection.HARM: "found harm",
    NetDirection.UNCERTAIN: "point different ways",
}


def _number(n: int) -> str:
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else f"{n:,}"


def _people_with(name: str) -> str:
    # "Low IgG subclasses" reads "people with low IgG subclasses"; an abbreviation
    # ("NK cells ...", "IgG1 subclass deficiency") keeps its capitals.
    first = name.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        name = name[0].lower() + name[1:]
    return f"people with {name}"


def _basis(rating: PairCertainty, direction: str) -> str:
    n = rating.studies_counted
    if not n:
        return "no study has been counted, only a rationale or opinion ties them"
    singular, plural = STUDY_NOUN.get(rating.starting_certainty, ("study", "studies"))
    noun = singular if n == 1 else plural
    people = rating.participants_counted
    size = ""
    if people:
        size = f" with {people:,} participant{'s' if people != 1 else ''} in all"
    verb = FOUND.get(direction, "")
    if direction == NetDirection.UNCERTAIN:
        verb = "point different ways" if n > 1 else "is inconclusive"
    elif n > 1 and verb.startswith("found"):
        verb = "together " + verb
    return f"{_number(n)} {noun}{size} {verb}".rstrip()


def plain_sentence(rating: PairCertainty, therapy: str, abnormality: str | None = None) -> str:
    """One sentence from the stored rating: how sure, which way, on what.

    The certainty and direction are what readers are shown first (an editor's override,
    when there is one); the basis is the computed count of studies and participants."""
    certainty = rating.shown_certainty
    direction = rating.shown_direction
    level = Certainty(certainty).label
    whom = _people_with(abnormality) if abnormality else "people with ME/CFS"
    basis = _basis(rating, direction)
    if direction == NetDirection.NOT_STUDIED:
        return f"{therapy} has not been studied in {whom}: {basis}."
    if direction == NetDirection.UNCERTAIN:
        return f"{level} certainty about whether {therapy} helps {whom}: {basis}."
    return f"{level} certainty that {therapy} {DIRECTION_WORD[direction]} {whom}: {basis}."

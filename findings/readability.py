"""How easy a claim's plain-language summary is to read (issue 12: "reading grade ≤ 9").

The measure is the Flesch-Kincaid grade level, as textstat computes it
(``textstat.flesch_kincaid_grade``): the US school grade whose pupils read the text
without help, from the words per sentence and the syllables per word. It needs no
word list of our own, and it is the same on every machine (textstat counts syllables
with the bundled CMU pronouncing dictionary, falling back to hyphenation rules for
words it lacks).

It is an estimate: a short sentence with one long medical word ("immunoglobulin")
can read harder than it is. So a grade above ``PLAIN_GRADE_MAX`` is a warning to the
curator in the admin, never a refusal; the seed and literature fixtures are held to
it by tests (tests/test_plain_summaries.py).
"""

from __future__ import annotations

# Grade 9 (issue 12): text a pupil in the ninth school year reads without help.
PLAIN_GRADE_MAX = 9


def reading_grade(text: str) -> float:
    """The Flesch-Kincaid grade of ``text``, to one decimal."""
    # Imported when a grade is asked for (the admin's forms), not by every worker at start
    # (findings/citation_libraries.py says why).
    import textstat

    return round(float(textstat.flesch_kincaid_grade(text)), 1)


def reading_grade_advice(text: str) -> str:
    """What a curator is told about a plain summary: its grade, and whether to simplify."""
    if not text.strip():
        return "Empty: needed before the claim can be published."
    grade = reading_grade(text)
    if grade <= PLAIN_GRADE_MAX:
        return f"Reading grade {grade:g}: plain enough (aim: {PLAIN_GRADE_MAX} or below)."
    return (
        f"Reading grade {grade:g}, above the aim of {PLAIN_GRADE_MAX}: use shorter "
        "sentences and everyday words (write out abbreviations) so that any reader can "
        "follow it."
    )

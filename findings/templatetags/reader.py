"""Small helpers for readers' templates."""

import html
import re

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from findings.glossary import gloss as gloss_text
from findings.models import LEVEL_SHORT, Source

register = template.Library()


@register.filter
def level_name(letter: str | None) -> str:
    """'B' → 'Controlled': the word that goes with the colour and the letter."""
    return LEVEL_SHORT.get(letter or "", "")


# The two tags below are written out in Python rather than as inclusion templates: a
# list page shows hundreds of them, and a template per badge was most of its rendering
# (issue 14). tests/test_reader_tags_html.py checks them against the templates they
# replaced. Their values are escaped as format_html escapes them (``_escaped``), without
# its lazy-string checks and safe string per value: thousands a page.


@register.simple_tag
def level_badge(letter: str | None, *, words: bool = True, direction: str = "") -> str:
    """The level's letter, colour and name; with ``direction`` (a label: 'for',
    'against', 'supports' …) the way its item or items point, beside it."""
    if not letter:
        return mark_safe('<span class="level level-none">no published evidence</span>')
    name = _escaped(LEVEL_SHORT.get(letter, ""))
    letter = _escaped(letter)
    text = f'<span class="level level-{letter}"><span class="level-letter">{letter}</span>'
    if words:
        text += f' <span class="level-name">{name}</span>'
    else:
        text += f'<span class="visually-hidden"> ({name})</span>'
    if direction:
        text += f' <span class="level-direction">· {_escaped(direction)}</span>'
    return mark_safe(text + "</span>")


@register.simple_tag
def counts_line(counts, *, pair: str = "", level: bool = True) -> str:
    """The one line of counts every page shows for a pair or a therapy (``counts``: the
    stored EvidenceCounts, treatments/counts.py): its strongest level with the way it
    points, then for · against · other, contested items named. ``data-`` attributes
    carry the same numbers, for tests and scripts."""
    c = counts
    e = _escaped
    text = (
        f'<span class="counts" data-pair="{e(pair)}" data-level="{e(c.best_level)}" '
        f'data-level-direction="{e(c.best_direction)}" data-for="{e(c.supporting)}" '
        f'data-against="{e(c.not_supporting)}" data-other="{e(c.other)}" '
        f'data-contested="{e(c.contested)}">'
    )
    if level:
        text += level_badge(c.best_level, direction=c.best_direction_label) + ", "
    text += f"{e(c.supporting)} for · {e(c.not_supporting)} against · {e(c.other)} other"
    if c.contested:
        text += f" ({e(c.contested)} contested)"
    return mark_safe(text + "</span>")


@register.simple_tag
def checkboxes(field) -> str:
    """The checkboxes of a multiple-choice filter (a thousand abnormalities), one
    ``<div class="check">`` each, as the loop over the field's options wrote them
    (``{{ box.tag }}`` with its label): one string instead of a template per option."""
    chosen = {str(value) for value in field.value() or [] if value is not None}
    # Escaped as format_html escapes each argument, once for what every option shares.
    name = conditional_escape(field.html_name)
    auto_id = conditional_escape(field.auto_id)
    parts = []
    for index, (value, label) in enumerate(field.field.choices):
        value = str(value)
        check_id = f"{auto_id}_{index}"
        checked = " checked" if value in chosen else ""
        parts.append(
            f'\n        \n        <div class="check"><input type="checkbox" name="{name}" '
            f'value="{_escaped(value)}" id="{check_id}"{checked}> '
            f'<label for="{check_id}">{_escaped(label)}</label></div>\n        '
        )
    return mark_safe("".join(parts))


def _escaped(text) -> str:
    """``conditional_escape(text)`` without its safe string made per call (a thousand
    labels a page): text already safe as it is, anything else escaped as Django escapes."""
    if hasattr(text, "__html__"):
        return text.__html__()
    return html.escape(str(text))


_CHOSEN_LI = '<li class="selected">'
_YOUR_FILTER = ' <span class="tag">your filter</span>'


@register.simple_tag
def card_ties(ties, selected) -> str:
    """The ``<li>`` of each tie a therapy's card names (treatments/views.py ``Tie``):
    the abnormality, linked to the pair's page, its strongest level, and "your filter"
    on those the reader chose (``selected``: their slugs), as the loop over them wrote
    it (tests/data/card_ties_reference.html)."""
    parts = []
    for tie in ties:
        chosen = tie.abnormality.slug in selected
        badge = level_badge(tie.best_level, words=False, direction=tie.counts.best_direction_label)
        opening, tag = (_CHOSEN_LI, _YOUR_FILTER) if chosen else ("<li>", "")
        parts.append(
            f"\n          {opening}"
            f'<a href="{_escaped(tie.url)}">{_escaped(tie.abnormality.name)}</a> {badge}'
            f"{tag}</li>\n          "
        )
    return mark_safe("".join(parts))


@register.filter
def citation(source) -> str:
    """'Brenu 2011: Immunological abnormalities …' with the whole title (``str(source)``
    cuts it at 80 characters, which is for the admin)."""
    return source.citation_with(source.title)


@register.filter
def gloss(text: str, terms=None):
    """``{{ item.statement|gloss:glossary_terms }}``: the text with the glossary's terms
    explained where they first occur (findings/glossary.py); escaped."""
    return gloss_text(text, terms or [])


# A citation key's shape: lower-case words joined by underscores ("baraniuk2024_nk_meta",
# "reg_hbot_cfs_status"); field names quoted in notes ("outcome_summary") share it.
KEY_SHAPE = re.compile(r"(?<![\w/.@-])([a-z][a-z0-9]*(?:_[a-z0-9*]+)+)(?![\w])")
# What only a key looks like: a year after a name, or a kind of record first.
KEY_ONLY = re.compile(r"^(?:[a-z]+[0-9]{4}_|(?:reg|nct|kb|seed)_)")


@register.filter
def cite_keys(text: str) -> str:
    """Provenance text as readers read it. A verification note quotes the checked
    references' notes verbatim, keys and field names and all: a key becomes its
    source's "Author Year" (a key no source holds, such as a document's second key in
    the checked references, becomes words), a field name becomes words ("outcome
    summary"). One query, only when the text holds something key-shaped."""
    found = set(KEY_SHAPE.findall(text or ""))
    if not found:
        return text
    cited = {s.key: s.short_citation for s in Source.objects.filter(key__in=found)}

    def words(match: re.Match) -> str:
        key = match.group(1)
        if key in cited:
            return cited[key]
        if key.endswith("_*"):
            return "the records listed with it"
        if KEY_ONLY.match(key):
            return "a second entry"
        return key.replace("_", " ")

    return KEY_SHAPE.sub(words, text)


# The evidence matrix's rows (treatments/home.html), written out in Python for the same
# reason as the tags above: a row per abnormality, a cell per therapy, hundreds of cells
# rendered by the template language were most of the home page (issue 14).
# tests/test_reader_tags_html.py checks them against the template loop they replaced.
_EMPTY_CELL = (
    '\n          <td class="cell cell-empty"><span aria-hidden="true">\u2013</span>'
    '<span class="visually-hidden">no published evidence</span></td>\n          '
)


def _matrix_cell(abnormality_name: str, cell) -> str:
    counts = cell.counts
    level = cell.best_level
    certainty = ""
    if cell.certainty:
        certainty = format_html(
            '<span class="cell-certainty"><span aria-hidden="true">{} {}</span>'
            '<span class="visually-hidden">; {} certainty, {}</span></span>',
            cell.certainty_mark,
            cell.direction_mark,
            cell.certainty_label,
            cell.direction_label.lower(),
        )
    return format_html(
        '\n          <td class="cell level-{}{}">\n            <a href="{}">\n'
        '              <span class="visually-hidden">{} and {}: level</span>\n'
        "              \n"
        '              <span class="cell-therapy" aria-hidden="true">{}</span>\n'
        '              <span class="cell-letter">{}</span> '
        '<span class="cell-letter-direction">{}</span>\n'
        '              <span class="visually-hidden">({}: {});</span>\n'
        '              <span class="cell-counts">{}</span>\n'
        "              {}\n"
        "            </a>\n          </td>\n          ",
        level,
        format_html(" certainty-{}", cell.certainty) if cell.certainty else "",
        cell.url,
        abnormality_name,
        cell.therapy_name,
        cell.therapy_name,
        level,
        counts.best_direction_label,
        level_name(level),
        counts.best_direction_meaning,
        counts_line(counts, pair=cell.key, level=False),
        certainty,
    )


@register.simple_tag
def matrix_rows(rows) -> str:
    """The matrix's ``<tr>`` rows: ``rows`` are (abnormality, cells), a cell per therapy
    column, None where nothing published ties the two."""
    parts = []
    for abnormality, cells in rows:
        name = conditional_escape(abnormality.name)
        parts.append(
            format_html(
                '\n        <tr>\n          <th scope="row"><a href="{}">{}</a></th>\n          ',
                abnormality.get_absolute_url(),
                name,
            )
        )
        for cell in cells:
            parts.append("\n          ")
            parts.append(_EMPTY_CELL if cell is None else _matrix_cell(name, cell))
            parts.append("\n          ")
        parts.append("\n        </tr>\n        ")
    return mark_safe("".join(parts))

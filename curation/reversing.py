"""URLs of records named by slugs, made without resolving the pattern for each.

A reader page links hundreds of records (a therapy's page, at scale, every one of the
874 abnormalities it is tied to), and Django's ``reverse()`` looks the pattern up,
checks and quotes each argument every time: about 20 µs a link, a tenth of the therapy
list's time at 500,000 items (issue 14). A slug needs no quoting in a path, so the path
is reversed once (per URL configuration and script prefix) with placeholders, then
filled in; a value that is not a plain slug is reversed as usual.
"""

from __future__ import annotations

import functools
import re

from django.urls import get_script_prefix, get_urlconf, reverse

# What the ``slug`` path converter matches, and so needs no quoting.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
# Stands for an argument in the path reversed once: a slug that no real one is.
_HOLE = "0slug-hole-{}0"


@functools.lru_cache(maxsize=64)
def _pattern(viewname: str, names: tuple[str, ...], urlconf, prefix: str) -> tuple[str, ...]:
    holes = {name: _HOLE.format(number) for number, name in enumerate(names)}
    path = reverse(viewname, urlconf=urlconf, kwargs=holes)
    parts = [path]
    for name in names:
        before, hole, after = parts.pop().partition(holes[name])
        if not hole or holes[name] in after:
            return ()  # each argument once, in order, or not at all: reverse each time
        parts += [before, after]
    return tuple(parts)


def slug_reverse(viewname: str, **slugs: str) -> str:
    """``reverse(viewname, kwargs=slugs)`` for URLs whose arguments are slugs."""
    if all(isinstance(value, str) and _SLUG.match(value) for value in slugs.values()):
        parts = _pattern(viewname, tuple(slugs), get_urlconf(), get_script_prefix())
        if parts:
            values = iter(slugs.values())
            return parts[0] + "".join(next(values) + part for part in parts[1:])
    return reverse(viewname, kwargs=slugs)

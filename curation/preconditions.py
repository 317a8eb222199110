"""ETag and If-Match for one curated record (no lost updates through the API).

A record's ETag is ``"v<version>-<digest>"``: ``version`` is ``Moderated.version``
(it moves on every save of the record; the admin's conflict check compares the same
token) and ``digest`` is a hash of the response body, so that a cached copy is never
declared fresh while a related record shown in it (a source's title, say) changed.

Every other API response (lists, the changes) is tagged ``"d<data version>-<digest>"``:
it changes with the data version (curation/versions.py) as well as with the body, and
tells at a glance which version a cached copy showed.

``If-Match`` compares the version part only: the question it answers is "has this
record been saved since I read it?", which is what a lost update is. ``*`` matches any
existing record; a weak tag (``W/"…"``) never matches (RFC 9110 §13.1.1).
"""

from __future__ import annotations

import hashlib
import re

from django.utils.http import parse_etags

from curation.models import Moderated

_TAG = re.compile(r'^"v(?P<version>\d+)(?:-[0-9a-f]*)?"$')
NO_MATCH = "no-match"  # never equal to a record's version


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def record_etag(record: Moderated, body: bytes) -> str:
    return f'"v{record.version}-{_digest(body)}"'


def data_etag(data_version: int, body: bytes) -> str:
    return f'"d{data_version}-{_digest(body)}"'


def if_match_version(header: str | None) -> str | None:
    """The version an ``If-Match`` header asks for: ``None`` when there is no header
    (or ``*``), ``NO_MATCH`` when it names no strong tag of ours."""
    if header is None:
        return None
    tags = parse_etags(header)
    if tags == ["*"]:
        return None
    for tag in tags:
        match = _TAG.match(tag)
        if match:
            return match["version"]
    return NO_MATCH

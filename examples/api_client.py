"""Reading and writing the knowledge base through a client generated from its schema.

Generate the client (openapi-python-client; nothing is fetched but the schema):

    openapi-python-client generate --url http://127.0.0.1:8000/api/v1/schema/ \\
        --meta none --output-path mecfs_kb_client \\
        --config examples/openapi-python-client.yml

then, with ``mecfs_kb_client`` importable (the current directory):

    python examples/api_client.py http://127.0.0.1:8000            # reads
    python examples/api_client.py http://127.0.0.1:8000 <token>    # and a draft source

Reads need no account: a plain ``Client``. Writes need a curator's token: an
``AuthenticatedClient``, which sends ``Authorization: Bearer <token>`` (the API takes it
as ``Token <token>``). tests/test_api_generated_client.py generates the client from the
live schema, type-checks this script with mypy and runs it against a test server.
"""

from __future__ import annotations

import sys
import time
from http import HTTPStatus

from mecfs_kb_client import AuthenticatedClient, Client
from mecfs_kb_client.api.changes import changes_list
from mecfs_kb_client.api.sources import sources_create, sources_partial_update, sources_retrieve
from mecfs_kb_client.api.therapies import therapies_list, therapies_retrieve
from mecfs_kb_client.models import (
    LevelEnum,
    PaginatedDataChangeList,
    PaginatedTherapyList,
    PatchedSourceRequest,
    Source,
    SourceKindEnum,
    SourceRequest,
    TherapiesListSortItem,
    Therapy,
)


def read(base_url: str) -> int:
    """Anonymous reads: therapies with evidence of level B or better, strongest evidence
    first; one of them read again with its ETag (304: unchanged); what changed since data
    version 0. Returns the data version the list showed."""
    with Client(base_url=base_url, raise_on_unexpected_status=True) as client:
        page = therapies_list.sync(
            client=client,
            level=LevelEnum.B,
            sort=[TherapiesListSortItem.EVIDENCE_DESC, TherapiesListSortItem.NAME],
            page_size=10,
        )
        if not isinstance(page, PaginatedTherapyList):
            raise SystemExit(f"Listing therapies failed: {page}")
        print(f"{page.count} therapies with evidence of level B or better:")
        for therapy in page.results:
            print(f"  {therapy.name} (best level {therapy.best_level})")

        if page.results:
            slug = page.results[0].slug
            first = therapies_retrieve.sync_detailed(slug, client=client)
            if not isinstance(first.parsed, Therapy):
                raise SystemExit(f"Reading {slug} failed: {first.parsed}")
            again = therapies_retrieve.sync_detailed(
                slug, client=client, if_none_match=first.headers["ETag"]
            )
            print(f"{slug} read again with its ETag: {again.status_code.value}")
            assert again.status_code == HTTPStatus.NOT_MODIFIED

        changes = changes_list.sync(client=client, since=0)
        if not isinstance(changes, PaginatedDataChangeList):
            raise SystemExit(f"Listing changes failed: {changes}")
        print(f"{changes.count} changes since data version 0")
        return page.data_version


def write(base_url: str, token: str) -> Source:
    """With a curator's token: a draft source, then a change to it that applies only if
    nobody saved it in between (If-Match with the ETag of the last read)."""
    with AuthenticatedClient(
        base_url=base_url, token=token, raise_on_unexpected_status=True
    ) as client:
        created = sources_create.sync(
            client=client,
            body=SourceRequest(
                key=f"example_{int(time.time())}",
                kind=SourceKindEnum.REVIEW,
                title="A draft written by the example client",
            ),
        )
        if not isinstance(created, Source):
            raise SystemExit(f"Creating a source failed: {created}")
        current = sources_retrieve.sync_detailed(created.id, client=client)
        changed = sources_partial_update.sync(
            created.id,
            client=client,
            body=PatchedSourceRequest(year=2011, reason="The year, from the title page."),
            if_match=current.headers["ETag"],
        )
        if not isinstance(changed, Source):
            raise SystemExit(f"Changing source {created.id} failed: {changed}")
        print(f"Draft source {changed.id}: {changed.title} ({changed.year}), {changed.status}")
        return changed


def main(argv: list[str]) -> None:
    base_url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000"
    print(f"Data version {read(base_url)}")
    if len(argv) > 2:
        write(base_url, argv[2])


if __name__ == "__main__":
    main(sys.argv)

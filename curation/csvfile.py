"""The one CSV writer: every CSV the project writes (the reader pages' downloads, the
data releases) goes through ``csv_write``, so no cell reaches a spreadsheet as a formula,
and every file starts with a UTF-8 byte-order mark, without which Excel reads UTF-8 as
its local code page and garbles non-ASCII names ("Lénárt" as "LÃ©nÃ¡rt"). Python's
``csv`` reads it with ``encoding="utf-8-sig"``.

Lives on the ground floor so that findings (reader pages) and treatments (releases)
both use it; it knows no model.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

# A spreadsheet runs a cell that starts with =, +, - or @ as a formula (=HYPERLINK(…)
# sends data away, +cmd|… once ran programs); a leading tab or carriage return is
# stripped first, after which the rest may run. OWASP "CSV Injection".
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


class Writable(Protocol):
    """Where CSV goes: a StringIO, an open file, an HttpResponse."""

    def write(self, text: str, /) -> Any: ...


def csv_safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it, as text: a string starting with a
    formula character gets a leading single quote (spreadsheets hide it; OWASP's
    advice). Numbers are left alone: -2 stored as a number is data, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_write(
    stream: Writable,
    *,
    fieldnames: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    lineterminator: str = "\r\n",
) -> None:
    """A byte-order mark, a header line, then one line per row, every cell through
    ``csv_safe_cell``."""
    stream.write(BOM)
    writer = csv.DictWriter(stream, fieldnames=fieldnames, lineterminator=lineterminator)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_safe_cell(value) for key, value in row.items()})


def csv_stream(
    *,
    fieldnames: Sequence[str],
    chunks: Iterable[Iterable[Mapping[str, Any]]],
    lineterminator: str = "\r\n",
) -> Iterator[str]:
    """``csv_write`` for a streamed response: the header, then the text of one chunk of
    rows at a time, every cell through ``csv_safe_cell``. One chunk is held at a time,
    so memory does not grow with the number of rows."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator=lineterminator)
    writer.writeheader()
    yield buffer.getvalue()
    for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow({key: csv_safe_cell(value) for key, value in row.items()})
        if text := buffer.getvalue():
            yield text

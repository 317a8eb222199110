"""Record history (django-simple-history), as every curated model keeps it."""

from __future__ import annotations

from simple_history.models import HistoricalRecords


class History(HistoricalRecords):
    """simple_history's ``HistoricalRecords``, which keeps a copy of the chosen
    many-to-many links with every historical row, without reading the links of a row
    just inserted (its "+" history row): no link can name a row that did not exist a
    moment ago, so the read (one query per link table) always found nothing (issue 14).
    Links set right after the insert are kept by the next history row, as before."""

    def create_historical_record_m2ms(self, history_instance, instance):
        if history_instance.history_type == "+":
            return
        super().create_historical_record_m2ms(history_instance, instance)

"""Atom feed of newly published therapy evidence (django.contrib.syndication)."""

from django.contrib.syndication.views import Feed
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html

from findings.models import LEVEL_SHORT
from findings.templatetags.reader import citation
from treatments.models import TherapyEvidence

FEED_LENGTH = 50


class NewEvidenceFeed(Feed):
    feed_type = Atom1Feed
    title = "ME/CFS Immune Knowledge Base: newly published evidence"
    subtitle = (
        "Sourced claims tying therapies to immune abnormalities in ME/CFS, newest first. "
        "Not medical advice."
    )

    def link(self):
        return reverse("treatments:therapy-list")

    def items(self):
        # Queries: one (evidence with therapy, abnormality and source joined).
        # Seed records were published without a review date: their creation date stands in.
        return (
            TherapyEvidence.objects.published()
            .select_related("therapy", "abnormality", "source")
            .annotate(published_at=Coalesce("reviewed_at", "created_at"))
            .order_by("-published_at", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, item):
        about = item.abnormality.name if item.abnormality_id else "ME/CFS in general"
        return f"{item.therapy.name} — {about}: level {item.level}"

    def item_description(self, item):
        # Atom "html" content: everything from the database is escaped here.
        return format_html(
            "<p>{}</p><p>Level {} ({}), {}. Source: {}</p><p>Not medical advice.</p>",
            item.statement,
            item.level,
            LEVEL_SHORT[item.level],
            item.get_direction_display().lower(),
            citation(item.source),
        )

    def item_link(self, item):
        if item.abnormality_id:
            url = reverse(
                "treatments:pair-evidence",
                kwargs={"slug": item.therapy.slug, "abnormality_slug": item.abnormality.slug},
            )
        else:
            url = item.therapy.get_absolute_url()
        return f"{url}#evidence-{item.pk}"

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

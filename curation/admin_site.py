"""The admin site: Django's, plus what waits for review (the counts on the index and
the review queue at /admin/review/, curation/admin_review.py), and an index that lists
the models by the curator's task, one line each.

Installed as the default site by ``mecfs_kb.apps.AdminConfig`` (in INSTALLED_APPS in
place of "django.contrib.admin"), so ``admin.site`` and ``@admin.register`` are
unchanged everywhere."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import path, reverse

# The index's groups, by task. A model's admin joins one with ``index_group`` and says
# what the model answers with ``index_question`` ("is this abnormality seen in
# ME/CFS?"); ``index_order`` orders the lines. Models that join none are listed after,
# by app, as Django lists them.
INDEX_GROUPS = (
    ("work", "Your work"),
    ("evidence", "Evidence: sources and the claims they make"),
    ("subjects", "What the evidence is about"),
)


class KnowledgeBaseAdminSite(admin.AdminSite):
    # Django's sidebar of every model takes 300 px of each page: at 1366 px it pushed
    # the lists' status column out of sight. The index lists the models by task, and
    # every page's breadcrumbs lead back to it.
    enable_nav_sidebar = False

    def get_urls(self):
        queue = path("review/", self.admin_view(self.review_queue), name="review_queue")
        mine = path("my-work/", self.admin_view(self.my_work), name="my_work")
        return [queue, mine, *super().get_urls()]

    def my_work(self, request):
        from curation.admin_review import my_work_view

        return my_work_view(request, self)

    def review_queue(self, request):
        from curation.admin_review import review_queue_view

        return review_queue_view(request, self)

    def index(self, request, extra_context=None):
        from curation.admin_review import reviewed_models, waiting_counts

        context = dict(extra_context or {})
        reviewer = bool(reviewed_models(request.user))
        if reviewer:
            context["review_waiting"] = waiting_counts(request.user)
        context["task_groups"], context["other_apps"] = self.index_by_task(
            request, reviewer=reviewer
        )
        return super().index(request, extra_context=context)

    def index_by_task(
        self, request, *, reviewer: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The index's groups of lines (the models this user may see, by task, and the
        review pages) and the apps whose models join no group."""
        lines: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in INDEX_GROUPS}
        lines["work"].append(
            {
                "key": "my-work",
                "name": "My work",
                "admin_url": reverse("admin:my_work", current_app=self.name),
                "question": "what of yours is a draft, waits for review, or was sent back?",
                "order": 0,
            }
        )
        if reviewer:
            lines["work"].append(
                {
                    "key": "review-queue",
                    "name": "Review queue",
                    "admin_url": reverse("admin:review_queue", current_app=self.name),
                    "question": "what waits for an editor to publish or reject?",
                    "order": 1,
                    "waiting": True,
                }
            )
        other_apps = []
        for app in self.get_app_list(request):
            left = []
            for entry in app["models"]:
                model_admin = self._registry.get(entry["model"])
                group = getattr(model_admin, "index_group", None)
                if group not in lines:
                    left.append(entry)
                    continue
                lines[group].append(
                    {
                        **entry,
                        "key": entry["object_name"].lower(),
                        "question": getattr(model_admin, "index_question", ""),
                        "order": getattr(model_admin, "index_order", 100),
                    }
                )
            if left:
                other_apps.append({**app, "models": left})
        groups = [
            {"key": key, "title": title, "lines": sorted(lines[key], key=lambda x: x["order"])}
            for key, title in INDEX_GROUPS
            if lines[key]
        ]
        return groups, other_apps

"""The admin site: Django's, plus what waits for review (the counts on the index and
the review queue at /admin/review/, curation/admin_review.py).

Installed as the default site by ``mecfs_kb.apps.AdminConfig`` (in INSTALLED_APPS in
place of "django.contrib.admin"), so ``admin.site`` and ``@admin.register`` are
unchanged everywhere."""

from django.contrib import admin
from django.urls import path


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
        if reviewed_models(request.user):
            context["review_waiting"] = waiting_counts(request.user)
        return super().index(request, extra_context=context)

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from mecfs_kb.health import healthz


class AdminPageMixin:
    """The password pages are the admin's templates served outside the admin: give them
    the admin's context, so that a new curator's first page already says where they are
    ("ME/CFS Immune Knowledge Base — curators", not "Django administration")."""

    def get_context_data(self, **kwargs):
        return {
            **admin.site.each_context(self.request),
            # As on the login page: no side menu of models for someone not logged in.
            "is_nav_sidebar_enabled": False,
            **super().get_context_data(**kwargs),
        }


class PasswordSetView(AdminPageMixin, auth_views.PasswordResetConfirmView):
    pass


class PasswordSetDoneView(AdminPageMixin, auth_views.PasswordResetCompleteView):
    pass


urlpatterns = [
    path("", include("treatments.urls")),
    path("", include("findings.urls")),
    path("", include("curation.urls")),
    # The one-time link ``manage.py create_curator`` prints (curation/accounts.py): a new
    # curator or editor chooses their own password on the admin's own pages. There is no
    # "forgot my password" form: it would send email, which this site does not set up.
    path(
        "admin/reset/<uidb64>/<token>/",
        PasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/reset/done/",
        PasswordSetDoneView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("mecfs_kb.api")),
    path("healthz", healthz, name="healthz"),
]

# A database outage that escapes the middleware still answers 503, not 500; under /api/
# a 500 or one of Django's own 400s answers in the API's error shape (faults.py).
handler500 = "mecfs_kb.faults.server_error"
handler400 = "mecfs_kb.faults.bad_request"

from django.contrib import admin
from django.urls import include, path

from mecfs_kb.health import healthz

urlpatterns = [
    path("", include("treatments.urls")),
    path("", include("findings.urls")),
    path("", include("curation.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("mecfs_kb.api")),
    path("healthz", healthz, name="healthz"),
]

# A database outage that escapes the middleware still answers 503, not 500; under /api/
# a 500 or one of Django's own 400s answers in the API's error shape (faults.py).
handler500 = "mecfs_kb.faults.server_error"
handler400 = "mecfs_kb.faults.bad_request"

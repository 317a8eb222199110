from django.contrib import admin
from django.urls import include, path

from mecfs_kb.health import healthz

urlpatterns = [
    path("", include("treatments.urls")),
    path("", include("findings.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("mecfs_kb.api")),
    path("healthz", healthz, name="healthz"),
]

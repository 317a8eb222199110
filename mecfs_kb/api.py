"""The REST API's router (/api/v1/), its schema (/api/schema/) and docs (/api/docs/)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from curation.api import DataChangeViewSet, SuggestionViewSet
from curation.resources import api_resources_register
from curation.viewsets import api_not_found
from findings.api import AbnormalityViewSet, FindingViewSet, LabTestViewSet, SourceViewSet
from treatments.api import (
    HarmViewSet,
    PairCertaintyViewSet,
    RegulatoryStatusViewSet,
    ReleaseFileView,
    ReleaseViewSet,
    TherapyEvidenceViewSet,
    TherapyViewSet,
)

app_name = "api"

router = DefaultRouter()
router.register("abnormalities", AbnormalityViewSet, basename="abnormality")
router.register("therapies", TherapyViewSet, basename="therapy")
router.register("evidence", TherapyEvidenceViewSet, basename="evidence")
router.register("findings", FindingViewSet, basename="finding")
router.register("sources", SourceViewSet, basename="source")
router.register("lab-tests", LabTestViewSet, basename="lab-test")
router.register("regulatory-statuses", RegulatoryStatusViewSet, basename="regulatory-status")
router.register("harms", HarmViewSet, basename="harm")
router.register("pairs", PairCertaintyViewSet, basename="pair")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("changes", DataChangeViewSet, basename="change")
router.register("releases", ReleaseViewSet, basename="release")
# Suggestions name the kind of record by these basenames ("evidence", "finding", …).
api_resources_register(router.registry)

urlpatterns = [
    # A release's files, without the trailing slash the router gives its resources.
    path(
        "v1/releases/<str:label>/files/<str:name>",
        ReleaseFileView.as_view(),
        name="release-file",
    ),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (no inline
    # script), and Swagger UI itself from drf-spectacular-sidecar's static files (no CDN).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    re_path(r"^", api_not_found),
]

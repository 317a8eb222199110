"""The REST API's router (/api/v1/), its schema (/api/v1/schema/) and docs
(/api/v1/docs/): one versioned home. The old /api/schema/ and /api/docs/ redirect
there permanently."""

from django.urls import include, path, re_path, reverse
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

from curation.api import DataChangeViewSet, SuggestionViewSet
from curation.resources import api_resources_register
from curation.viewsets import api_not_found
from findings.api import AbnormalityViewSet, FindingViewSet, LabTestViewSet, SourceViewSet
from treatments.api import (
    HarmViewSet,
    PairCertaintyViewSet,
    RegulatoryStatusViewSet,
    TherapyEvidenceViewSet,
    TherapyViewSet,
)

app_name = "api"


class ApiRootView(routers.APIRootView):
    """The API root: each resource's list, and the schema and docs that describe them."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name in ("schema", "docs"):
            response.data[name] = request.build_absolute_uri(reverse(f"api:{name}"))
        return response


class Router(routers.DefaultRouter):
    APIRootView = ApiRootView


router = Router()
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
# Suggestions name the kind of record by these basenames ("evidence", "finding", …).
api_resources_register(router.registry)

urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (no inline
    # script), and Swagger UI itself from drf-spectacular-sidecar's static files (no CDN).
    path(
        "v1/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    path("v1/", include(router.urls)),
    # Where they were before issue 16, for bookmarks and generator configs.
    path(
        "schema/",
        RedirectView.as_view(pattern_name="api:schema", permanent=True, query_string=True),
    ),
    path(
        "docs/",
        RedirectView.as_view(pattern_name="api:docs", permanent=True, query_string=True),
    ),
    re_path(r"^", api_not_found),
]

from django.urls import path

from treatments import gap_views, views
from treatments.feeds import NewEvidenceFeed

app_name = "treatments"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("treatments/", views.TherapyListView.as_view(), name="therapy-list"),
    path("treatments/<slug:slug>/", views.TherapyDetailView.as_view(), name="therapy-detail"),
    path(
        "treatments/<slug:slug>/abnormalities/<slug:abnormality_slug>/",
        views.PairEvidenceView.as_view(),
        name="pair-evidence",
    ),
    path("evidence/<int:pk>/", views.evidence_view, name="evidence"),
    path("gaps/", gap_views.GapMapView.as_view(), name="gaps"),
    path("search/", views.search_view, name="search"),
    path("feeds/evidence/", NewEvidenceFeed(), name="evidence-feed"),
]

from django.urls import path

from curation import preview, views
from curation.feeds import DataVersionFeed

app_name = "curation"

urlpatterns = [
    path("changes/", views.ChangeListView.as_view(), name="changes"),
    path("changes/feed/", DataVersionFeed(), name="changes-feed"),
    path("changes/<int:number>/", views.VersionDetailView.as_view(), name="version"),
    # Staff only, never cached or indexed (curation/preview.py).
    path(
        "preview/<slug:app_label>/<slug:model_name>/<int:pk>/",
        preview.record_preview,
        name="preview-record",
    ),
    path("preview/suggestions/<int:pk>/", preview.suggestion_preview, name="preview-suggestion"),
]

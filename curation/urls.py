from django.urls import path

from curation import views
from curation.feeds import DataVersionFeed

app_name = "curation"

urlpatterns = [
    path("changes/", views.ChangeListView.as_view(), name="changes"),
    path("changes/feed/", DataVersionFeed(), name="changes-feed"),
    path("changes/<int:number>/", views.VersionDetailView.as_view(), name="version"),
]

from django.urls import path

from findings import views

app_name = "findings"

urlpatterns = [
    path("abnormalities/", views.AbnormalityListView.as_view(), name="abnormality-list"),
    path(
        "abnormalities/<slug:slug>/",
        views.AbnormalityDetailView.as_view(),
        name="abnormality-detail",
    ),
    path("sources/", views.SourceListView.as_view(), name="source-list"),
    path("sources/<int:pk>/", views.SourceDetailView.as_view(), name="source-detail"),
    path("findings/<int:pk>/", views.finding_view, name="finding"),
    path("glossary/", views.GlossaryView.as_view(), name="glossary"),
]

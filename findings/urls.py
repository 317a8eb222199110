from django.urls import path

from findings import views

app_name = "findings"

urlpatterns = [
    path(
        "abnormalities/<slug:slug>/",
        views.AbnormalityDetailView.as_view(),
        name="abnormality-detail",
    ),
    path("sources/<int:pk>/", views.SourceDetailView.as_view(), name="source-detail"),
]

from django.views.generic import DetailView, TemplateView

from treatments.models import Therapy


class HomeView(TemplateView):
    template_name = "treatments/home.html"


class TherapyDetailView(DetailView):
    queryset = Therapy.objects.published()
    template_name = "treatments/therapy_detail.html"

from django.views.generic import DetailView

from findings.models import Abnormality, Source


class AbnormalityDetailView(DetailView):
    queryset = Abnormality.objects.published()
    template_name = "findings/abnormality_detail.html"


class SourceDetailView(DetailView):
    queryset = Source.objects.published()
    template_name = "findings/source_detail.html"

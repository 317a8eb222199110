from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin with our site (the review queue and counts on its index)."""

    default_site = "curation.admin_site.KnowledgeBaseAdminSite"

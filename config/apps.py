from django.contrib.admin.apps import AdminConfig


class ServiceAdminConfig(AdminConfig):
    """Django's admin app, serving `config.admin_site.ServiceAdminSite`."""

    default_site = "config.admin_site.ServiceAdminSite"

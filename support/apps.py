from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SupportConfig(AppConfig):
    default = True
    name = "support"
    verbose_name = "Support"


class ServiceAdminConfig(admin_apps.AdminConfig):
    """Django's admin app, serving `support.admin_site.ServiceAdminSite`."""

    default = False
    default_site = "support.admin_site.ServiceAdminSite"

import factory
from django.utils.text import slugify

from tenants.models import Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.LazyAttribute(lambda tenant: slugify(tenant.name)[:100])
    settings = factory.LazyFunction(dict)

"""factory-boy factories for the catalog, warehouses and users.

Stock quantities are never set by a factory: tests put stock in through the services
(``tests.helpers.receive``), so every quantity is explained by the ledger.
"""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import Category, Product, Supplier, Unit, Variant
from warehouses.models import Warehouse

#: The groups created by the roles migration (inventory/migrations/0003_roles.py).
ROLES = ("Merchant", "Warehouse staff", "Accountant")


class CategoryFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Category {n}")

    class Meta:
        model = Category
        django_get_or_create = ("name",)


class SupplierFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Supplier {n}")
    email = factory.LazyAttribute(lambda o: f"{o.name.lower().replace(' ', '.')}@example.com")

    class Meta:
        model = Supplier


class ProductFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)

    class Meta:
        model = Product


class VariantFactory(factory.django.DjangoModelFactory):
    product = factory.SubFactory(ProductFactory)
    name = "Black / M"
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    unit = Unit.PIECE

    class Meta:
        model = Variant

    class Params:
        #: Sold by weight: fractions allowed.
        by_weight = factory.Trait(unit=Unit.KILOGRAM, name="")


class WarehouseFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")

    class Meta:
        model = Warehouse


class UserFactory(factory.django.DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("secret")

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """``UserFactory(role="Merchant")``: add the user to one of the ROLES groups."""
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))

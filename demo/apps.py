from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`seed_demo` and the demo data: the top layer, so it may use every service and nothing
    in the product depends on it."""

    name = "demo"
    verbose_name = "Demo data"

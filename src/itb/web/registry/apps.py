from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "itb.web.registry"
    label = "registry"
    verbose_name = "ITB registry"

    def ready(self) -> None:
        from itb.web.registry import audit

        audit.register_models()

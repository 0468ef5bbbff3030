from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from events.sinks import sink_register
        from webhooks.services import deliveries_fan_out

        sink_register(deliveries_fan_out)

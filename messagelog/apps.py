from django.apps import AppConfig


class MessagelogConfig(AppConfig):
    name = "messagelog"
    verbose_name = "Message log"

    def ready(self) -> None:
        from messagelog import metrics

        metrics.register()

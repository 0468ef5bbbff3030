from django.apps import AppConfig


class MessagelogConfig(AppConfig):
    name = "messagelog"
    verbose_name = "Message log"

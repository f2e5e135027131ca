from django.apps import AppConfig


class ObjectionsConfig(AppConfig):
    name = "objections"

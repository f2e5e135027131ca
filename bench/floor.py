"""Settings and URLs of the throughput floor that bench/intake.py compares filing a repair against.

`DJANGO_SETTINGS_MODULE=bench.floor` is `config.settings` with one more URL in front of the project's:
`POST /bench/floor/` does one INSERT and answers 201, through the same middleware, WSGI server and database as
every other request. The table is created by bench/intake.py (`FLOOR_TABLE_SQL`).

This module is the settings module and the URLconf at once: `urlpatterns` is built on first access
(PEP 562), because the settings are read before the apps are loaded and the project's URLs import models.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor"

FLOOR_TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz NOT NULL)"


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    """The least a write request can do: one INSERT, in autocommit, and an empty 201."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (at) VALUES (now())")
    return HttpResponse(status=201)


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":
        from config.urls import urlpatterns

        return [path("bench/floor/", floor), *urlpatterns]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

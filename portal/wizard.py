"""A guided filing in steps. What the person entered is kept in their session after each step, so going back,
refreshing a page or losing the connection loses nothing; nothing is filed before the last step, and
then in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class Step:
    name: str
    label: Promise


@dataclass(frozen=True)
class ProgressItem:
    number: int
    label: str
    url: str
    status: str  # "done", "current" or "todo"


class Wizard:
    def __init__(self, request: HttpRequest, name: str, steps: list[Step], url_name: str) -> None:
        self.request = request
        self.name = name
        self.key = f"portal:wizard:{name}"
        self.steps = steps
        self.url_name = url_name

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.request.session.get(self.key) or {})

    def save(self, **values: Any) -> None:
        data = self.data
        data.update(values)
        self.request.session[self.key] = data

    def forget(self, *names: str) -> None:
        data = self.data
        for name in names:
            data.pop(name, None)
        self.request.session[self.key] = data

    def clear(self) -> None:
        self.request.session.pop(self.key, None)

    def url(self, name: str) -> str:
        return reverse(self.url_name, kwargs={"step": name})

    def after(self, name: str) -> str:
        return self.url(self.names[self.names.index(name) + 1])

    def before(self, name: str) -> str | None:
        index = self.names.index(name)
        return self.url(self.names[index - 1]) if index > 0 else None

    def progress(self, current: str) -> list[ProgressItem]:
        at = self.names.index(current)
        return [
            ProgressItem(
                number=i + 1,
                label=str(step.label),
                url=self.url(step.name),
                status="done" if i < at else "current" if i == at else "todo",
            )
            for i, step in enumerate(self.steps)
        ]

"""The one path for every legal step of every case and record.

Views, the API, Celery tasks, flows and the admin all call `perform_transition`. django-fsm-2 checks the
source state and the conditions but not `permission=` (../shared/FINDINGS.md), so this service does, and
it locks the row and re-checks the state after taking the lock, so that two officers (or an officer and a
sweep) acting at once cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_fsm import FSMFieldMixin, Transition

from credit.models.audit import TransitionLog
from credit.signals import case_transitioned


class TransitionError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class NotFound(TransitionError):
    """The object does not exist or is not visible to the caller: indistinguishable on purpose."""

    status_code = 404


class Forbidden(TransitionError):
    status_code = 403


class WrongState(TransitionError):
    status_code = 409


class BadPayload(TransitionError):
    status_code = 400


@dataclass(frozen=True)
class System:
    """The actor of steps nobody performs by hand (a period ended): named in the audit row."""

    label: str


def state_field(model: type[models.Model]) -> FSMFieldMixin:
    fields = [f for f in model._meta.get_fields() if isinstance(f, FSMFieldMixin)]
    if len(fields) != 1:
        raise TypeError(f"{model.__name__} must have exactly one FSM state field")
    return fields[0]


def _transitions_named(model: type[models.Model], name: str) -> list[Transition]:
    field = state_field(model)
    return [t for t in field.get_all_transitions(model) if t.name == name]


def transition_meta(model: type[models.Model], name: str) -> Transition | None:
    found = _transitions_named(model, name)
    return found[0] if found else None


def _user_may(transition: Transition, instance: models.Model, actor: Any) -> bool:
    if transition.custom.get("system") and not isinstance(actor, System):
        return False
    if isinstance(actor, System):
        # The system takes only the steps declared as its own (a period ended, a timer fired), and the
        # case effects declared open to it (`also_system`: an objection withdrawn clears its flag).
        return bool(transition.custom.get("system") or transition.custom.get("also_system"))
    return transition.has_perm(instance, actor)


def allowed_transitions(instance: models.Model, user: Any, *, direct_only: bool = True) -> list[str]:
    """Names of the steps this user may take on this object now (state, conditions and permission)."""
    field = state_field(type(instance))
    current = field.get_state(instance)
    names = []
    for method in field.transitions[type(instance)].values():
        meta = method._django_fsm
        if not meta.has_transition(current) or not meta.conditions_met(instance, current):
            continue
        transition = meta.get_transition(current)
        if direct_only and transition.custom.get("via_case"):
            continue
        if transition.custom.get("system"):
            continue
        if _user_may(transition, instance, user):
            names.append(transition.name)
    return sorted(names)


def perform_transition(
    instance: models.Model,
    name: str,
    *,
    actor: Any,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    via: models.Model | None = None,
    visible: models.QuerySet[Any] | None = None,
) -> models.Model:
    """Run transition `name` on `instance` for `actor` (a User or a System) and return the saved object.

    `visible` is the caller's scoped queryset: an object outside it is NotFound (404). `via` is the case
    whose decision this step carries out; transitions marked ``via_case`` require one. Raises NotFound,
    Forbidden, WrongState or BadPayload; on any error nothing is written.
    """
    model = type(instance)
    candidates = _transitions_named(model, name)
    if not candidates:
        raise NotFound(_("There is no step called “%(name)s”.") % {"name": name})
    sample = candidates[0]
    if sample.custom.get("via_case") and via is None:
        raise Forbidden(_("This step is taken only as the outcome of a decided case."))
    if not any(_user_may(t, instance, actor) for t in candidates):
        raise Forbidden(_("You are not allowed to take this step."))
    reason = (reason or "").strip()
    if sample.custom.get("reason_required") and not reason:
        raise BadPayload(
            _("A reason is required for this step."), errors={"reason": [_("This field is required.")]}
        )
    clean_payload = _validate_payload(sample, payload or {})

    with transaction.atomic():
        # Lock the row, then re-check everything against what is now in the database: the state may have
        # changed since the caller loaded it (another officer, a sweep). `of=("self",)` locks this row
        # only: the caller's scoped queryset joins the department and rule set, whose rows a plain FOR
        # UPDATE would lock too, serialising every step in a department.
        locked = model._default_manager.select_for_update(of=("self",)).filter(pk=instance.pk).first()
        if locked is None or (visible is not None and not visible.filter(pk=instance.pk).exists()):
            raise NotFound(_("Not found."))
        field = state_field(model)
        source = field.get_state(locked)
        method = getattr(locked, name)
        meta = method._django_fsm
        if not meta.has_transition(source):
            raise WrongState(
                _("This step is not possible while the state is “%(state)s”.") % {"state": source},
                state=source,
            )
        transition = meta.get_transition(source)
        if not _user_may(transition, locked, actor):
            raise Forbidden(_("You are not allowed to take this step."))
        if not meta.conditions_met(locked, source):
            raise WrongState(_("The conditions for this step are not met now."), state=source)
        kwargs: dict[str, Any] = {"actor": None if isinstance(actor, System) else actor, "reason": reason}
        if clean_payload is not None:
            kwargs["payload"] = clean_payload
        kwargs.update(_extra_kwargs(locked, name, kwargs))
        try:
            method(**kwargs)
        except ValidationError as exc:
            raise BadPayload(
                " ".join(exc.messages),
                errors=exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages},
            ) from exc
        locked.save()
        target = field.get_state(locked)
        log = write_log(
            locked,
            name,
            source=source,
            target=target,
            actor=actor,
            reason=reason,
            payload=clean_payload,
            via=via,
        )
        case_transitioned.send(
            sender=model, instance=locked, transition=name, actor=actor, source=source, target=target, log=log
        )
    return locked


def write_log(
    instance: models.Model,
    name: str,
    *,
    source: str,
    target: str,
    actor: Any,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    via: models.Model | None = None,
) -> TransitionLog:
    """The audit row of one step; call inside the step's transaction."""
    return TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        object_number=str(getattr(instance, "number", "") or ""),
        transition=name,
        from_state=source,
        to_state=target,
        actor=None if isinstance(actor, System) else actor,
        actor_label=actor.label if isinstance(actor, System) else actor.get_username(),
        reason=reason,
        payload=_loggable(payload),
        via_content_type=ContentType.objects.get_for_model(via) if via is not None else None,
        via_object_id=via.pk if via is not None else None,
    )


def _validate_payload(transition: Transition, payload: dict[str, Any]) -> dict[str, Any] | None:
    serializer_path = transition.custom.get("payload")
    if serializer_path is None:
        return None
    serializer = import_string(serializer_path)(data=payload)
    if not serializer.is_valid():
        raise BadPayload(_("The details given for this step are not valid."), errors=serializer.errors)
    return dict(serializer.validated_data)


def _extra_kwargs(instance: models.Model, name: str, base: dict[str, Any]) -> dict[str, Any]:
    """Arguments some transitions need that come from rules, not from the caller."""
    hook = getattr(instance, f"{name}_arguments", None)
    return hook(**base) if callable(hook) else {}


def _loggable(payload: dict[str, Any] | None) -> dict[str, Any]:
    if not payload:
        return {}
    return {
        key: value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        for key, value in payload.items()
    }

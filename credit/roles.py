"""Who may do what: each role is an auth group with these permissions, kept in sync after every migrate.

Legal steps are never granted by `is_superuser`: an administrator who is not also in a staff role cannot
perform them, because the person who acts must be the one the law names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from credit.models.people import User


class Role(models.TextChoices):
    """Roles are auth groups of the same name; credit.roles gives each its permissions."""

    APPLICANT = "applicant", _("Applicant")
    INTAKE = "intake", _("Intake officer")
    OFFICER = "officer", _("Case officer")
    REVIEWER = "reviewer", _("Legal reviewer")
    HEAD = "head", _("Head of department")
    RECONSIDERATION = "reconsideration", _("Reconsideration officer")
    AUDITOR = "auditor", _("Auditor")


# Staff in these roles work for every department; the others only for the departments they belong to.
CITY_WIDE_ROLES = frozenset({Role.INTAKE, Role.RECONSIDERATION, Role.AUDITOR})
DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.REVIEWER, Role.HEAD})
STAFF_ROLES = CITY_WIDE_ROLES | DEPARTMENT_ROLES


_VIEW_STAFF = [
    "credit.view_creditrecord",
    "objections.view_objection",
    "objections.view_reconsideration",
    "credit.view_person",
    "credit.view_deadline",
    "letters.view_letter",
    "repair.view_repaircase",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.APPLICANT: [
        "credit.view_creditrecord",
        "letters.view_letter",
        "objections.view_objection",
        "objections.view_complaint",
        "objections.view_reconsideration",
        "repair.view_repaircase",
    ],
    Role.INTAKE: [
        *_VIEW_STAFF,
        "credit.flag_record",
        "credit.verify_identity",
        "letters.record_service",
        "objections.forward_objection",
        "repair.file_for_applicant",
    ],
    Role.OFFICER: [
        *_VIEW_STAFF,
        "credit.mask_record",
        "credit.amend_record",
        "letters.record_service",
        "objections.handle_objection",
        "repair.handle_repair",
    ],
    Role.REVIEWER: [
        *_VIEW_STAFF,
        "credit.repair_record",
        "credit.revoke_repair_record",
        "credit.delete_record",
        "credit.revoke_record",
        "credit.amend_record",
        "credit.flag_record",
        "letters.revoke_letter",
        "objections.review_objection",
        "repair.review_repair",
    ],
    Role.HEAD: [
        *_VIEW_STAFF,
        "credit.mask_record",
        "objections.approve_extension",
        "objections.reply_complaint",
        "objections.view_complaint",
        "repair.approve_extension",
    ],
    Role.RECONSIDERATION: [
        *_VIEW_STAFF,
        "credit.revoke_record",
        "credit.amend_record",
        "objections.decide_reconsideration",
    ],
    Role.AUDITOR: [
        *_VIEW_STAFF,
        "credit.view_transitionlog",
        "credit.view_accesslog",
        "credit.view_auditexport",
        "objections.view_complaint",
    ],
}


def sync_role_groups(**_: Any) -> None:
    """Create one group per role and give it exactly the permissions above (post_migrate receiver)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is None:  # a permission of a model not migrated yet; the next migrate adds it
                continue
            wanted.append(found)
        group.permissions.set(wanted)


ROLE_PERMISSIONS_SECONDS = 60


def role_permissions(user: User) -> frozenset[str]:
    """The permissions a user holds through role groups, ignoring is_superuser. The permissions of a set of
    roles are read once a minute (the shared cache): only a migration changes them (sync_role_groups), and
    a page asks on every request."""
    cached: frozenset[str] | None = getattr(user, "_role_perms_cache", None)
    if cached is None:
        roles = sorted(user.roles())
        key = f"credit.role_permissions:{','.join(roles)}"
        found = cache.get(key)
        if found is None:
            rows = Permission.objects.filter(group__name__in=roles).values_list(
                "content_type__app_label", "codename"
            )
            found = sorted({f"{app}.{code}" for app, code in rows})
            cache.set(key, found, ROLE_PERMISSIONS_SECONDS)
        cached = frozenset(found)
        user._role_perms_cache = cached  # type: ignore[attr-defined]
    return cached


def may(user: Any, perm: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and perm in role_permissions(user))


def in_scope(user: User, department_id: int | None) -> bool:
    """Department staff act only for their own departments; intake, reconsideration and audit city-wide."""
    if user.has_role(*CITY_WIDE_ROLES):
        return True
    return department_id is not None and department_id in user.department_ids()


def department_perm(perm: str) -> Callable[[Any, Any], bool]:
    """A django-fsm `permission=` callable: the role permission, for an object of the user's scope."""

    def check(instance: Any, user: Any) -> bool:
        return may(user, perm) and in_scope(user, instance.department_id)

    check.perm = perm  # type: ignore[attr-defined]
    return check


def role_perm(perm: str) -> Callable[[Any, Any], bool]:
    """A django-fsm `permission=` callable for city-wide work with no department (identity checks)."""

    def check(instance: Any, user: Any) -> bool:
        return may(user, perm)

    check.perm = perm  # type: ignore[attr-defined]
    return check


def acts_for(user: Any, person_id: int) -> bool:
    """The user is the person, or their agent under a verified authorisation in force."""
    from credit.models.people import persons_acted_for

    return bool(user and user.is_authenticated and person_id in set(persons_acted_for(user)))


def applicant(case: Any, user: Any) -> bool:
    """A django-fsm `permission=` callable: the case's person, or their agent (a withdrawal, a supplement)."""
    return acts_for(user, case.person_id)


def nobody(instance: Any, user: Any) -> bool:
    """For transitions only the system performs (periods reached); no user may call them."""
    return False

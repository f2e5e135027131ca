from .audit import AccessLog, TransitionLog
from .claims import ClaimStatus, IdentityClaim
from .deadlines import Deadline, DeadlineChange
from .outbox import DownstreamEvent
from .people import Authorisation, Department, Membership, Person, Role, User
from .records import CreditRecord, Penalty, RecordAmendment
from .rules import CityOverlay, DeadlineRule, DomainPeriodRule, RuleSet, TierRule
from .workdays import CalendarChange, CalendarDay, CalendarYear

__all__ = [
    "AccessLog",
    "Authorisation",
    "CalendarChange",
    "CalendarDay",
    "CalendarYear",
    "CityOverlay",
    "ClaimStatus",
    "CreditRecord",
    "Deadline",
    "DeadlineChange",
    "DeadlineRule",
    "Department",
    "DomainPeriodRule",
    "DownstreamEvent",
    "IdentityClaim",
    "Membership",
    "Penalty",
    "Person",
    "RecordAmendment",
    "Role",
    "RuleSet",
    "TierRule",
    "TransitionLog",
    "User",
]

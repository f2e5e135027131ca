"""Demo data for `make run`: one city, its departments, one login per role and ~40 records. Idempotent:
running it again creates nothing that is already there."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from credit import identity
from credit.demo_images import paper_png
from credit.identity import IdType
from credit.models import CityOverlay, CreditRecord, Department, Membership, Person, RuleSet, User
from credit.models.people import Role
from credit.models.records import Domain, PenaltyKind, RecordType
from credit.periods import Period
from credit.services.records import PenaltyInput, register_record

CITY = "示范市"
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105  (demo data only; seed_demo refuses to run with DEBUG off)

# code, name, kind, letter reference prefix
DEPARTMENTS = [
    ("platform", "示范市公共信用信息中心", Department.Kind.PLATFORM, "示信"),
    ("recon-office", "示范市人民政府行政复议办公室", Department.Kind.RECONSIDERATION, "示府复"),
    ("credit-office", "示范市社会信用体系建设领导小组办公室", Department.Kind.SUPERVISION, "示信办"),
    ("market", "示范市市场监督管理局", Department.Kind.DECIDING, "示市监"),
    ("environment", "示范市生态环境局", Department.Kind.DECIDING, "示环"),
    ("transport", "示范市交通运输局", Department.Kind.DECIDING, "示交"),
]
DECIDING = ["market", "environment", "transport"]
ABBREVIATION = {"market": "示市监罚", "environment": "示环罚", "transport": "示交罚"}

# username, role, department code, person (name, first 17 digits of the ID number)
USERS = [
    ("applicant1", Role.APPLICANT, None, ("张伟", "37020219900307002")),
    ("applicant2", Role.APPLICANT, None, ("李娜", "37020319851122004")),
    ("intake1", Role.INTAKE, "platform", None),
    ("officer1", Role.OFFICER, "market", None),
    ("officer2", Role.OFFICER, "environment", None),
    ("reviewer1", Role.REVIEWER, "market", None),
    ("head1", Role.HEAD, "market", None),
    ("recon1", Role.RECONSIDERATION, "recon-office", None),
    # A reconsideration decision is drafted by one officer of the office and approved by another.
    ("recon2", Role.RECONSIDERATION, "recon-office", None),
    ("auditor1", Role.AUDITOR, "credit-office", None),
]

# Days before today of each applicant's decisions: from days ago (active) to years ago (expired), so
# the demo shows every state the periods give, under all three rule sets.
AGES = [5, 20, 45, 80, 100, 150, 200, 300, 380, 420, 500, 650, 800, 1000, 1150, 1300, 1500, 1700, 1900, 2100]
TYPES = list(RecordType.values)
DOMAINS = [
    Domain.FOOD_DRUG,
    Domain.TRAFFIC,
    Domain.ENVIRONMENT,
    Domain.TAX,
    Domain.WORK_SAFETY,
    Domain.PRODUCT_QUALITY,
    Domain.LABOUR,
    Domain.FIRE,
]
KINDS: list[str] = [
    PenaltyKind.FINE,
    PenaltyKind.WARNING,
    PenaltyKind.LICENCE_SUSPENSION,
    PenaltyKind.CONFISCATION,
]


def _person(name: str, first17: str, user: User) -> Person:
    number = first17 + identity.check_char(first17)
    person = Person.objects.by_id_number(number).first()
    if person is None:
        person = Person(name=name)
        person.set_id_number(IdType.RESIDENT, number)
    person.user = user
    person.verification = Person.Verification.INTAKE
    person.verified_at = person.verified_at or timezone.now()
    person.save()
    return person


@transaction.atomic
def seed_demo(*, today: date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    created = {"users": 0, "records": 0}
    departments = {}
    for code, name, kind, prefix in DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "city": CITY, "letter_prefix": prefix}
        )
    if not CityOverlay.objects.filter(city=CITY).exists():
        overlay = CityOverlay.objects.create(
            city=CITY,
            effective_from=date(2026, 4, 1),
            interview_required=True,
            volunteer_hours_threshold=Decimal("20"),
            charity_evidence_accepted=True,
            basis="示范市个人公共信用信息纠错、修复机制（演示）",
        )
        CityOverlay.objects.filter(pk=overlay.pk).update(published_at=timezone.now())

    persons: list[Person] = []
    for username, role, dept_code, person_spec in USERS:
        user, new = User.objects.get_or_create(username=username)
        if new:
            user.set_password(DEMO_PASSWORD)
            # example.cn: the console e-mail backend of `make run` prints what these users would receive.
            user.email = f"{username}@example.cn"
            user.phone = "1380000000" + str(len(persons) + 1) if person_spec else ""
            user.save()
            created["users"] += 1
        user.groups.add(Group.objects.get(name=role))
        if dept_code:
            Membership.objects.get_or_create(user=user, department=departments[dept_code])
        if person_spec:
            persons.append(_person(person_spec[0], person_spec[1], user))
    admin, new = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    if new:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        created["users"] += 1

    for p_index, person in enumerate(persons):
        for i, age in enumerate(AGES):
            decision_date = today - timedelta(days=age + p_index * 7)
            dept_code = DECIDING[(i + p_index) % len(DECIDING)]
            decision_number = f"{ABBREVIATION[dept_code]}〔{decision_date.year}〕{100 + i + 50 * p_index}号"
            if CreditRecord.objects.filter(
                department=departments[dept_code], decision_number=decision_number, person=person
            ).exists():
                continue
            try:
                ruleset = RuleSet.objects.in_force(decision_date)
            except RuleSet.DoesNotExist:
                continue
            tiers = [rule.tier for rule in ruleset.tier_rules.order_by("id")]
            tier = tiers[i % len(tiers)]
            penalty_kind = KINDS[i % len(KINDS)]
            term = Period(6, "months") if penalty_kind == PenaltyKind.LICENCE_SUSPENSION else None
            penalties = [
                PenaltyInput(
                    kind=penalty_kind,
                    tier=tier,
                    amount=Decimal(500 * (i + 1)) if penalty_kind == PenaltyKind.FINE else None,
                    term=term,
                )
            ]
            if i % 5 == 0:  # a few records carry two penalties of different tiers
                penalties.append(PenaltyInput(kind=PenaltyKind.FINE, tier=tiers[0], amount=Decimal("2000")))
            register_record(
                person=person,
                record_type=TYPES[i % len(TYPES)],
                domain=DOMAINS[i % len(DOMAINS)],
                department=departments[dept_code],
                decision_number=decision_number,
                decision_date=decision_date,
                penalties=penalties,
                facts=f"演示记录：{person.name}的第{i + 1}条失信信息。",
            )
            created["records"] += 1
    return created


# -- the portal's own accounts: one signed up and waiting for the real-name check, one agent -----------------
# username, name, first 17 digits of the ID number claimed (and held: records are registered for it)
CITIZEN = ("citizen1", "王芳", "37020219920615003")
# An agent without a person of their own, whose authorisation to act for 李娜 (applicant2) waits for intake.
AGENT = "agent1"
SIGNED_UP = [CITIZEN[0], AGENT]


def _demo_scan(lines: list[str], name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, paper_png(lines), content_type="image/png")


@transaction.atomic
def seed_demo_portal(*, today: date | None = None) -> dict[str, int]:
    """citizen1 signed up through the portal claiming to be 王芳, who has three records and no account: the
    claim waits for intake. agent1 submitted an authorisation to act for 李娜: it waits for intake too."""
    from credit.services.authorisations import AuthorisationInput, submit_authorisation
    from credit.services.identity_claims import ClaimInput, sign_up

    today = today or timezone.localdate()
    created = {"users": 0, "records": 0}
    username, name, first17 = CITIZEN
    number = first17 + identity.check_char(first17)
    person = Person.objects.by_id_number(number).first()
    if person is None:
        person = Person(name=name)
        person.set_id_number(IdType.RESIDENT, number)
        person.save()
    market = Department.objects.get(code="market")
    for i, age in enumerate((60, 400, 900)):
        decision_number = f"{ABBREVIATION['market']}〔{(today - timedelta(days=age)).year}〕{300 + i}号"
        if CreditRecord.objects.filter(department=market, decision_number=decision_number).exists():
            continue
        register_record(
            person=person,
            record_type=RecordType.ADMIN_PENALTY,
            domain=DOMAINS[i],
            department=market,
            decision_number=decision_number,
            decision_date=today - timedelta(days=age),
            penalties=[PenaltyInput(kind=PenaltyKind.FINE, tier="general", amount=Decimal(800 * (i + 1)))],
            facts=f"演示记录：{name}的第{i + 1}条失信信息。",
        )
        created["records"] += 1
    if not User.objects.filter(username=username).exists():
        user, _claim = sign_up(
            username=username,
            password=DEMO_PASSWORD,
            phone="13800000003",
            claim=ClaimInput(
                name=name,
                id_type=IdType.RESIDENT,
                id_number=number,
                document=_demo_scan(
                    ["居民身份证（演示样例）", f"姓名：{name}", f"号码：{number}"], "身份证.png"
                ),
            ),
            consent=True,
        )
        user.email = f"{username}@example.cn"
        user.save(update_fields=["email"])
        created["users"] += 1
    if not User.objects.filter(username=AGENT).exists():
        agent = User(username=AGENT, email=f"{AGENT}@example.cn", phone="13800000004")
        agent.set_password(DEMO_PASSWORD)
        agent.save()
        agent.groups.add(Group.objects.get(name=Role.APPLICANT))
        created["users"] += 1
        principal = Person.objects.get(user__username="applicant2")
        submit_authorisation(
            agent=agent,
            data=AuthorisationInput(
                name=principal.name,
                id_type=principal.id_type,
                id_number=principal.id_number,
                scope="代为申请信用修复、提出异议及签收相关文书",
                valid_from=today,
                valid_until=today + timedelta(days=365),
                document=_demo_scan(
                    [
                        "授权委托书（演示样例）",
                        f"委托人：{principal.name}",
                        f"受托人：{AGENT}",
                        "委托人签名：李娜",
                    ],
                    "授权委托书.png",
                ),
            ),
        )
    return created

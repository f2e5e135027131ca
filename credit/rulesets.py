"""The national rule sets as shipped: installed and published by migration 0002.

These are the numbers of ../shared/DOMAIN.md. After installation they are data: a legal team corrects them
in the admin by making a new version, never by editing this file (which only seeds a new database), and
docs/rules.md is checked against the database by tests/credit/test_docs.py.
"""

from __future__ import annotations

from typing import Any

ORDER36 = "国家发展改革委令第36号《信用修复管理办法》"
ORDER58 = "国家发展改革委令第58号《失信行为纠正后的信用信息修复管理办法（试行）》"
NOTICE527 = "发改办财金〔2019〕527号"
RECON_LAW = "《中华人民共和国行政复议法》（2023年修订）"
LITIGATION_LAW = "《中华人民共和国行政诉讼法》"
CREDIT_REG = "《征信业管理条例》"

COMMITMENT_TEXT = (
    "本人郑重承诺：本人提交的信用修复申请材料真实、准确、完整；本人已纠正失信行为、履行相关法定义务；"
    "本承诺向社会公开。如有虚假或违反本承诺，本人自愿承担相应法律责任，并接受撤销信用修复决定、"
    "重新公示失信信息等处理。"
)

# Procedure deadlines. Order 58's own procedure deadlines are not confirmed (DOMAIN.md), so Order 36's
# are used for every rule set: a case's deadlines follow the rule set in force on its filing date.
PROCEDURE: list[dict[str, Any]] = [
    {
        "kind": "objection.flag",
        "description": "异议标注",
        "value": 1,
        "unit": "wd",
        "basis": f"{CREDIT_REG}第二十五条（参照上海模式）",
    },
    {
        "kind": "objection.forward",
        "description": "转交认定单位",
        "value": 1,
        "unit": "wd",
        "basis": f"{ORDER36}第十八条",
    },
    {
        "kind": "objection.verify",
        "description": "受理后核查",
        "value": 7,
        "unit": "wd",
        "basis": f"{ORDER36}第十八条",
    },
    {
        "kind": "record.mask",
        "description": "破产重整期间暂停公示",
        "value": 10,
        "unit": "wd",
        "basis": f"{ORDER36}第二十条",
    },
    {
        "kind": "repair.accept",
        "description": "信用修复受理决定",
        "value": 3,
        "unit": "wd",
        "basis": f"{ORDER36}第十六条",
    },
    {
        "kind": "repair.supplement",
        "description": "补正材料期限",
        "value": 10,
        "unit": "wd",
        "basis": f"{ORDER36}第十六条",
    },
    {
        "kind": "repair.decide",
        "description": "受理后作出修复决定",
        "value": 7,
        "unit": "wd",
        "basis": f"{ORDER36}第十七条",
    },
    {
        "kind": "repair.extend",
        "description": "复杂案件延期",
        "value": 10,
        "unit": "wd",
        "basis": f"{ORDER36}第十七条",
    },
    {
        "kind": "repair.total",
        "description": "自收到申请起办结",
        "value": 10,
        "unit": "wd",
        "basis": f"{ORDER36}第十七条",
    },
    {
        "kind": "record.withdraw_downstream",
        "description": "修复或删除后停止共享并同步",
        "value": 3,
        "unit": "wd",
        "basis": "《上海市社会信用条例》（参照）",
    },
    {
        "kind": "repair.revocation_block",
        "description": "撤销修复后不得再次修复",
        "value": 3,
        "unit": "years",
        "basis": f"{ORDER36}第二十五条",
    },
    {
        "kind": "reconsideration.apply",
        "description": "申请行政复议期限",
        "value": 60,
        "unit": "cd",
        "basis": f"{RECON_LAW}第二十条",
    },
    {
        "kind": "reconsideration.apply_unstated",
        "description": "未告知复议权利时的申请期限",
        "value": 1,
        "unit": "years",
        "basis": f"{RECON_LAW}第二十条",
    },
    {
        "kind": "reconsideration.apply_absolute",
        "description": "申请行政复议最长期限",
        "value": 5,
        "unit": "years",
        "basis": f"{RECON_LAW}第二十一条",
    },
    {
        "kind": "reconsideration.accept",
        "description": "复议受理审查",
        "value": 5,
        "unit": "wd",
        "basis": f"{RECON_LAW}第三十条、第八十八条",
    },
    {
        "kind": "reconsideration.supplement_request",
        "description": "通知补正",
        "value": 5,
        "unit": "wd",
        "basis": f"{RECON_LAW}第三十一条、第八十八条",
    },
    {
        "kind": "reconsideration.supplement_reply",
        "description": "申请人补正期限",
        "value": 10,
        "unit": "wd",
        "basis": f"{RECON_LAW}第三十一条、第八十八条",
    },
    {
        "kind": "reconsideration.decide",
        "description": "作出复议决定",
        "value": 60,
        "unit": "cd",
        "basis": f"{RECON_LAW}第六十二条",
    },
    {
        "kind": "reconsideration.extend",
        "description": "复议决定延期",
        "value": 30,
        "unit": "cd",
        "basis": f"{RECON_LAW}第六十二条",
    },
    {
        "kind": "reconsideration.decide_simplified",
        "description": "简易程序作出决定",
        "value": 30,
        "unit": "cd",
        "basis": f"{RECON_LAW}第六十二条",
    },
    {
        "kind": "litigation.after_act",
        "description": "直接提起行政诉讼",
        "value": 6,
        "unit": "months",
        "basis": f"{LITIGATION_LAW}第四十六条",
    },
    {
        "kind": "litigation.after_reconsideration",
        "description": "复议决定后提起行政诉讼",
        "value": 15,
        "unit": "cd",
        "basis": f"{LITIGATION_LAW}第四十五条",
    },
    {
        "kind": "complaint.reply",
        "description": "投诉书面答复",
        "value": 30,
        "unit": "cd",
        "basis": f"{CREDIT_REG}第二十六条",
    },
]

_ORDER36_MATERIALS = [
    {"tier": "", "material": "履行法定义务、纠正失信行为的证明材料", "basis": f"{ORDER36}第十五条"},
    {"tier": "", "material": "信用承诺书", "basis": f"{ORDER36}第十五条"},
]
_ORDER36_CONDITIONS = [
    {"condition": "已达到最短公示期（轻微：已履行法定义务）", "basis": f"{ORDER36}第十四条"},
    {"condition": "已纠正失信行为、履行相关义务", "basis": f"{ORDER36}第十四条"},
    {"condition": "已作出信用承诺", "basis": f"{ORDER36}第十四条"},
]

NATIONAL_RULESETS: list[dict[str, Any]] = [
    {
        "code": "ndrc-order-36",
        "version": 1,
        "name": "信用修复管理办法",
        "basis": ORDER36,
        "effective_from": "2026-04-01",
        "effective_until": None,
        "commitment_text": COMMITMENT_TEXT,
        "required_materials": _ORDER36_MATERIALS,
        "repair_conditions": _ORDER36_CONDITIONS,
        "tiers": [
            {
                "tier": "minor",
                "min": (0, "days"),
                "max": (3, "months"),
                "repairable": True,
                "repair_on_duty_fulfilled": True,
                "published_by_default": False,
                "basis": f"{ORDER36}第七条、第十条",
            },
            {
                "tier": "general",
                "min": (3, "months"),
                "max": (1, "years"),
                "repairable": True,
                "basis": f"{ORDER36}第八条、第十条",
            },
            {
                "tier": "serious",
                "min": (1, "years"),
                "max": (3, "years"),
                "repairable": True,
                "basis": f"{ORDER36}第九条、第十条",
            },
        ],
        "domains": [],
    },
    {
        "code": "ndrc-order-58",
        "version": 1,
        "name": "失信行为纠正后的信用信息修复管理办法（试行）",
        "basis": ORDER58,
        "effective_from": "2023-05-01",
        "effective_until": "2026-03-31",
        "commitment_text": COMMITMENT_TEXT,
        "required_materials": _ORDER36_MATERIALS,
        "repair_conditions": _ORDER36_CONDITIONS,
        "notes": "程序期限未经确认，沿用第36号令。",
        "tiers": [
            {
                "tier": "minor",
                "min": (0, "days"),
                "max": (3, "months"),
                "repairable": True,
                "repair_on_duty_fulfilled": True,
                "published_by_default": False,
                "basis": f"{ORDER58}第六条（警告、通报批评和较低数额罚款不予公示）",
            },
            {
                "tier": "general",
                "min": (3, "months"),
                "max": (3, "years"),
                "repairable": True,
                "basis": f"{ORDER58}第六条",
            },
            {
                "tier": "serious",
                "min": (1, "years"),
                "max": (3, "years"),
                "repairable": True,
                "basis": f"{ORDER58}第六条",
            },
        ],
        "domains": [
            {"domain": d, "min": (1, "years"), "basis": f"{ORDER58}第六条"}
            for d in ("special_equipment", "work_safety", "fire")
        ],
    },
    {
        "code": "ndrc-527-2019",
        "version": 1,
        "name": "关于完善失信主体信用修复机制的通知",
        "basis": NOTICE527,
        "effective_from": "2019-07-01",
        "effective_until": "2023-04-30",
        "commitment_text": COMMITMENT_TEXT,
        "required_materials": [
            *_ORDER36_MATERIALS,
            {"tier": "serious", "material": "信用修复培训证明", "basis": NOTICE527},
            {"tier": "serious", "material": "信用报告", "basis": NOTICE527},
        ],
        "repair_conditions": [{"condition": "已达到最短公示期并纠正失信行为", "basis": NOTICE527}],
        "tiers": [
            {
                "tier": "general",
                "min": (3, "months"),
                "max": (1, "years"),
                "repairable": True,
                "basis": NOTICE527,
            },
            {
                "tier": "serious",
                "min": (6, "months"),
                "max": (3, "years"),
                "repairable": True,
                "basis": NOTICE527,
            },
            {
                "tier": "special_serious",
                "min": (3, "years"),
                "max": (3, "years"),
                "repairable": False,
                "basis": f"{NOTICE527}（特定严重失信行为公示期三年，不得修复）",
            },
        ],
        "domains": [],
    },
]


def install(ruleset_model: Any, tier_model: Any, domain_model: Any, deadline_model: Any, now: Any) -> None:
    """Create and publish the national rule sets that are not there yet (idempotent)."""
    for spec in NATIONAL_RULESETS:
        if ruleset_model.objects.filter(code=spec["code"], version=spec["version"]).exists():
            continue
        ruleset = ruleset_model.objects.create(
            code=spec["code"],
            version=spec["version"],
            name=spec["name"],
            basis=spec["basis"],
            effective_from=spec["effective_from"],
            effective_until=spec["effective_until"],
            commitment_text=spec["commitment_text"],
            required_materials=spec["required_materials"],
            repair_conditions=spec["repair_conditions"],
            notes=spec.get("notes", ""),
        )
        for tier in spec["tiers"]:
            tier_model.objects.create(
                ruleset=ruleset,
                tier=tier["tier"],
                min_value=tier["min"][0],
                min_unit=tier["min"][1],
                max_value=tier["max"][0],
                max_unit=tier["max"][1],
                repairable=tier["repairable"],
                repair_on_duty_fulfilled=tier.get("repair_on_duty_fulfilled", False),
                published_by_default=tier.get("published_by_default", True),
                basis=tier["basis"],
            )
        for domain in spec["domains"]:
            domain_model.objects.create(
                ruleset=ruleset,
                domain=domain["domain"],
                min_value=domain["min"][0],
                min_unit=domain["min"][1],
                basis=domain["basis"],
            )
        for rule in PROCEDURE:
            deadline_model.objects.create(ruleset=ruleset, **rule)
        # Published last, through a queryset update: the model refuses changes to a published rule set.
        ruleset_model.objects.filter(pk=ruleset.pk).update(published_at=now)

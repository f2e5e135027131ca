"""A sample letter content (a 信用修复告知书), for the benchmark and the rendering tests."""

from __future__ import annotations

from typing import Any

# The shape `letters.services.issue_letter` freezes into Letter.context (a 信用修复告知书).
SAMPLE_CONTEXT: dict[str, Any] = {
    "letter": {
        "reference_number": "示市监信〔2026〕15号",
        "kind": "repair_notice",
        "case_number": "CR202600000042",
        "issued_on": "2026-11-23",
        "verification_code": "K7QM-3XDA-9PRT",
        "verify_url": "http://127.0.0.1:8000/verify/K7QM3XDA9PRT/",
    },
    "department": {"name": "示范市市场监督管理局"},
    "person": {"name": "张伟", "id_type": "resident_id", "id_masked": "3702**********0021"},
    "record": {
        "number": "CR202600000042",
        "record_type": "admin_penalty",
        "domain": "food_drug",
        "decision_number": "示市监罚〔2026〕7号",
        "decision_date": "2026-05-31",
        "tier": "general",
        "repair_from": "2026-09-01",
        "display_until": "2027-05-31",
        "facts": "未按规定公示食品经营许可信息。",
        "ruleset": "信用修复管理办法",
        "under_objection": False,
        "penalties": [{"kind": "fine", "tier": "general", "amount": "5000.00", "term": None}],
    },
    "decision": {"outcome": "registered", "summary": "", "reasons": []},
    "basis": ["国家发展改革委令第36号《信用修复管理办法》第八条、第十条"],
    "remedies": {
        "reconsideration_days": 60,
        "reconsideration_basis": "《中华人民共和国行政复议法》（2023年修订）第二十条",
        "litigation_months": 6,
        "litigation_basis": "《中华人民共和国行政诉讼法》第四十六条",
        "litigation_days": 15,
        "litigation_days_basis": "《中华人民共和国行政诉讼法》第四十五条",
    },
    "details": {
        "objection_channel": "示范市信用网“信用异议”栏目或市公共信用信息中心服务窗口",
        "repair_channel": "示范市信用网“信用修复”栏目或市公共信用信息中心服务窗口",
    },
}

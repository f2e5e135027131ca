"""`manage.py import_records FILE.csv`: bad rows named with line and reason; all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from credit.models import CreditRecord, Penalty, Person
from tests.conftest import Personas
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The exact wording is checked in English; one test below checks the default, Chinese.
    with translation.override("en"):
        yield


HEADER = (
    "name,id_type,id_number,record_type,domain,department,decision_number,decision_date,"
    "penalty_kind,penalty_tier,penalty_amount,penalty_term,facts\n"
)


def row(
    name: str = "王芳",
    number: str | None = None,
    decision: str = "示市监罚〔2026〕7号",
    day: str = "2026-06-15",
    kind: str = "fine",
    tier: str = "general",
    amount: str = "5000",
    term: str = "",
    department: str = "market",
    id_type: str = "resident_id",
    domain: str = "food_drug",
) -> str:
    number = number or resident_id(11)
    return (
        f"{name},{id_type},{number},admin_penalty,{domain},{department},{decision},{day},{kind},{tier},"
        f"{amount},{term},未按规定公示\n"
    )


def run(tmp_path: Path, text: str, *args: str) -> tuple[str, str]:
    path = tmp_path / "records.csv"
    path.write_text(text, encoding="utf-8-sig")
    out, err = StringIO(), StringIO()
    call_command("import_records", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_rows_of_one_decision_form_one_record_with_several_penalties(
    personas: Personas, tmp_path: Path
) -> None:
    text = HEADER + row() + row(kind="licence_suspension", tier="serious", amount="", term="6 months")
    text += row(name="赵磊", number=resident_id(12), decision="示市监罚〔2026〕8号", day="2026-05-31")
    out, _ = run(tmp_path, text)
    assert "imported 2 record(s) with 3 penalty(ies); 0 line(s) skipped" in out
    record = CreditRecord.objects.get(decision_number="示市监罚〔2026〕7号")
    assert record.tier == "serious"
    assert sorted(Penalty.objects.filter(record=record).values_list("kind", flat=True)) == [
        "fine",
        "licence_suspension",
    ]
    assert Person.objects.by_id_number(resident_id(11)).get().name == "王芳"


def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported(
    personas: Personas, tmp_path: Path
) -> None:
    bad_check = resident_id(13)[:17] + ("0" if resident_id(13)[17] != "0" else "1")
    text = (
        HEADER
        + row()
        + row(name="甲", number=bad_check, decision="d2")
        + row(name="乙", number=resident_id(14), decision="d3", day="2026-13-01")
        + row(name="丙", number=resident_id(15), decision="d4", department="nowhere")
        + row(name="丁", number=resident_id(16), decision="d5", tier="catastrophic")
        + row(name="戊", number=resident_id(17), decision="d6", term="half a year")
        + row(name="己", number=resident_id(18), decision="d7", day="2018-01-01")
        + row(name="庚", number=resident_id(19), decision="d8", day="2099-01-01")
    )
    with pytest.raises(CommandError, match="7 bad row"):
        run(tmp_path, text)
    assert not CreditRecord.objects.exists()
    assert not Person.objects.exclude(
        pk__in=[personas.applicant_person.pk, personas.other_person.pk]
    ).exists()


def test_the_report_names_the_line_and_the_reason(personas: Personas, tmp_path: Path) -> None:
    bad_check = resident_id(13)[:17] + ("0" if resident_id(13)[17] != "0" else "1")
    text = (
        HEADER
        + row()
        + row(name="甲", number=bad_check, decision="d2")
        + row(name="丙", number=resident_id(15), decision="d4", department="x")
    )
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_records", str(path), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 3: id_number: The check character is wrong")
    assert lines[1] == "line 4: department “x” does not exist or is not a deciding body"
    assert bad_check not in err.getvalue()  # never echo an ID number


def test_skip_invalid_imports_the_good_rows(personas: Personas, tmp_path: Path) -> None:
    text = HEADER + row() + row(name="乙", number=resident_id(14), decision="d3", day="yesterday")
    out, err = run(tmp_path, text, "--skip-invalid")
    assert "imported 1 record(s)" in out and "1 line(s) skipped" in out
    assert "line 3: decision_date “yesterday” is not a date" in err
    assert CreditRecord.objects.count() == 1


def test_a_tier_the_rule_set_lacks_is_reported(personas: Personas, tmp_path: Path) -> None:
    text = HEADER + row(day="2021-03-01", tier="minor")  # 527号 has no 轻微 tier
    with pytest.raises(CommandError):
        run(tmp_path, text)


def test_conflicting_rows_of_one_decision_are_refused(personas: Personas, tmp_path: Path) -> None:
    text = HEADER + row() + row(day="2026-06-16")
    _, err = "", ""
    with pytest.raises(CommandError):
        run(tmp_path, text)
    _out, err = run(tmp_path, text, "--skip-invalid")
    assert "line 3: same decision as line 2 but a different decision_date" in err
    assert CreditRecord.objects.count() == 0


def test_an_existing_person_under_another_name_or_a_duplicate_decision(
    personas: Personas, tmp_path: Path
) -> None:
    text = HEADER + row(name="张伟伟", number=resident_id(1))
    _, err = run(tmp_path, text, "--skip-invalid")
    assert "registered under another name" in err
    run(tmp_path, HEADER + row())
    _, err = run(tmp_path, HEADER + row(), "--skip-invalid")
    assert "already registered" in err
    assert CreditRecord.objects.count() == 1


def test_a_missing_column_or_file_is_a_clear_error(personas: Personas, tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        run(tmp_path, "name,id_number\n王芳,1\n")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_records", str(tmp_path / "absent.csv"))


def test_the_report_is_in_chinese_by_default(personas: Personas, tmp_path: Path) -> None:
    with translation.override("zh-hans"):
        _, err = run(
            tmp_path,
            HEADER + row() + row(name="乙", number=resident_id(14), decision="d3", day="x"),
            "--skip-invalid",
        )
    assert err.startswith("第 3 行：decision_date“x”不是有效日期")

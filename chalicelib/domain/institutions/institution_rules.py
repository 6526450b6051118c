"""What an institution's application must hold before a regulator reads it: a credit code
whose check character is right, and a county that exists in the province this stack serves."""

from __future__ import annotations

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.institutions import uscc
from chalicelib.domain.institutions.catalog import Discipline, TrainingType
from chalicelib.domain.policy import Policy
from chalicelib.domain.regions import PROVINCES, is_county_code


def check_credit_code(code: str) -> None:
    if not uscc.is_valid(code):
        raise RuleViolation(
            "统一社会信用代码校验位不正确，请核对营业执照或登记证书上的代码",
            code="uscc_check_failed", uscc=code,
        )


LICENSED_DISCIPLINES = {
    TrainingType.SUBJECT: frozenset({Discipline.ACADEMIC}),
    TrainingType.NON_SUBJECT: frozenset({Discipline.SPORTS, Discipline.ARTS, Discipline.SCIENCE,
                                         Discipline.OTHER}),
}
"""Subject training is academic; non-subject training is of another discipline (an
"academic" non-subject institution would sell subject training outside its rules)."""


def check_licence(training_type: TrainingType, discipline: Discipline) -> None:
    if discipline not in LICENSED_DISCIPLINES[training_type]:
        raise RuleViolation(
            "培训类型与类别不符：学科类为 academic，非学科类为 sports、arts、science 或 other",
            code="discipline_not_of_type", training_type=training_type.value,
            discipline=discipline.value,
        )


def check_region(region_code: str, *, province_code: str, policy: Policy) -> None:
    """The county where an institution is (offline) or registered (online)."""
    if not is_county_code(region_code):
        raise RuleViolation(
            "行政区划代码不是有效的区县代码（6 位：省 2 位、市 2 位、区县 2 位）",
            code="region_unknown", region_code=region_code,
        )
    if not region_code.startswith(province_code):
        raise RuleViolation(
            f"本平台服务{PROVINCES.get(province_code, province_code)}，请向机构所在省份的平台申请",
            code="region_outside_province", region_code=region_code,
            province_code=province_code,
        )
    if not policy.county_listed(region_code):
        raise RuleViolation(
            "该市没有这个区县代码，请核对机构所在区县", code="county_unknown",
            region_code=region_code,
        )

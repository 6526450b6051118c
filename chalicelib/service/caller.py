"""Who is calling, as the verified token says, and what each role may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain import regions
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.institutions.catalog import Department, Institution
from chalicelib.domain.institutions.measures import Office


class Role(StrEnum):
    PARENT = "parent"
    INSTITUTION = "institution"
    REGULATOR = "regulator"


@dataclass(frozen=True)
class Caller:
    sub: str
    role: Role
    institution_id: str = ""
    region: str = ""
    department: Department | None = None

    def require(self, *roles: Role) -> Caller:
        if self.role not in roles:
            raise Forbidden("当前身份无权执行此操作", code="role_not_allowed", role=str(self.role))
        return self

    def own_institution(self) -> str:
        """The institution a staff caller acts for. Staff whose token names none (an applicant,
        not yet bound) act for no institution: every route about one's business is 403 for
        them, checked before anything is looked up, so nothing's existence is leaked."""
        self.require(Role.INSTITUTION)
        if not self.institution_id:
            raise Forbidden("只能操作本机构的业务", code="not_your_institution")
        return self.institution_id

    def require_staff_of(self, institution_id: str) -> Caller:
        if self.own_institution() != institution_id:
            raise Forbidden("只能操作本机构的业务", code="not_your_institution")
        return self

    def supervises(self, institution: Institution) -> bool:
        """A regulator sees an institution inside its region prefix and department.

        The education department coordinates and sees every training type.
        """
        if self.role is not Role.REGULATOR or not self.region:
            return False
        in_region = institution.jurisdiction_code.startswith(region_prefix(self.region))
        in_department = self.department in (Department.EDUCATION, institution.department)
        return in_region and in_department

    def competent_for(self, institution: Institution) -> bool:
        """A regulator acts on (decides about) an institution only as its competent
        department in its jurisdiction: education sees every type but acts on its own and on
        the unassigned ones (whose competent department is education)."""
        return self.supervises(institution) and self.department is institution.department

    def require_competent_for(self, institution: Institution) -> Caller:
        if not self.competent_for(institution):
            raise Forbidden(
                "只有该机构的主管部门才能办理此事项", code="not_competent_department",
                competent_department=institution.department.value,
            )
        return self

    @property
    def office(self) -> Office:
        """A regulator's office: its department at its region."""
        return Office(str(self.department or ""), self.region)

    def require_may_undo(self, imposed_by: Office) -> Caller:
        """Only the office that imposed a measure, or its department above it, lifts it."""
        if not self.office.may_undo(imposed_by):
            raise Forbidden(
                "该措施由其他部门或上级部门作出，只能由作出措施的部门或其上级同一部门解除",
                code="measure_imposed_elsewhere", imposed_by_department=imposed_by.department,
                imposed_by_region=imposed_by.region,
            )
        return self

    def require_supervisor_of(self, institution: Institution) -> Caller:
        self.require(Role.REGULATOR)
        if not self.supervises(institution):
            raise Forbidden("不在本部门的监管辖区内", code="outside_jurisdiction")
        return self


NATIONAL = regions.NATIONAL


def region_prefix(region: str) -> str:
    """'110105' -> '110105' (county), '110100' -> '1101' (city), '110000' -> '11' (province),
    '000000' -> '' (national: every region)."""
    return regions.jurisdiction_prefix(region)

"""What puts a course on sale, over HTTP, each answer held against the model: an institution
applies (or tries with one account for both custodian accounts), the regulator whitelists or
rejects it, its staff submit courses (refused until it is whitelisted), the regulator
approves or rejects each; and parents try to buy what is not on sale. The run's first shops
are opened by these same actions."""

from __future__ import annotations

from datetime import date, timedelta

from tests.simulation import accounts, model
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows
from tests.support.harness import Reply

MAX_INSTITUTIONS = 6  # a small cast keeps moto's tables small
MAX_COURSES = 9
NO_SUCH_COURSE = "crs_" + "0" * 26
REVIEW = "审核意见"
"""The reason a review's decision gives (an account change's: tests/simulation/accounts.py)."""
COURSE_DAYS = 85  # within the three months one charge may cover
MINUTES = (45, 60, 90)
SLOTS = (2, 7, len(flows.EVERY_SLOT))
"""How many weekly slots a course's timetable names: with the make-up lesson, at most that
many lessons of it (and one more) for a child in a week."""


def apply(w: World, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    """A new institution applies, in one of the province's two regions (model.CLOCKS); one
    in four gives the same account for both custodian accounts (the supervised money would
    be the institution's to spend): refused. The others register a teacher whose background
    check the department passes, but one in four of them none (its whitelisting is then
    refused: no staff member checked)."""
    return apply_in(w, variant, model.REGIONS[variant // 4 % 2], faults)


def apply_in(w: World, variant: int, region: str, faults: tuple[Fault, ...] = ()) -> str:
    if len(w.institutions) >= MAX_INSTITUTIONS:
        return "enough institutions"
    body = flows.application(region)
    applicant = w.p.token(f"applicant-{len(w.log)}-{variant}", "institution")
    custodian = body["custodian"]
    if variant % 4 == 0:
        custodian["general_account"] = custodian["supervised_account"]
        expect(w.http("POST", "/v1/institutions", applicant, body, key=w.new_key(),
                      faults=faults), {422}, {"custodian_accounts_identical"})
        return "an application naming one account twice: refused"
    reply = expect(w.http("POST", "/v1/institutions", applicant, body, key=w.new_key(),
                          faults=faults), {201})
    institution_id = reply.body["institution_id"]
    if reply.body["status"] != "pending_review":
        raise Violation(f"{institution_id} applied and is {reply.body['status']}")
    staff = w.p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    teacher = "" if variant % 4 == 3 else flows.checked_teacher(w.p, staff, flows.competent(w.p))
    w.institutions.append(model.Institution(institution_id, staff,
                                            custodian["supervised_account"],
                                            custodian["general_account"], teacher_id=teacher,
                                            name=body["name"], region=region))
    return f"{institution_id} applied in {region}{'' if teacher else ' with no staff checked'}"


def decide_institution(w: World, n: int, verdict: int, faults: tuple[Fault, ...] = ()) -> str:
    """The regulator whitelists (two in three) or rejects an institution; deciding one
    already decided the other way is a 409, the same way its decision again."""
    institution = w.pick(w.institutions, n)
    if institution is None:
        return "no institution to review"
    approve = verdict % 3 != 0
    target = "whitelisted" if approve else "rejected"
    path = (f"/v1/regulator/institutions/{institution.institution_id}/"
            f"{'approve' if approve else 'reject'}")
    reply = w.http("POST", path, flows.competent(w.p), {"reason": REVIEW}, key=w.new_key(),
                   faults=faults)
    if approve and institution.status == "pending_review" and not institution.teacher_id:
        expect(reply, {422}, {"whitelist_criteria_unmet"})
        return f"{institution.institution_id}: no staff checked, not whitelisted"
    _decided(reply, institution, target, "institution")
    accounts.decided(w, institution)
    return f"{institution.institution_id}: {reply.status} {target}"


def submit_course(w: World, n: int, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    """Staff submit a course (refused unless their institution is whitelisted)."""
    if len(w.courses) >= MAX_COURSES:
        return "enough courses"
    institution = w.pick(w.institutions, n)
    if institution is None:
        return "no institution to submit a course"
    today = model.business_date(w.now)
    return submit(w, w.institutions.index(institution), MINUTES[variant % len(MINUTES)],
                  8_000 + 500 * (variant % 9), today + timedelta(days=COURSE_DAYS), faults,
                  starts_on=today + timedelta(days=variant % 3),  # some start in days
                  slots=SLOTS[variant // 3 % len(SLOTS)])


def submit(w: World, institution: int, minutes: int, price: int, ends_on: date,
           faults: tuple[Fault, ...] = (), *, starts_on: date | None = None,
           slots: int = len(flows.EVERY_SLOT)) -> str:
    inst = w.institutions[institution]
    starts_on = starts_on or model.business_date(w.now)
    body = flows.course_body(price, lesson_minutes=minutes, starts_on=str(starts_on),
                             ends_on=str(ends_on), timetable=flows.EVERY_SLOT[:slots])
    reply = w.http("POST", "/v1/courses", inst.staff, body, key=w.new_key(), faults=faults)
    if inst.status != "whitelisted":
        expect(reply, {422}, {"institution_not_whitelisted"})
        return f"a course of {inst.institution_id} ({inst.status}): refused"
    expect(reply, {201})
    if reply.body["status"] != "pending_review":
        raise Violation(f"course {reply.body['course_id']} submitted as {reply.body['status']}")
    w.courses.append(model.Course(reply.body["course_id"], institution, price, minutes,
                                  starts_on, ends_on, slots=slots))
    return f"course {reply.body['course_id']} submitted"


def decide_course(w: World, n: int, verdict: int, faults: tuple[Fault, ...] = ()) -> str:
    """The regulator approves (two in three) or rejects a course; approved, it is on sale."""
    course = w.pick(w.courses, n)
    if course is None:
        return "no course to review"
    approve = verdict % 3 != 0
    target = "approved" if approve else "rejected"
    path = f"/v1/regulator/courses/{course.course_id}/{'approve' if approve else 'reject'}"
    reply = w.http("POST", path, flows.competent(w.p), {"reason": REVIEW}, key=w.new_key(),
                   faults=faults)
    was = course.status
    _decided(reply, course, target, "course")
    if course.status == "approved" and was != "approved":
        inst = w.institutions[course.institution]
        w.shops.append(model.Shop(inst.institution_id, inst.staff, course.course_id,
                                  inst.supervised, inst.general, course.price, course.minutes,
                                  course.starts_on, course.ends_on, inst.teacher_id,
                                  inst.region, course.slots + model.EXTRA_LESSONS_PER_WEEK))
    return f"course {course.course_id}: {reply.status} {target}"


def _decided(reply: Reply, reviewed: model.Institution | model.Course, target: str,
             kind: str) -> None:
    if reviewed.status in ("pending_review", target):
        expect(reply, {200})
        if reply.body["status"] != target:
            raise Violation(f"a {kind} decided {target} is {reply.body['status']}")
        if isinstance(reviewed, model.Institution) and reviewed.status != target:
            reviewed.decided = (target, REVIEW)
        reviewed.status = target
    elif isinstance(reviewed, model.Institution) and reviewed.decided == (target, REVIEW):
        expect(reply, {200})  # its own decision again, the institution moved on since
        if reply.body["status"] != reviewed.status:
            raise Violation(f"{kind} {reviewed.status} answered {reply.body['status']} "
                            f"to its decision {target} sent again")
    else:
        expect(reply, {409}, {f"{kind}_not_pending"})


def buy_off_sale(w: World, family: int, n: int, faults: tuple[Fault, ...] = ()) -> str:
    """A parent tries to buy a course that is not on sale (awaiting review, rejected, taken
    off sale by its institution a while) or does not exist: refused, and no order is
    created (the checks count them)."""
    if n % 3 == 0 and w.shops:
        return _taken_off_sale_a_while(w, family, n, faults)
    fam = w.pick(w.families, family)
    off_sale = [c for c in w.courses if c.status != "approved"]
    course = w.pick(off_sale, n)
    course_id = course.course_id if course is not None else NO_SUCH_COURSE
    body = {"course_id": course_id, "student_id": fam.student_id, "lessons": 1 + n % 4}
    reply = w.http("POST", "/v1/orders", fam.parent, body, key=w.new_key(), faults=faults)
    if course is None:
        expect(reply, {404}, {"course_not_found"})
    else:
        expect(reply, {422}, {"course_not_approved"})
    return f"buying {course_id} ({course.status if course else 'no such course'}): refused"


def _taken_off_sale_a_while(w: World, family: int, n: int, faults: tuple[Fault, ...]) -> str:
    """An institution takes its course off sale; a parent's purchase meanwhile is refused
    (lessons already bought go on); the course goes back on sale."""
    fam, sh = w.pick(w.families, family), w.pick(w.shops, n)
    path = f"/v1/courses/{sh.course_id}"
    off = expect(w.http("POST", f"{path}/off-sale", sh.staff, None, key=w.new_key(),
                        faults=faults), {200})
    if off.body["status"] != "off_sale":
        raise Violation(f"{sh.course_id} taken off sale is {off.body['status']}")
    body = {"course_id": sh.course_id, "student_id": fam.student_id, "lessons": 1}
    expect(w.http("POST", "/v1/orders", fam.parent, body, key=w.new_key()), {422},
           {"course_off_sale"})
    back = expect(w.http("POST", f"{path}/on-sale", sh.staff, None, key=w.new_key()), {200})
    if back.body["status"] != "approved":
        raise Violation(f"{sh.course_id} put back on sale is {back.body['status']}")
    return f"{sh.course_id} off sale a while: a purchase refused"


def open_shops(w: World, shops: tuple[tuple[int, int, int, int, str], ...]) -> None:
    """The run's first shops, (lesson minutes, price, days on sale, weekly slots, region)
    each: applied for, whitelisted, submitted and approved by the actions the run uses."""
    for minutes, price, days, slots, region in shops:
        apply_in(w, 1, region)
        decide_institution(w, len(w.institutions) - 1, 1)
        submit(w, len(w.institutions) - 1, minutes, price,
               model.business_date(w.now) + timedelta(days=days), slots=slots)
        decide_course(w, len(w.courses) - 1, 1)

"""Idempotency-Key under twins: what a repeated, concurrent, crashed or reused key does.

Twins are requests that share one key. Their interleavings are deterministic: the twin runs
inside the first request's command (the view calls `students.link` through its module, and
`link_runs` puts a step around the real call there), or the record store's hooks are driven
directly. Only the last test races, and only on the real engine. However the twins
interleave, exactly one student is created and a later retry replays, never a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamo import idempotency as records
from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.codec import from_attribute_values, to_attribute_values
from chalicelib.api import errors as api_errors
from chalicelib.api import idempotency, views
from chalicelib.domain.errors import PlatformError, StateConflict
from chalicelib.domain.institutions.catalog import Student
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import students
from tests.support import flows
from tests.support.concurrency import race
from tests.support.harness import Platform, Reply
from tests.support.snapshot import assert_refused, snapshot

STUDENTS = "/v1/students"
CHILD = {"name": "小明", "grade": "三年级"}

Step = Callable[[Callable[[], Student]], Student]


class LambdaDied(BaseException):
    """The function stopped mid-request (timeout, out of memory): nothing after it runs."""


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def a_parent(p: Platform) -> tuple[Caller, dict[str, str]]:
    sub = f"parent-{uuid.uuid4().hex[:12]}"
    return Caller(sub, Role.PARENT), p.token(sub, "parent")


def students_of(p: Platform, parent: dict[str, str]) -> list[str]:
    listed = p.get(STUDENTS, parent)
    assert listed.status == 200, listed.body
    return [s["student_id"] for s in listed.body["items"]]


def link_runs(monkeypatch: pytest.MonkeyPatch, *steps: Step) -> None:
    """Call n of the students.link service runs steps[n] around the real call (which the step
    makes by calling its argument); later calls are the real one."""
    real = students.link
    pending = iter(steps)

    def link(*args: Any, **kwargs: Any) -> Student:
        step = next(pending, None)
        return real(*args, **kwargs) if step is None else step(lambda: real(*args, **kwargs))

    monkeypatch.setattr(students, "link", link)


def past_the_lease(p: Platform) -> None:
    p.clock.advance(idempotency.IN_PROGRESS_LEASE + timedelta(seconds=1))


# the fingerprint: method, concrete path, the whole caller, body


def test_one_key_on_the_confirm_of_two_consumptions_is_refused_for_the_second_as_reused(
    platform: Platform,
) -> None:
    shop, fam = flows.open_shop(platform), flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    first = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    platform.advance(hours=2)
    second = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    key = new_key()
    confirmed = platform.post(
        f"/v1/consumptions/{first['consumption_id']}/confirm", fam.parent, key=key)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["consumption_id"] == first["consumption_id"]
    assert_refused(
        platform, lambda: platform.post(
            f"/v1/consumptions/{second['consumption_id']}/confirm", fam.parent, key=key),
        422, "idempotency_key_reused",
    )
    assert flows.confirm(platform, fam, second["consumption_id"])["status"] == "confirmed"


def test_one_key_from_one_sub_under_another_verified_identity_is_refused_as_reused(
    platform: Platform,
) -> None:
    a, b = flows.open_shop(platform), flows.open_shop(platform)
    staff_of_a = platform.token("staff-moved", "institution", institution_id=a.institution_id)
    staff_of_b = platform.token("staff-moved", "institution", institution_id=b.institution_id)
    key, body = new_key(), flows.course_body()
    created = platform.post("/v1/courses", staff_of_a, body, key=key)
    assert created.status == 201, created.body
    assert_refused(
        platform, lambda: platform.post("/v1/courses", staff_of_b, body, key=key),
        422, "idempotency_key_reused",
    )


# in progress, and the lease that ends it


def test_a_twin_arriving_while_the_first_request_runs_is_refused_in_progress_then_replayed(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, parent = a_parent(platform)
    key = new_key()
    twins: list[Reply] = []
    around_twin: list[Any] = []

    def twin_arrives_after_the_create(create: Callable[[], Student]) -> Student:
        created = create()
        around_twin.append(snapshot(platform))
        twins.append(platform.post(STUDENTS, parent, CHILD, key=key))
        around_twin.append(snapshot(platform))
        return created

    link_runs(monkeypatch, twin_arrives_after_the_create)
    original = platform.post(STUDENTS, parent, CHILD, key=key)
    assert original.status == 201, original.body
    (twin,) = twins
    assert (twin.status, twin.code) == (409, "idempotency_request_in_progress"), twin.body
    assert around_twin[0] == around_twin[1], "the refused twin changed state"
    retried = platform.post(STUDENTS, parent, CHILD, key=key)
    assert (retried.status, retried.body) == (201, original.body)
    assert students_of(platform, parent) == [original.body["student_id"]]


def test_a_key_left_by_a_crashed_request_is_in_progress_until_its_lease_ends_then_converges(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, parent = a_parent(platform)
    key = new_key()

    def die_after_creating(create: Callable[[], Student]) -> Student:
        create()
        raise LambdaDied

    link_runs(monkeypatch, die_after_creating)
    with pytest.raises(LambdaDied):
        platform.post(STUDENTS, parent, CHILD, key=key)
    (created,) = students_of(platform, parent)
    assert_refused(platform, lambda: platform.post(STUDENTS, parent, CHILD, key=key),
                   409, "idempotency_request_in_progress")
    platform.clock.advance(idempotency.IN_PROGRESS_LEASE - timedelta(seconds=1))
    assert_refused(platform, lambda: platform.post(STUDENTS, parent, CHILD, key=key),
                   409, "idempotency_request_in_progress")
    platform.advance(seconds=1)
    taken_over = platform.post(STUDENTS, parent, CHILD, key=key)
    assert taken_over.status == 201 and taken_over.body["student_id"] == created
    assert platform.post(STUDENTS, parent, CHILD, key=key).body == taken_over.body
    assert students_of(platform, parent) == [created]


def test_a_request_failing_unexpectedly_ends_its_lease_so_a_retry_converges_at_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, parent = a_parent(platform)
    key = new_key()

    def fail_after_creating(create: Callable[[], Student]) -> Student:
        create()
        raise RuntimeError("the connection dropped after the write")

    link_runs(monkeypatch, fail_after_creating)
    failed = platform.post(STUDENTS, parent, CHILD, key=key)
    assert (failed.status, failed.code) == (500, "internal_error"), failed.body
    (created,) = students_of(platform, parent)
    retried = platform.post(STUDENTS, parent, CHILD, key=key)
    assert retried.status == 201 and retried.body["student_id"] == created, retried.body
    assert students_of(platform, parent) == [created]


# a record is completed or released only by the request that began it


def test_a_late_complete_after_a_takeover_answers_its_caller_and_keeps_the_twins_record(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, parent = a_parent(platform)
    key = new_key()
    twins: list[Reply] = []

    def outlive_the_lease(create: Callable[[], Student]) -> Student:
        created = create()
        twins.append(platform.post(STUDENTS, parent, CHILD, key=key))
        past_the_lease(platform)
        twins.append(platform.post(STUDENTS, parent, CHILD, key=key))
        return created

    link_runs(monkeypatch, outlive_the_lease)
    late = platform.post(STUDENTS, parent, CHILD, key=key)
    early_twin, taker = twins
    assert (early_twin.status, early_twin.code) == (409, "idempotency_request_in_progress")
    assert taker.status == late.status == 201 and taker.body == late.body, (taker, late)
    assert platform.post(STUDENTS, parent, CHILD, key=key).body == taker.body
    assert students_of(platform, parent) == [taker.body["student_id"]]


def test_a_late_release_after_a_takeover_answers_its_caller_and_keeps_the_twins_record(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, parent = a_parent(platform)
    key = new_key()
    twins: list[Reply] = []

    def outlive_the_lease_then_be_refused(create: Callable[[], Student]) -> Student:
        create()
        past_the_lease(platform)
        twins.append(platform.post(STUDENTS, parent, CHILD, key=key))
        raise StateConflict("孩子信息已变更", code="student_changed")

    link_runs(monkeypatch, outlive_the_lease_then_be_refused)
    late = platform.post(STUDENTS, parent, CHILD, key=key)
    assert (late.status, late.code) == (409, "student_changed"), late.body
    (taker,) = twins
    assert taker.status == 201, taker.body
    assert platform.post(STUDENTS, parent, CHILD, key=key).body == taker.body
    assert students_of(platform, parent) == [taker.body["student_id"]]


def test_a_twin_refused_while_the_first_runs_cannot_release_the_key_under_it(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reported bug: a twin that ran and was refused deleted the record, the first then
    completed it into an item without its request hash, and every retry was a 500."""
    _, parent = a_parent(platform)
    key = new_key()
    twins: list[Reply] = []

    def twin_arrives(create: Callable[[], Student]) -> Student:
        twins.append(platform.post(STUDENTS, parent, CHILD, key=key))
        return create()

    def refuse(create: Callable[[], Student]) -> Student:
        raise StateConflict("孩子信息已变更", code="student_changed")

    link_runs(monkeypatch, twin_arrives, refuse)
    original = platform.post(STUDENTS, parent, CHILD, key=key)
    retried = platform.post(STUDENTS, parent, CHILD, key=key)
    assert original.status == 201, original.body
    assert (retried.status, retried.body) == (201, original.body)
    (twin,) = twins
    assert (twin.status, twin.code) == (409, "idempotency_request_in_progress"), twin.body


def test_the_store_refuses_a_late_complete_from_a_released_reservation_and_keeps_the_new_one(
    platform: Platform,
) -> None:
    caller, parent = a_parent(platform)
    store, now, key = bootstrap.idempotency_store(), platform.clock.now(), new_key()
    lease_until = now + idempotency.IN_PROGRESS_LEASE
    fingerprint = idempotency.fingerprint("POST", STUDENTS, caller, CHILD)
    a = records.Reservation(caller.sub, key, "token-of-a", "stu_01JA0000000000000000000000")
    b = records.Reservation(caller.sub, key, "token-of-b", "stu_01JB0000000000000000000000")
    store.reserve(a, fingerprint, now, lease_until)
    store.release(a)
    store.reserve(b, fingerprint, now, lease_until)
    with pytest.raises(records.RecordChanged):
        store.complete(a, 201, {"student_id": a.resource_id}, now)
    with pytest.raises(records.RecordChanged):
        store.release(a)
    assert store.read(caller.sub, key, now) == records.IdempotencyRecord(
        fingerprint, b.resource_id, b.token, lease_until.replace(microsecond=0))
    assert_refused(platform, lambda: platform.post(STUDENTS, parent, CHILD, key=key),
                   409, "idempotency_request_in_progress")
    store.complete(b, 201, {"student_id": b.resource_id}, now)
    replayed = platform.post(STUDENTS, parent, CHILD, key=key)
    assert (replayed.status, replayed.body) == (201, {"student_id": b.resource_id})


def test_the_store_refuses_every_late_write_of_a_reservation_that_was_taken_over(
    platform: Platform,
) -> None:
    store, now, key = bootstrap.idempotency_store(), platform.clock.now(), new_key()
    lease_until = now + idempotency.IN_PROGRESS_LEASE
    a = records.Reservation("parent-a", key, "token-of-a", "stu_01JA0000000000000000000000")
    b = records.Reservation("parent-a", key, "token-of-b", a.resource_id)
    store.reserve(a, "hash", now, lease_until)
    begun = store.read("parent-a", key, now)
    assert begun is not None and begun.token == a.token
    store.take_over(begun, b, now, lease_until)
    with pytest.raises(records.RecordChanged):
        store.take_over(begun, records.Reservation("parent-a", key, "token-of-c", ""), now,
                        lease_until)
    for late_write in (lambda: store.complete(a, 201, {"from": "a"}, now),
                       lambda: store.release(a), lambda: store.abandon(a, now)):
        with pytest.raises(records.RecordChanged):
            late_write()
    store.complete(b, 201, {"from": "b"}, now)
    for after_completion in (lambda: store.complete(b, 200, {"again": True}, now),
                             lambda: store.release(b), lambda: store.abandon(b, now)):
        with pytest.raises(records.RecordChanged):
            after_completion()
    done = store.read("parent-a", key, now)
    assert done is not None and (done.response_status, done.response_body) == (201, {"from": "b"})


# the record's lifetime, and records that are not whole


def test_a_record_keeps_its_48_hour_ttl_and_once_expired_a_fresh_request_replaces_it(
    platform: Platform,
) -> None:
    caller, parent = a_parent(platform)
    key = new_key()
    first = platform.post(STUDENTS, parent, CHILD, key=key)
    assert first.status == 201, first.body
    item = platform.dynamodb.get_item(
        TableName=platform.plane.platform_table,
        Key=to_attribute_values(keys.idempotency_key(caller.sub, key)), ConsistentRead=True,
    )["Item"]
    expected = int((platform.clock.now() + timedelta(hours=48)).timestamp())
    assert from_attribute_values(item)["expires_at_epoch"] == expected
    platform.advance(hours=48, seconds=1)
    other_child = {"name": "小红", "grade": "一年级"}
    fresh = platform.post(STUDENTS, parent, other_child, key=key)
    assert fresh.status == 201 and fresh.body["student_id"] != first.body["student_id"]
    assert platform.post(STUDENTS, parent, other_child, key=key).body == fresh.body


def test_a_record_missing_its_request_fields_is_treated_as_absent_never_as_a_500(
    platform: Platform,
) -> None:
    caller, parent = a_parent(platform)
    key = new_key()
    left_by_an_unconditional_complete = {
        **keys.idempotency_key(caller.sub, key),
        "response_status": 201, "response_body": '{"student_id": "stu_lost"}',
    }
    platform.dynamodb.put_item(TableName=platform.plane.platform_table,
                               Item=to_attribute_values(left_by_an_unconditional_complete))
    created = platform.post(STUDENTS, parent, CHILD, key=key)
    assert created.status == 201, created.body
    assert platform.post(STUDENTS, parent, CHILD, key=key).body == created.body
    assert students_of(platform, parent) == [created.body["student_id"]]


# a real race (moto does not isolate concurrent writes)


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_twin_creating_posts_racing_create_one_student_and_agree_on_its_answer(
    platform: Platform,
) -> None:
    """Two threads run the same keyed POST /v1/students at one instant (the workflow the
    route runs; the test client shares one current request between threads)."""
    caller, parent = a_parent(platform)
    ctx, store = bootstrap.context(), bootstrap.idempotency_store()
    fingerprint = idempotency.fingerprint("POST", STUDENTS, caller, CHILD)

    def link_student(key: str) -> Callable[[], tuple[int, Any]]:
        def command(student_id: str) -> tuple[int, Any]:
            student = students.link(ctx, caller, student_id, **CHILD)
            return 201, views.student(student).model_dump(mode="json")

        def post() -> tuple[int, Any]:
            try:
                return idempotency.run_once(ctx, store, caller, key, fingerprint, command,
                                            id_prefix="stu")
            except PlatformError as error:
                response = api_errors.from_exception(error)
                return response.status_code, response.body

        return post

    created: list[str] = []
    for _ in range(5):
        key = new_key()
        answers = race(link_student(key), link_student(key))
        first = next(body for status, body in answers if status == 201)
        for status, body in answers:
            assert (status, body) == (201, first) or (
                status == 409 and body["error"]["code"] == "idempotency_request_in_progress"
            ), answers
        replayed = platform.post(STUDENTS, parent, CHILD, key=key)
        assert (replayed.status, replayed.body) == (201, first)
        created.append(first["student_id"])
    assert sorted(students_of(platform, parent)) == sorted(created)

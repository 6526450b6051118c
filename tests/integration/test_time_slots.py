"""A student's time slots on the real engine (DynamoDB Local): the slot conditions refuse a
lesson exactly when it overlaps one already written, to the second
(chalicelib/domain/escrow/timeslots.py). The e2e suites check the same rule through the API on moto
too; the generated cases run here because moto copies a table once per transaction item."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamo.store import DynamoStore
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.domain.escrow.timeslots import SLOT, footprints
from chalicelib.service.ports import WriteRejected
from infra.dynamodb_local import DynamoDBLocal
from infra.resources import create_data_plane

BASE = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
Interval = tuple[datetime, datetime]

_students = itertools.count(1)


pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def store(dynamodb_local_engine: DynamoDBLocal, sqs_endpoint: str) -> Iterator[DynamoStore]:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="cn-north-1")
    dynamodb = session.client("dynamodb", endpoint_url=dynamodb_local_engine.endpoint_url)
    sqs = session.client("sqs", endpoint_url=sqs_endpoint)
    plane = create_data_plane(dynamodb, sqs, "slots")
    yield DynamoStore(Tables(dynamodb, plane.platform_table, plane.journal_table))
    for table in (plane.platform_table, plane.journal_table):
        dynamodb.delete_table(TableName=table)
    for queue_url in (plane.settlement_queue_url, plane.settlement_dlq_url,
                      plane.sweep_queue_url, plane.sweep_dlq_url):
        sqs.delete_queue(QueueUrl=queue_url)


def intervals() -> st.SearchStrategy[Interval]:
    """Lessons of 10 minutes to 4 hours starting anywhere in a 5-hour span, to the second."""
    return st.tuples(
        st.integers(0, 5 * 3600), st.integers(int(SLOT.total_seconds()), 4 * 3600)
    ).map(lambda t: (BASE + timedelta(seconds=t[0]), BASE + timedelta(seconds=t[0] + t[1])))


def overlap(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def occupy(store: DynamoStore, student: str, lesson: Interval, name: str) -> bool:
    """Whether the student's time for `lesson` could be claimed."""
    try:
        store.write().occupy_slots(student, name, footprints(*lesson)).commit()
    except WriteRejected as rejected:
        assert rejected.failed == {"slot"}
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(lessons=st.lists(intervals(), min_size=2, max_size=4))
def test_a_lesson_is_refused_exactly_when_it_overlaps_an_accepted_one(
    store: DynamoStore, lessons: list[Interval]
) -> None:
    student = f"stu_{next(_students):026d}"
    accepted: list[Interval] = []
    for n, lesson in enumerate(lessons):
        claimed = occupy(store, student, lesson, f"les_{n}")
        assert claimed == (not any(overlap(lesson, other) for other in accepted)), (
            lesson, accepted)
        if claimed:
            accepted.append(lesson)


def test_lessons_that_only_touch_both_fit_and_a_third_between_them_does_not(
    store: DynamoStore,
) -> None:
    student = "stu_touching"
    nine, ten = BASE, BASE + timedelta(hours=1)
    assert occupy(store, student, (nine, ten), "les_a")
    assert occupy(store, student, (ten, ten + timedelta(minutes=47)), "les_b")
    assert not occupy(store, student, (ten - timedelta(seconds=1), ten + timedelta(minutes=9,
                                                                                    seconds=59)),
                      "les_c")


def test_a_lesson_shorter_than_a_slot_has_no_footprints() -> None:
    with pytest.raises(ValueError):
        footprints(BASE, BASE + SLOT - timedelta(seconds=1))

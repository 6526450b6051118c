"""Sweeps: every item due on the schedule, job by job, found page by page and handled one
by one within a time budget, so the scheduled work keeps up with a province and never
starves.

A run of a job is one task per shard of the `due` index (`plan`). The scheduled function
fans the tasks out over the sweep queue; the sweep worker runs a task until its budget is
spent and hands the rest on as a continuation: the same shard and `until`, and the cursor
where it stopped. Each item is handled on its own: one that fails is logged, counted and put
off, and the run goes on. Every item handled leaves the range the run covers (done, or put
off past `until` with backoff), so work that is blocked (an open dispute, a bank callback
that has not come) can never hide newer work behind it, and a continuation or the next run
starts where the work is.

A task's `until` is never trusted beyond the platform's clock: a run pages only what is due
by `min(until, now)`, so a message naming a future instant (a bug, a replay, a forgery)
pulls no work forward, and a stale one acts only on what was due then. Each job's handler
checks its own deadline against `ctx.now()` as well (chalicelib/service/jobs/schedules.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from chalicelib.service.context import Context
from chalicelib.service.jobs.schedules import JOBS
from chalicelib.service.ports import SweepTask

log = logging.getLogger(__name__)

PAGE_SIZE = 50
FAILED_ITEM_DELAY = timedelta(minutes=10)


@dataclass
class SweepReport:
    handled: int = 0
    failed: int = 0
    continuation: SweepTask | None = None
    failed_ids: list[str] = field(default_factory=list)


def plan(ctx: Context, job: str, until: datetime | None = None) -> list[SweepTask]:
    """One task per shard: a whole run of `job` for the work due by `until` (default now)."""
    if job not in JOBS:
        raise ValueError(f"no such scheduled job: {job!r}")
    moment = until or ctx.now()
    return [SweepTask(job, shard, moment) for shard in range(ctx.schedule.shards)]


def fan_out(ctx: Context, job: str) -> int:
    """Queue a run of `job`, one task per shard; the sweep worker runs them."""
    tasks = plan(ctx, job)
    for task in tasks:
        ctx.publisher.publish_sweep(task)
    return len(tasks)


def run(
    ctx: Context, task: SweepTask, *, budget: timedelta, page_size: int | None = None
) -> SweepReport:
    """Handle a queued task's items until none is left or `budget` (wall-clock time, checked
    between pages of `page_size`, default PAGE_SIZE) is spent; then the report carries the
    continuation. The task came by queue: it pages no further than the clock (`paged_until`)."""
    return _run(ctx, task, paged_until(ctx, task), budget, page_size or PAGE_SIZE)


def _run(ctx: Context, task: SweepTask, until: datetime, budget: timedelta,
         page_size: int) -> SweepReport:
    deadline = time.monotonic() + budget.total_seconds()
    report = SweepReport()
    cursor = task.cursor
    seen: set[str] = set()  # an item put off to a time still before `until` comes round again
    while True:
        page = ctx.schedule.due_page(task.job, task.shard, until, page_size, cursor)
        for entity_id in page.items:
            if entity_id not in seen:
                seen.add(entity_id)
                _handle_one(ctx, task.job, until, entity_id, report)
        cursor = page.next_cursor
        if cursor is None:
            return report
        if time.monotonic() >= deadline:
            report.continuation = replace(task, cursor=cursor)
            return report


def paged_until(ctx: Context, task: SweepTask) -> datetime:
    """The instant a run pages up to: its task's, but never past the platform's clock."""
    return min(task.until, ctx.now())


def run_all(ctx: Context, job: str, until: datetime | None = None) -> SweepReport:
    """A whole run of `job`, here and now, every shard to its end (the local stack's
    recovery at start, ops and tests; production fans out instead). `until` is the in-process
    caller's own, so unlike a queued task's it may look ahead: the local stack's recovery
    re-drives every release still settling, however far it was put off."""
    total = SweepReport()
    for task in plan(ctx, job, until):
        report = _run(ctx, task, task.until, timedelta.max, PAGE_SIZE)
        total.handled += report.handled
        total.failed += report.failed
        total.failed_ids += report.failed_ids
    return total


def _handle_one(ctx: Context, name: str, until: datetime, entity_id: str,
                report: SweepReport) -> None:
    job = JOBS[name]
    try:
        if job.handle(ctx, entity_id, until):
            report.handled += 1
    except Exception:
        log.exception("%s of %s failed; put off, the run goes on", name, entity_id)
        report.failed += 1
        report.failed_ids.append(entity_id)
        _put_off_failed(ctx, job.kind, entity_id, name)


def _put_off_failed(ctx: Context, kind: str, entity_id: str, job: str) -> None:
    try:
        ctx.schedule.reschedule(kind, entity_id, job, ctx.now() + FAILED_ITEM_DELAY,
                                deferrals=None)
    except Exception:
        log.exception("could not put off %s of %s; the next run sees it again", job, entity_id)

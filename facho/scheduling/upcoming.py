"""When a job runs next, as the panel's jobs list, the dashboard and the API show it.

A tick claims slots up to the claim horizon ahead (`Config.claim_horizon_s`), so a job's
`next_run_at` is the first slot *not yet claimed*: for a job whose next slot is already
reserved (a PENDING row) it is one slot late (issue 9: "en 1 min 39 s" while the previous
slot was Pendiente). The next slot that has not run yet is the earliest claimed PENDING
slot, else `next_run_at`. All instants are aware UTC datetimes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

import sqlalchemy as sa

from facho.extensions import db
from facho.models import PENDING, Execution


def pending_by_job(job_ids: Iterable[int]) -> dict[int, datetime]:
    """{job id: earliest claimed slot still PENDING} in one query (jobs without one are
    left out)."""
    job_ids = sorted(set(job_ids))
    if not job_ids:
        return {}
    e = Execution
    return dict(db.session.execute(
        sa.select(e.job_id, sa.func.min(e.scheduled_for))
        .where(e.job_id.in_(job_ids), e.status == PENDING, e.scheduled_for.is_not(None))
        .group_by(e.job_id)).all())


def next_slot(next_run_at: datetime | None, pending: datetime | None) -> datetime | None:
    """The next slot that has not run yet: the claimed pending one when it comes first."""
    candidates = [t for t in (pending, next_run_at) if t is not None]
    return min(candidates) if candidates else None


def next_slots(jobs) -> dict[int, datetime | None]:
    """{job id: its next slot} for SnmpJob rows, one query for all of them."""
    jobs = list(jobs)
    pending = pending_by_job(j.id for j in jobs)
    return {j.id: next_slot(j.next_run_at, pending.get(j.id)) for j in jobs}

"""Evaluation: one OLT's rules against its facts, then its incidents reconciled with what
holds now. Called after each execution of the OLT (`trigger` → actor `evaluate_alerts`,
queue `alerts`: never in the execution's own thread) and by the minute sweep for the
rules whose condition can change with nothing polled (`TIME_BASED`: ONU down for N
minutes, OLT unreachable) and for hold times.

One transaction per OLT: incidents opened, refreshed, folded and resolved, and their
outbox rows, commit together; the delivery is woken after the commit."""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

import sqlalchemy as sa

from facho.extensions import db
from facho.logging_setup import kv
from facho.models import AlertRule, Incident, Olt, utcnow
from facho.monitoring import incidents, load, scope, storm, summary
from facho.monitoring import rules as kinds
from facho.monitoring.params import with_defaults

log = logging.getLogger("facho.monitoring")
PON_KINDS = ("pon_caida", "pon_degradada")


def enabled() -> list[AlertRule]:
    return list(db.session.execute(sa.select(AlertRule).where(AlertRule.enabled.is_(True))
                                   .order_by(AlertRule.id)).scalars())


def _params(rule) -> dict:
    return with_defaults(kinds.module(rule.kind).PARAMS, rule.params)


def _medians(olt_id, rules, onus, now) -> dict:
    """{(days, min_samples): {onu_id: median}} for the degradation rules' windows."""
    wanted = {(p["dias"], p["min_muestras"]) for p in map(_params, rules)}
    ids = [o.id for o in onus]
    return {w: load.cached_rx_medians(olt_id, ids, now, int(w[0]), int(w[1]))
            for w in wanted}


def _last_olt_incident(olt_id):
    """The OLT's last resolved unreachable incident: (id, resolved_at) or (None, None)."""
    row = db.session.execute(
        sa.select(Incident.id, Incident.resolved_at).where(
            Incident.olt_id == olt_id, Incident.kind == "olt_inalcanzable",
            Incident.state == "resuelto").order_by(Incident.resolved_at.desc()).limit(1)).first()
    return (row.id, row.resolved_at) if row else (None, None)


def _settling(olt_id, rules, now) -> tuple[bool, int | None]:
    """(in the settle period, the incident it follows): after the OLT's unreachable incident
    resolved, or after a reboot its uptime showed (`facho.inventory.uptime`; no incident
    to fold into then)."""
    settle = [_params(r)["asentamiento_min"] for r in rules if r.kind == "olt_inalcanzable"]
    if not settle:
        return False, None
    incident_id, resolved_at = _last_olt_incident(olt_id)
    if storm.settling(resolved_at, now, max(settle)):
        return True, incident_id
    rebooted_at = db.session.execute(sa.select(Olt.rebooted_at).where(Olt.id == olt_id)
                                     ).scalar()
    return storm.settling(rebooted_at, now, max(settle)), None


def _cover_incident(cover, open_now: dict, olt_id: int):
    """The id of the incident a cover stands for (PON or OLT incident open now)."""
    for inc in open_now.values():
        if cover == storm.OLT_COVER and inc.kind == "olt_inalcanzable":
            return inc.id
        if cover[0] == "pon" and inc.kind in PON_KINDS and (inc.slot, inc.port) == cover[1:]:
            return inc.id
    return None


def evaluate_olt(olt_id: int, now: datetime | None = None, public_url: str = "",
                 time_based_only: bool = False, enabled_rules=None) -> dict:
    """Evaluate one OLT and commit. `enabled_rules`: every enabled rule, when the caller
    (the sweep) already read them. Returns counts: opened, reopened, refreshed, folded,
    resolved, suppressed."""
    now = now or utcnow()
    counts = dict(opened=0, reopened=0, refreshed=0, folded=0, resolved=0, suppressed=0)
    if enabled_rules is None:
        enabled_rules = enabled()
    if not enabled_rules:
        db.session.rollback()
        return counts
    olt = load.olt_fact(olt_id)
    if olt is None:
        return counts
    applicable = [r for r in enabled_rules if scope.applies_to_olt(r, olt.id, olt.brand_id)]
    evaluated = [r for r in applicable
                 if not time_based_only or kinds.module(r.kind).TIME_BASED]
    if not evaluated:
        db.session.rollback()
        return counts
    onus = load.onu_facts(olt_id, now)
    open_before = incidents.open_by_key(olt_id, [r.id for r in applicable])
    degrading = [r for r in evaluated if kinds.module(r.kind).NEEDS_MEDIANS]
    medians = _medians(olt_id, degrading, onus, now) if degrading else {}

    findings = []
    for rule in evaluated:
        p = _params(rule)
        prefix = incidents.dedupe_key(rule.id, olt_id, "")
        open_keys = frozenset(k[len(prefix):] for k, inc in open_before.items()
                              if inc.rule_id == rule.id)
        window = medians.get((p.get("dias"), p.get("min_muestras")), {})
        inputs = kinds.Inputs(olt, scope.onus_in_scope(rule, onus), p, rule.severity, now,
                              window, open_keys)
        findings += [dataclasses.replace(f, rule_id=rule.id)
                     for f in kinds.evaluate(rule.kind, inputs)]

    open_pons = {(i.slot, i.port) for i in open_before.values() if i.kind in PON_KINDS}
    olt_open = any(i.kind == "olt_inalcanzable" for i in open_before.values())
    in_force = storm.covers(findings, open_pons, olt_open)
    is_settling, settled_incident = _settling(olt_id, applicable, now)
    kept, held = storm.split(findings, in_force, is_settling)
    by_id = {r.id: r for r in evaluated}

    seen = set()
    for finding in kept:
        rule, p = by_id[finding.rule_id], _params(by_id[finding.rule_id])
        key = incidents.dedupe_key(rule.id, olt_id, finding.key)
        seen.add(key)
        suppressed = len(held.get(_cover_of_finding(finding), ()))
        if key in open_before:
            incidents.refresh(open_before[key].id, finding, now, suppressed)
            counts["refreshed"] += 1
            continue
        outcome, _ = incidents.open_incident(rule, finding, now, p["enfriamiento_min"],
                                             public_url, suppressed)
        if outcome == "abierto":
            counts["opened"] += 1
        elif outcome == "reabierto":
            counts["reopened"] += 1
    db.session.flush()

    open_now = incidents.open_by_key(olt_id, [r.id for r in applicable])
    for cover, suppressed_findings in held.items():
        counts["suppressed"] += len(suppressed_findings)
        parent = (settled_incident if cover == storm.SETTLE_COVER
                  else _cover_incident(cover, open_now, olt_id))
        if cover == storm.SETTLE_COVER and parent is not None:
            # the visible count of what the settle period held back, on the OLT incident
            column = incidents.INC.c.onus_suppressed
            held_now = len(suppressed_findings)
            db.session.execute(incidents.INC.update().where(incidents.INC.c.id == parent)
                               .values(onus_suppressed=sa.case((column < held_now, held_now),
                                                               else_=column)))
        for finding in suppressed_findings:
            key = incidents.dedupe_key(finding.rule_id, olt_id, finding.key)
            seen.add(key)
            if key in open_before and parent is not None:
                if incidents.resolve(open_before[key].id, now, public_url, by="sistema",
                                     note=f"Incluida en el incidente #{parent}",
                                     notify=False, parent_id=parent):
                    counts["folded"] += 1

    evaluated_ids = set(by_id)
    for key, inc in open_before.items():
        if key in seen or inc.rule_id not in evaluated_ids:
            continue
        if incidents.clear(inc, now, _params(by_id[inc.rule_id])["espera_resolver_min"],
                           public_url):
            counts["resolved"] += 1
    db.session.commit()
    if counts["opened"] or counts["resolved"] or counts["reopened"] or counts["folded"]:
        log.info(kv(event="alerts_evaluated", olt=olt.name, **counts))
    return counts


def _cover_of_finding(finding):
    if finding.level == "pon":
        return storm.pon_cover(finding.slot, finding.port)
    if finding.level == "olt":
        return storm.OLT_COVER
    return None


def sweep(now: datetime | None = None, public_url: str = "", tz=None) -> dict:
    """The minute sweep: the time-based rules (and hold times) of every enabled OLT, and
    the daily summary when it is due (`tz`: the operators' zone)."""
    now = now or utcnow()
    totals: dict = {}
    if tz is not None:
        totals["summaries"] = summary.queue_daily(now, tz, public_url)
        db.session.commit()
    rules = enabled()
    timed = [r for r in rules if kinds.module(r.kind).TIME_BASED]
    # the PON rules ride along so their open incidents still cover their ONUs
    covering = [r for r in rules if r.kind in PON_KINDS]
    if not timed:
        db.session.rollback()
        return totals
    olt_ids = db.session.execute(sa.select(Olt.id).where(Olt.habilitar_olt.is_(True))
                                 .order_by(Olt.id)).scalars().all()
    for olt_id in olt_ids:
        counts = evaluate_olt(olt_id, now, public_url, time_based_only=True,
                              enabled_rules=timed + covering)
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
    return totals


"""No storms: which ONU findings are held back, and under what. Pure.

An ONU finding is suppressed while its OLT is unreachable (an open OLT incident, or one
found now), while its PON has a PON incident (open, or found now), and during the settle
period after its OLT came back from unreachable; PON findings too while the OLT is
unreachable or settling. Suppressed findings open nothing; they
are counted on the incident that covers them ("12 alertas de ONU incluidas"), and an ONU
incident already open under a new PON or OLT incident is folded into it."""
from __future__ import annotations

from datetime import datetime, timedelta

OLT_COVER = ("olt",)
SETTLE_COVER = ("asentamiento",)


def pon_cover(slot, port) -> tuple:
    return ("pon", slot, port)


def covers(findings, open_pons, olt_open: bool) -> set:
    """The covers in force: PONs with a PON finding now or an open PON incident
    (`open_pons`: (slot, port)), the OLT when it is unreachable now or still open."""
    found = {pon_cover(*pon) for pon in open_pons}
    for finding in findings:
        if finding.level == "pon":
            found.add(pon_cover(finding.slot, finding.port))
        elif finding.level == "olt":
            found.add(OLT_COVER)
    if olt_open:
        found.add(OLT_COVER)
    return found


def settling(resolved_at: datetime | None, now: datetime, settle_min: int) -> bool:
    """True during the settle period after the OLT's unreachable incident resolved."""
    return resolved_at is not None and now - resolved_at < timedelta(minutes=settle_min)


def cover_of(finding, in_force: set, is_settling: bool):
    """The cover that suppresses a finding, or None when it may fire. An unreachable OLT
    and its settle period hold back ONU and PON findings (a rebooted OLT shows every PON
    down at once); a PON incident holds back its ONUs' findings."""
    if finding.level == "olt":
        return None
    if OLT_COVER in in_force:
        return OLT_COVER
    if is_settling:
        return SETTLE_COVER
    pon = pon_cover(finding.slot, finding.port)
    if finding.level == "onu" and pon in in_force:
        return pon
    return None


def split(findings, in_force: set, is_settling: bool) -> tuple[list, dict]:
    """(findings that may fire, {cover: [suppressed findings]})."""
    kept, held = [], {}
    for finding in findings:
        cover = cover_of(finding, in_force, is_settling)
        if cover is None:
            kept.append(finding)
        else:
            held.setdefault(cover, []).append(finding)
    return kept, held

"""Alerts (issue 13): rules, incidents and notifications.

Pure decisions apart from the I/O: `rules/` (one module per rule kind: its parameters and
its condition over plain facts), `scope` (which rules apply to an OLT), `storm` (what an
open PON or OLT incident, or an OLT's settle period, suppresses), `messages` (the Spanish
text). I/O: `load` (facts from the database), `incidents` (opening, acknowledging and
resolving by compare-and-set, the outbox rows in the same transaction), `evaluate` (one
OLT after an execution, the minute sweep), `outbox` + `apprise_channel` (sending),
`trigger` (the message an execution's end sends).
"""

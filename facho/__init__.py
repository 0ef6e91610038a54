"""Facho: SNMP jobs for GPON OLTs, run exactly on their schedule."""

from facho.logging_setup import quiet_chatty_loggers as _quiet  # noqa: E402

_quiet()   # before anything imports alembic (see facho.logging_setup)

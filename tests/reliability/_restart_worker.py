"""Imported by the worker process of the restart tests
(`dramatiq actors actors.executions tests.reliability._restart_worker`): an OLT that is busy
re-sends its waiting executions after 0.2-0.5 s instead of 2-5 s, so executions queued
behind a one-slot OLT do not make the test wait. Nothing else changes."""
import facho.executions.run as module

module.BUSY_DELAY_MS = (200, 500)

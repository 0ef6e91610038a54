"""Fixtures of the reliability suite: the `reliability` recorder.

`make reliability` sets FACHO_RELIABILITY_OUT (the JSON file to write) and runs the `long`
tests too; `make test` runs the rest and prints the same figures at the end of the run.
"""
from __future__ import annotations

import os

import pytest

from tests.reliability.report import Report

_report = Report()


class Recorder:
    """`reliability.record(kind, name, **figures)` for the running test."""

    def __init__(self, test: str):
        self.test = test

    def record(self, kind: str, name: str, **figures) -> None:
        _report.add(kind, name, self.test, figures)


@pytest.fixture
def reliability(request) -> Recorder:
    return Recorder(request.node.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    result = outcome.get_result()
    if result.when == "call" or (result.when == "setup" and not result.passed):
        _report.settle(item.nodeid, "passed" if result.passed else result.outcome)
    elif result.when == "teardown" and result.failed:
        for entry in _report.entries:      # a failing teardown (a leak check) fails the entry
            if entry.test == item.nodeid:
                entry.outcome = "failed"


def pytest_terminal_summary(terminalreporter):
    if not _report.entries:
        return
    terminalreporter.section("reliability figures")
    for line in _report.lines():
        terminalreporter.write_line(line)
    out = os.environ.get("FACHO_RELIABILITY_OUT")
    if out:
        _report.write(out, long_run=os.environ.get("FACHO_RELIABILITY_LONG") == "1")
        terminalreporter.write_line(f"written: {out}")

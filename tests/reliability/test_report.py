"""The figures recorder: an entry takes its test's outcome, never a better one."""
import json

import pytest

from tests.reliability.report import Report, markdown


def test_an_entry_takes_the_outcome_of_its_test_and_the_document_counts_passes(tmp_path):
    report = Report()
    report.add("fault", "worker killed", "t::a", {"executions": 50, "lag_s": 1.234567})
    report.add("load", "clicks", "t::b", {"p99_ms": 12.5})
    report.settle("t::a", "passed")
    report.settle("t::b", "failed")
    report.settle("t::a", "failed")              # already settled: stays passed
    path = tmp_path / "out" / "reliability.json"
    report.write(path, long_run=False)
    document = json.loads(path.read_text())
    assert document["fault"] == [{"name": "worker killed", "outcome": "passed", "test": "t::a",
                                  "executions": 50, "lag_s": 1.2346}]
    assert document["load"][0]["outcome"] == "failed"
    assert document["totals"]["fault"] == {"entries": 1, "passed": 1}
    assert document["totals"]["load"] == {"entries": 1, "passed": 0}
    table = markdown(document)
    assert "| fault | worker killed | passed | executions 50, lag_s 1.2346 |" in table
    assert "fault: 1/1, load: 0/1" in table


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        Report().add("speed", "x", "t::c", {})

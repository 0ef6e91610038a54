"""An OLT's polling budget reaches every execution through its SNMP target
(`executions.targets.snmp_target`): a GetBulk-refusing OLT fails with the setting to change
and works in GETNEXT mode; executions running at once share the OLT's requests-per-second
cap. Real executions (`run_execution`), real Redis, the fast agent on 127.0.0.1."""
from __future__ import annotations

import threading

import pytest

from facho.extensions import db
from facho.models import FAILED, SUCCESS, Olt
from facho.ops.olt_sim import write_snmprec
from facho.snmp.codec import GETBULK, GETNEXT
from tests.execution_helpers import run_now
from tests.factories import make_job, make_olt, new_execution, seed_catalog
from tests.snmp_agents import fast_agent


@pytest.fixture
def c300(sqlite_app, tmp_path):
    """A ZTE OLT (256 ONUs) served by the fast agent, with a discovery and a get job."""
    write_snmprec(tmp_path / "zte.snmprec", "zte", 256, seed=2)
    return sqlite_app, tmp_path / "zte.snmprec"


def _olt_with_jobs(app, port, **budget):
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("C300", port, "zte", marca="ZTE", modelo="C300", **budget)
        discover = make_job("Descubrir ZTE", ["ZTE ONU descubrimiento", "ZTE ONU nombre"],
                            marca="ZTE", olt_ids=(olt_id,))
        get = make_job("Potencia ZTE", ["ZTE ONU potencia RX"], marca="ZTE", job_type="get",
                       olt_ids=(olt_id,))
    return olt_id, discover, get


def test_an_olt_answering_getbulk_empty_fails_naming_the_setting_then_works_in_getnext_mode(c300):
    app, recording = c300
    with fast_agent(recording, bulk="empty") as agent:
        olt_id, discover, _ = _olt_with_jobs(app, agent.port, max_repetitions=25)
        with app.app_context():
            first = new_execution(discover, olt_id)
        failed = run_now(app, first)
        assert failed.status == FAILED
        assert "«Solo GETNEXT»" in failed.error_message
        assert "respondió vacío" in failed.error_message

        with app.app_context():
            db.session.get(Olt, olt_id).getnext_only = True
            db.session.commit()
            second = new_execution(discover, olt_id)
        before = agent.stats.pdus[GETBULK]
        done = run_now(app, second)
    assert done.status == SUCCESS, done.error_message
    assert done.result_summary["found"] == 256
    assert agent.stats.pdus[GETBULK] == before   # not one GetBulk in GETNEXT mode
    assert agent.stats.pdus[GETNEXT] >= 256


CAP = 25


def test_two_executions_at_once_share_the_olt_requests_per_second(c300):
    app, recording = c300
    with fast_agent(recording) as agent:
        olt_id, discover, get = _olt_with_jobs(app, agent.port, max_repetitions=4,
                                               max_requests_per_second=CAP, max_concurrent=2)
        with app.app_context():
            ids = [new_execution(discover, olt_id), new_execution(get, olt_id)]
        rows = {}
        threads = [threading.Thread(target=lambda e=e: rows.update({e: run_now(app, e)}))
                   for e in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert [rows[e].status for e in ids] == [SUCCESS, SUCCESS], [rows[e].error_message
                                                                  for e in ids]
    assert agent.stats.requests > 2 * CAP
    assert agent.stats.peak_per_second <= CAP * 1.1, dict(agent.stats.per_second)

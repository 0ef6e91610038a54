"""Malformed SNMP answers, through the real actor on a real in-process Dramatiq worker.

Each variant is a fake agent on 127.0.0.1 that answers a discovery walk wrongly in one way.
Its execution must end FAILED with a clear Spanish message (or SUCCESS where the data it
did send is acceptable, e.g. a stale reply skipped, a column that ends early), with no
traceback text and no community in the message; then the same worker runs a healthy
discovery against a real snmpsim agent, successfully. The client-level cases in
tests/snmp/test_client.py are not repeated here: these go through the worker.
"""
from __future__ import annotations

import pytest
import redis

from facho import messaging
from facho.extensions import db
from facho.models import FAILED, SUCCESS, Execution
from facho.ops.olt_sim import write_snmprec
from facho.snmp import codec
from tests.conftest import TEST_REDIS_DB, _fresh_schema, make_test_app
from tests.execution_helpers import in_process_worker, onus, wait_final
from tests.factories import make_job, make_olt, new_execution, seed_catalog
from tests.reliability import _malformed_agents as bad
from tests.reliability._malformed_agents import Variant
from tests.snmp_agents import END_OF_MIB_VIEW_VALUE, NO_SUCH_OBJECT_VALUE, Raw

TIMEOUT_S, RETRIES = 0.3, 1        # every SNMP request: 2 attempts of 0.3 s
HEALTHY_ONUS = 32
BER = "mensaje BER mal formado"
FOREIGN = ("Sin respuesta SNMP válida", "no corresponden a las solicitudes")

VARIANTS = [
    Variant("truncated", "paquete truncado a la mitad", bad.healthy, FAILED, (BER,),
            mangle=bad.truncated),
    Variant("garbage", "bytes basura en lugar de un mensaje", bad.healthy, FAILED, (BER,),
            mangle=bad.garbage),
    Variant("empty-datagram", "datagrama UDP vacío", bad.healthy, FAILED, (BER,),
            mangle=bad.empty_datagram),
    Variant("wrong-request-id", "id de solicitud equivocado en cada respuesta", bad.healthy,
            FAILED, FOREIGN, mangle=bad.other_request_id),
    Variant("wrong-community", "otra comunidad en cada respuesta", bad.healthy, FAILED,
            FOREIGN, mangle=bad.other_community),
    Variant("stale-first", "respuesta vieja (otro id) antes de la buena", bad.healthy,
            SUCCESS, found=bad.ROWS, stale_first=True),
    Variant("get-request-pdu", "PDU GetRequest (0xa0) en lugar de Response", bad.healthy,
            FAILED, ("se esperaba un Response y llegó la PDU 0xa0",),
            mangle=bad.pdu_type(codec.GET)),
    Variant("report-pdu", "PDU Report (0xa8) en SNMPv2c", bad.healthy, FAILED,
            ("se esperaba un Response y llegó la PDU 0xa8",), mangle=bad.pdu_type(codec.REPORT)),
    Variant("no-such-name", "error-status noSuchName a la primera GetBulk",
            lambda: bad.status_policy(bad.NO_SUCH_NAME), SUCCESS,
            ("no devolvió filas", "no se cambió la presencia"), found=0),
    Variant("gen-err", "error-status genErr (transitorio: 2 intentos)",
            lambda: bad.status_policy(bad.GENERR), FAILED,
            ("respondió con error SNMP genErr en", "(falló en los 2 intentos)"),
            max_retries=1, attempts=2),
    Variant("too-big-always", "error-status tooBig incluso con 1 fila por GetBulk",
            lambda: bad.status_policy(bad.TOO_BIG), FAILED, ("respondió con error SNMP tooBig",)),
    Variant("too-big-above-5", "tooBig con más de 5 filas por GetBulk (se adapta)",
            lambda: bad.status_policy(bad.TOO_BIG, above_repetitions=5), SUCCESS, found=bad.ROWS),
    Variant("oid-outside-subtree", f"OID fuera del subárbol en la fila {bad.CUT_AT + 1}",
            lambda: bad.mib_policy(bad.huawei_mib(), bad.at_row(
                bad.CUT_AT, lambda o, v: (bad.SYS_DESCR, b"Huawei"))),
            SUCCESS, found=bad.CUT_AT),
    Variant("end-of-mib-view-mid-table", f"endOfMibView en la fila {bad.CUT_AT + 1}",
            lambda: bad.mib_policy(bad.huawei_mib(), bad.at_row(
                bad.CUT_AT, lambda o, v: (o, END_OF_MIB_VIEW_VALUE))), SUCCESS, found=bad.CUT_AT),
    Variant("no-such-object-mid-table", f"noSuchObject en la fila {bad.CUT_AT + 1}",
            lambda: bad.mib_policy(bad.huawei_mib(), bad.at_row(
                bad.CUT_AT, lambda o, v: (o, NO_SUCH_OBJECT_VALUE))), SUCCESS, found=bad.CUT_AT),
    Variant("integer-for-octet-string", "INTEGER donde se espera el serial (OCTET STRING)",
            lambda: bad.mib_policy(bad.huawei_mib(serial=lambda n: 4242 + n)), SUCCESS,
            ("rechazados, p. ej. ONU",), found=bad.ROWS, invalid_values=bad.ROWS),
    Variant("octet-string-for-integer", "OCTET STRING donde se espera la distancia (INTEGER)",
            lambda: bad.mib_policy(bad.huawei_mib(distance=lambda n: b"\x01lejos")), SUCCESS,
            ("rechazados, p. ej. ONU",), found=bad.ROWS, invalid_values=bad.ROWS,
            oids=bad.DISTANCE_OIDS),
    Variant("oid-as-value", "OBJECT IDENTIFIER e IpAddress como valores",
            lambda: bad.mib_policy(bad.huawei_mib(
                serial=lambda n: Raw(0x06, codec.encode_oid((1, 3, 6, n))),
                distance=lambda n: Raw(0x40, bytes((10, 0, 0, n))))), SUCCESS,
            ("rechazados, p. ej. ONU",), found=bad.ROWS, invalid_values=2 * bad.ROWS,
            oids=bad.DISTANCE_OIDS),
    Variant("repeated-oid", "OIDs que no avanzan (repite el pedido)", bad.repeating_policy,
            FAILED, ("bucle del agente SNMP", "se detuvo el recorrido")),
    Variant("going-back", f"OIDs que vuelven atrás tras la fila {bad.CUT_AT}",
            bad.going_back_policy, FAILED, ("bucle del agente SNMP",)),
    Variant("no-varbinds", "Response sin varbinds", bad.healthy, FAILED, ("respuesta vacía",),
            mangle=bad.no_varbinds),
    Variant("varbind-name-not-oid", "varbind cuyo nombre no es un OID", bad.healthy, FAILED,
            (BER,), mangle=bad.varbind_without_oid_tag),
    Variant("bad-oid-encoding", "OID con sub-identificador truncado", bad.healthy, FAILED,
            ("OID mal codificado",), mangle=bad.bad_oid_encoding),
    Variant("endless-rows", "tabla sin fin (100.000 filas, el límite)", bad.endless_policy,
            FAILED, ("superó el límite de 100000 filas",)),
]


@pytest.fixture(scope="module")
def bench(tmp_path_factory, snmpsim_factory, redis_server_url):
    """One app, one in-process worker and one healthy snmpsim OLT for the whole module."""
    client = redis.Redis.from_url(f"{redis_server_url}/{TEST_REDIS_DB}")
    client.flushdb()                              # our own database only
    client.close()
    tmp = tmp_path_factory.mktemp("malformed")
    data = tmp / "snmp"
    data.mkdir()
    write_snmprec(data / "sano.snmprec", "huawei", HEALTHY_ONUS, seed=3)
    sim = snmpsim_factory(data, probe_community="sano")
    app = make_test_app(f"sqlite:///{tmp / 'facho.db'}", tmp,
                        FACHO_SNMP_TIMEOUT_S=str(TIMEOUT_S), FACHO_SNMP_RETRIES=str(RETRIES))
    _fresh_schema(app)
    with app.app_context():
        seed_catalog()
        healthy_olt = make_olt("OLT-SANA", sim.port, "sano")
        healthy_job = make_job("Descubrir sana", ["Huawei ONT descubrimiento"],
                               olt_ids=(healthy_olt,))
    with in_process_worker(app, threads=2) as worker:
        yield app, worker, healthy_olt, healthy_job
    with app.app_context():
        db.engine.dispose()


def _run(app, job_id, olt_id, timeout_s=60):
    with app.app_context():
        execution_id = new_execution(job_id, olt_id)
        message_id = messaging.send_execution(execution_id, "descubrimiento")
        db.session.get(Execution, execution_id).message_id = message_id
        db.session.commit()
    return wait_final(app, [execution_id], timeout_s=timeout_s)[execution_id]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.key for v in VARIANTS])
def test_a_malformed_answer_ends_its_execution_cleanly_and_the_worker_keeps_running(
        bench, variant, reliability):
    app, worker, healthy_olt, healthy_job = bench
    with variant.agent() as agent:
        with app.app_context():
            olt_id = make_olt(f"OLT-{variant.key}"[:30], agent.port, "publica")
            job_id = make_job(f"Descubrir {variant.key}", list(variant.oids),
                              olt_ids=(olt_id,), max_retries=variant.max_retries,
                              retry_delay_seconds=0)
        row = _run(app, job_id, olt_id)
    stored = onus(app, olt_id)
    after = _run(app, healthy_job, healthy_olt)
    summary = row.result_summary or {}
    reliability.record("bad_input", variant.name, state=row.status, attempts=row.attempt,
                       requests_seen=len(agent.requests), onus_stored=len(stored),
                       invalid_values=summary.get("invalid_values"),
                       message=row.error_message, healthy_after=after.status)

    assert row.status == variant.status, row.error_message
    assert row.attempt == variant.attempts
    message = row.error_message or ""
    for fragment in variant.message:
        assert fragment in message, message
    if variant.status == FAILED:
        assert message.startswith(("Respuesta SNMP inválida de 127.0.0.1:", "La OLT 127.0.0.1:",
                                   "Sin respuesta SNMP válida de 127.0.0.1:",
                                   "El recorrido SNMP de")), message
        assert stored == {}                      # nothing half-written
    else:
        assert len(stored) == variant.found == summary["found"]
    if variant.invalid_values is not None:
        assert summary["invalid_values"] == variant.invalid_values
    assert "Traceback" not in message and "Error interno" not in message
    assert "publica" not in message
    # the same worker, right after: a healthy OLT is discovered completely
    assert after.status == SUCCESS and after.result_summary["found"] == HEALTHY_ONUS, (
        after.error_message)
    assert all(thread.is_alive() for thread in worker.workers)

"""One request/response exchange per SNMP version, with the same plain-Python result.

``CommunitySession`` (v1/v2c) encodes and decodes with ``facho.snmp.codec`` (decode once).
``V3Session`` goes through ``puresnmp.Client`` (its USM security model and engine
discovery) over our closing ``sender``, then converts each value once with the same codec,
so callers cannot tell the versions apart. puresnmp 2.0.1 ships MD5/SHA1 authentication;
privacy (DES/AES) comes from the ``puresnmp-crypto`` plugin package (pinned with its
``cryptography`` in requirements.txt).

Two corrections to puresnmp 2.0.1, both in this module: it marks only Get/GetNext requests
"reportable", so an agent answered a GetBulk (every v3 walk) with wrong credentials with
silence (a timeout that blamed the network) instead of a Report naming the problem; and
converting its noSuchObject/noSuchInstance/endOfMibView values back to bytes raised
TypeError (``_plain`` reads the decoded bytes instead).

``check_status`` maps an agent's error-status to the exceptions in ``errors``.
"""
from __future__ import annotations

import warnings
from importlib.util import find_spec
from typing import Protocol

from facho.snmp import codec
from facho.snmp.codec import GET, GETBULK, GETNEXT, RESPONSE, Response
from facho.snmp.errors import (SnmpAgentError, SnmpAuthError, SnmpBadData, SnmpConfigError,
                               SnmpError, SnmpUnknownOid)
from facho.snmp.transport import UdpChannel, make_sender

NO_SUCH_NAME, TOO_BIG = 2, 1

# puresnmp's names of the agent's USM Report counters (RFC 3414 usmStats*) -> what to check
USM_REPORTS = {
    "Wrong message digest": "la clave o el protocolo de autenticación no coinciden",
    "Unable to decrypt": "la clave o el protocolo de privacidad no coinciden",
    "Unknown user-name": "la OLT no tiene ese usuario",
    "Unsupported security level": "el usuario no admite ese nivel de seguridad "
                                  "(autenticación/privacidad)",
    "Not in time window": "el reloj SNMP del agente no coincide; reintente",
    "Unknown engine-id": "identificador de motor SNMP desconocido",
}


class Session(Protocol):
    target: str
    supports_bulk: bool

    async def request(self, pdu_type: int, oids: list[bytes],
                      max_repetitions: int = 0) -> Response: ...


def check_status(target: str, response: Response, oids: list[bytes]) -> None:
    """Raise for a non-zero error-status (callers handle tooBig / v1 noSuchName first)."""
    status, index = response.error_status, response.error_index
    if status == 0:
        return
    oid = codec.oid_text(codec.decode_oid(oids[index - 1])) if 0 < index <= len(oids) else ""
    if status == NO_SUCH_NAME:
        raise SnmpUnknownOid(target, [oid] if oid else
                             [codec.oid_text(codec.decode_oid(o)) for o in oids])
    raise SnmpAgentError(target, status, oid)


class CommunitySession:
    """SNMP v1 (``version=0``) or v2c (``version=1``) over an open ``UdpChannel``."""

    def __init__(self, channel: UdpChannel, version: int, community: str) -> None:
        self.channel = channel
        self.version = version
        self.community = community.encode("utf-8")
        self.target = channel.target
        self.supports_bulk = version == codec.VERSION_V2C  # v1 agents drop GetBulk silently

    async def request(self, pdu_type: int, oids: list[bytes],
                      max_repetitions: int = 0) -> Response:
        request_id = codec.next_request_id()
        packet = codec.encode_request(self.version, self.community, pdu_type, request_id,
                                      oids, 0, max_repetitions)

        def accept(data: bytes) -> Response | None:
            try:
                version, community, kind, response = codec.decode_message(data)
            except (ValueError, IndexError):
                raise SnmpBadData(self.target, "mensaje BER mal formado") from None
            if (response.request_id != request_id or version != self.version
                    or community != self.community):
                return None  # a late answer to an earlier request, or not ours
            if kind != RESPONSE:
                raise SnmpBadData(self.target, f"se esperaba un Response y llegó la PDU 0x{kind:02x}")
            return response

        return await self.channel.exchange(packet, accept)


class V3Session:
    """SNMPv3 through puresnmp's message processing; one closing socket per request."""

    supports_bulk = True

    def __init__(self, host: str, port: int, *, user: str, auth_proto: str = "",
                 auth_key: str = "", priv_proto: str = "", priv_key: str = "",
                 context: str = "", timeout_s: float, retries: int, target: str,
                 pacer=None) -> None:
        from puresnmp import Client
        from puresnmp.credentials import V3, Auth, Priv

        _adjust_puresnmp()
        if not user:
            raise SnmpConfigError("SNMPv3 requiere un usuario", target)
        auth_proto, priv_proto = auth_proto.lower(), priv_proto.lower()
        if auth_proto not in ("", "md5", "sha1"):
            raise SnmpConfigError(f"protocolo de autenticación SNMPv3 desconocido "
                                  f"{auth_proto!r} (use md5 o sha1)", target)
        if priv_proto not in ("", "des", "aes"):
            raise SnmpConfigError(f"protocolo de privacidad SNMPv3 desconocido "
                                  f"{priv_proto!r} (use des o aes)", target)
        if priv_proto and not auth_proto:
            raise SnmpConfigError("la privacidad SNMPv3 requiere autenticación", target)
        if priv_proto and find_spec(f"puresnmp_plugins.priv.{priv_proto}") is None:
            raise SnmpConfigError("la privacidad SNMPv3 (DES/AES) necesita el paquete "
                                  "puresnmp-crypto (requirements.txt)", target)
        auth = Auth(auth_key.encode(), auth_proto) if auth_proto else None
        priv = Priv(priv_key.encode(), priv_proto) if priv_proto else None
        self.target = target
        self.client = Client(host, V3(user, auth, priv), port=port,
                             sender=make_sender(timeout_s, retries, target, pacer),
                             context_name=context.encode())

    async def request(self, pdu_type: int, oids: list[bytes],
                      max_repetitions: int = 0) -> Response:
        from puresnmp.exc import ErrorResponse
        from puresnmp.exc import SnmpError as PuresnmpError
        from puresnmp.pdu import BulkGetRequest, GetNextRequest, GetRequest, PDUContent
        from puresnmp.varbind import VarBind
        from x690.types import Null, ObjectIdentifier

        request_id = codec.next_request_id()
        objs = [ObjectIdentifier(codec.oid_text(codec.decode_oid(o))) for o in oids]
        if pdu_type == GETBULK:
            pdu = BulkGetRequest(request_id, 0, max_repetitions, *objs)
        else:
            cls = {GET: GetRequest, GETNEXT: GetNextRequest}[pdu_type]
            pdu = cls(PDUContent(request_id, [VarBind(o, Null()) for o in objs]))
        try:
            reply = await self.client._send(pdu, request_id)
        except ErrorResponse as exc:
            index = next((i + 1 for i, o in enumerate(objs) if o == exc.offending_oid), 0)
            return Response(request_id, exc.error_status, index, [])
        except SnmpError:
            raise
        except PuresnmpError as exc:  # a Report PDU: USM refused the request
            detail = str(exc).rpartition(": ")[2] or type(exc).__name__
            if detail in USM_REPORTS:
                detail = f"{USM_REPORTS[detail]}; {detail}"
            raise SnmpAuthError(self.target, detail) from exc
        except Exception as exc:  # puresnmp signals auth/decoding failures in many ways
            raise SnmpBadData(self.target, f"SNMPv3: {type(exc).__name__}") from exc
        varbinds = [(codec.encode_oid(oid.nodes), _plain(value))
                    for oid, value in reply.value.varbinds]
        return Response(request_id, 0, 0, varbinds)


def _plain(value) -> object:
    """An x690 value -> the same plain value ``codec`` gives (decoded from its own bytes).

    Reads the received content bytes: ``bytes(value)`` fails on puresnmp's valueless
    markers (noSuchObject, noSuchInstance, endOfMibView), which end every walk that
    reaches the end of the agent's MIB."""
    from x690.types import TypeInfo

    tag = bytes(TypeInfo(value.TYPECLASS, value.NATURE[0], value.TAG))[0]
    return codec.decode_value(tag, value.raw_bytes[value.bounds])


def _adjust_puresnmp() -> None:
    """Process-wide adjustments of puresnmp 2.0.1 for SNMPv3 (idempotent).

    The reportable flag on every request that expects an answer (RFC 3412 §6.4): puresnmp
    sets it only for Get/GetNext, so an agent that refuses a GetBulk (wrong key, unknown
    user, undecryptable) stays silent as RFC 3414 requires, and the operator saw a timeout
    instead of «Wrong message digest»."""
    from puresnmp.pdu import BulkGetRequest, GetRequest, InformRequest, SetRequest
    from puresnmp_plugins.mpm import v3

    confirmed = (GetRequest, BulkGetRequest, SetRequest, InformRequest)  # GetNext: a Get
    v3.is_confirmed = lambda pdu: isinstance(pdu, confirmed)
    # puresnmp-crypto uses single-key TripleDES (that is DES) and AES-CFB from cryptography's
    # main namespace, which warns on every request that they are moving to its "decrepit"
    # one. Both versions are pinned and tests/snmp/test_v3.py runs both ciphers against a
    # real agent, so an upgrade that removes them fails there, not in a worker's log.
    warnings.filterwarnings("ignore", message=r"(TripleDES|CFB) has been moved|Single-key",
                            module=r"puresnmp_plugins\.priv\.")

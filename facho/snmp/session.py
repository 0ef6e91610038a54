"""One request/response exchange per SNMP version, with the same plain-Python result.

``CommunitySession`` (v1/v2c) encodes and decodes with ``facho.snmp.codec`` (decode once).
``V3Session`` goes through ``puresnmp.Client`` (its USM security model and engine
discovery) over our closing ``sender``, then converts each value once with the same codec,
so callers cannot tell the versions apart. puresnmp 2.0.1 ships MD5/SHA1 authentication;
privacy (DES/AES) needs the separate ``puresnmp-crypto`` plugin package.

``check_status`` maps an agent's error-status to the exceptions in ``errors``.
"""
from __future__ import annotations

from typing import Protocol

from facho.snmp import codec
from facho.snmp.codec import GET, GETBULK, GETNEXT, RESPONSE, Response
from facho.snmp.errors import (SnmpAgentError, SnmpAuthError, SnmpBadData, SnmpConfigError,
                               SnmpError, SnmpUnknownOid)
from facho.snmp.transport import UdpChannel, make_sender

NO_SUCH_NAME, TOO_BIG = 2, 1


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
                 context: str = "", timeout_s: float, retries: int, target: str) -> None:
        from puresnmp import Client
        from puresnmp.credentials import V3, Auth, Priv

        if not user:
            raise SnmpConfigError("SNMPv3 requiere un usuario", target)
        auth = Auth(auth_key.encode(), auth_proto.lower()) if auth_proto else None
        priv = Priv(priv_key.encode(), priv_proto.lower()) if priv_proto else None
        self.target = target
        self.client = Client(host, V3(user, auth, priv), port=port,
                             sender=make_sender(timeout_s, retries, target),
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
            raise SnmpAuthError(self.target, detail) from exc
        except Exception as exc:  # puresnmp signals auth/decoding failures in many ways
            raise SnmpBadData(self.target, f"SNMPv3: {type(exc).__name__}") from exc
        varbinds = [(codec.encode_oid(oid.nodes), _plain(value))
                    for oid, value in reply.value.varbinds]
        return Response(request_id, 0, 0, varbinds)


def _plain(value) -> object:
    """An x690 value -> the same plain value ``codec`` gives (decoded from its own bytes)."""
    data = bytes(value)
    tag, start, end = codec._header(data, 0)
    return codec.decode_value(tag, data[start:end])

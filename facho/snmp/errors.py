"""SNMP failures as exceptions an operator can read.

Every exception carries:

* ``message``: Spanish text for the panel and the execution's ``error_message``.
  It names the device as ``host:port`` and the OID when useful; it never contains
  the community string (the constructors never receive it).
* ``transient``: whether retrying later can help. The worker retries transient
  failures with backoff (DESIGN section 4) and fails the rest at once.

What is *not* an error: walking a subtree the device does not have returns no rows.
An OLT without ONUs on a table, or a vendor OID from another model, looks exactly like
that on the wire (the agent answers with the next OID outside the subtree), so the
caller decides whether "no rows" is a problem. A plain ``get`` of a missing object
(noSuchObject / noSuchInstance, or noSuchName in v1) does raise ``SnmpUnknownOid``.
"""
from __future__ import annotations


class SnmpError(Exception):
    """Base class. ``str(exc)`` is the Spanish operator message."""

    transient: bool = False

    def __init__(self, message: str, *, target: str = "", oid: str = "",
                 transient: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        self.oid = oid
        if transient is not None:
            self.transient = transient


def snmp_tries(attempts: int, timeout_s: float) -> str:
    """'(espera de 2 s por envío, 2 reintentos SNMP)': the SNMP layer's own retries, worded
    apart from the execution's attempts ("Intento 1 de 3 falló") that may wrap them."""
    retries = attempts - 1
    said = ("sin reintentos SNMP" if retries == 0 else
            "1 reintento SNMP" if retries == 1 else f"{retries} reintentos SNMP")
    return f"(espera de {timeout_s:g} s por envío, {said})"


class SnmpTimeout(SnmpError):
    """No answer after every attempt. In v1/v2c a wrong community looks exactly like this:
    the agent silently drops the request."""

    transient = True

    def __init__(self, target: str, attempts: int, timeout_s: float, ignored: int = 0) -> None:
        if ignored:
            # Datagrams did arrive, none for our requests: the operator must not be sent to
            # check a powered-off OLT when something at that address answers wrongly.
            text = (f"Sin respuesta SNMP válida de {target} {snmp_tries(attempts, timeout_s)}: "
                    f"llegaron {ignored} respuesta(s) que no corresponden a "
                    "las solicitudes (otro id de solicitud, otra versión SNMP u otra "
                    "comunidad); revise la versión SNMP configurada y que ningún otro equipo "
                    "o NAT responda por esa dirección.")
        else:
            text = (f"Sin respuesta SNMP de {target} {snmp_tries(attempts, timeout_s)}: "
                    "revise que la OLT esté encendida y alcanzable, la "
                    "comunidad y la ACL SNMP del equipo.")
        super().__init__(text, target=target)
        self.attempts = attempts
        self.timeout_s = timeout_s
        self.ignored = ignored


class SnmpUnreachable(SnmpError):
    """The host answered "port unreachable" (ICMP): nothing listens on the SNMP port."""

    transient = True

    def __init__(self, target: str, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"La OLT {target} rechazó la conexión SNMP{extra}: el agente SNMP no está "
            "activo en ese puerto o el puerto es incorrecto.", target=target)


class SnmpUnknownOid(SnmpError):
    """The agent does not have the object (noSuchObject / noSuchInstance / noSuchName)."""

    transient = False

    def __init__(self, target: str, oids: list[str] | tuple[str, ...]) -> None:
        shown = ", ".join(oids[:5]) + (" …" if len(oids) > 5 else "")
        super().__init__(
            f"La OLT {target} no tiene el OID {shown} (noSuchObject/noSuchInstance): "
            "revise que el OID corresponda a la marca y modelo del equipo.",
            target=target, oid=oids[0] if oids else "")
        self.oids = list(oids)


class SnmpBadData(SnmpError):
    """A reply that cannot be decoded or makes no sense for the request."""

    transient = False

    def __init__(self, target: str, detail: str, oid: str = "") -> None:
        super().__init__(f"Respuesta SNMP inválida de {target}: {detail}.",
                         target=target, oid=oid)
        self.detail = detail


class SnmpAgentLoop(SnmpBadData):
    """The agent answered a walk with an OID that does not come after the previous one:
    following it would never end."""

    def __init__(self, target: str, oid: str, previous: str) -> None:
        super().__init__(
            target, f"el agente devolvió el OID {oid}, que no sigue a {previous} "
            "(bucle del agente SNMP); se detuvo el recorrido", oid=oid)


class SnmpAgentError(SnmpError):
    """The agent answered with an error-status (genErr, noAccess, authorizationError…)."""

    # genErr is often an agent busy with something else: worth another try.
    TRANSIENT_STATUSES = frozenset({5})
    NAMES = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr",
             6: "noAccess", 16: "authorizationError"}

    def __init__(self, target: str, status: int, oid: str = "") -> None:
        name = self.NAMES.get(status, f"error {status}")
        where = f" en {oid}" if oid else ""
        super().__init__(
            f"La OLT {target} respondió con error SNMP {name}{where}.", target=target,
            oid=oid, transient=status in self.TRANSIENT_STATUSES)
        self.status = status


class SnmpWalkDeadline(SnmpError):
    """A walk took longer than its deadline. Transient: a loaded OLT may answer faster
    later; an agent that never ends is stopped by the row limit or loop detection first."""

    transient = True

    def __init__(self, target: str, oid: str, deadline_s: float, rows: int) -> None:
        super().__init__(
            f"El recorrido SNMP de {oid} en {target} superó el tiempo límite de "
            f"{deadline_s:g} s ({rows} filas leídas); se canceló.", target=target, oid=oid)
        self.deadline_s = deadline_s
        self.rows = rows


class SnmpTooManyRows(SnmpError):
    """A walk returned more rows than its limit: a wrong OID (a whole MIB branch) or an
    agent that keeps inventing rows."""

    transient = False

    def __init__(self, target: str, oid: str, max_rows: int) -> None:
        super().__init__(
            f"El recorrido SNMP de {oid} en {target} superó el límite de {max_rows} filas; "
            "se detuvo. Revise que el OID sea una columna de tabla y no una rama entera.",
            target=target, oid=oid)
        self.max_rows = max_rows


class SnmpAuthError(SnmpError):
    """SNMPv3 credentials refused (unknown user, wrong digest…): retrying cannot help."""

    transient = False

    def __init__(self, target: str, detail: str) -> None:
        super().__init__(
            f"La OLT {target} rechazó las credenciales SNMPv3 ({detail}): revise usuario, "
            "protocolos y claves.", target=target)


class SnmpConfigError(SnmpError):
    """Settings that can never work (unknown version, bad OID text, v3 without user…)."""

    transient = False

    def __init__(self, detail: str, target: str = "") -> None:
        super().__init__(f"Configuración SNMP inválida: {detail}.", target=target)


# The names of the OLT form's fields, so the message says exactly what to change.
SETTING_GETNEXT = "«Solo GETNEXT»"
SETTING_REPETITIONS = "«Repeticiones por GetBulk»"


class SnmpBulkUnreliable(SnmpError):
    """GetBulk answered wrongly where GETNEXT answers right: an empty answer, silence, or a
    table that ends early (GETNEXT still finds rows after the last one GetBulk gave). Seen
    on ZTE C300s. Not transient: the same request fails the same way; the OLT's budget
    must change (``problem`` is what GetBulk did, in Spanish)."""

    def __init__(self, target: str, oid: str, problem: str, repetitions: int) -> None:
        smaller = max(1, repetitions // 2)
        super().__init__(
            f"La OLT {target} {problem} al recorrer {oid} con GetBulk ({repetitions} "
            f"repeticiones), y GETNEXT sí encuentra filas: active {SETTING_GETNEXT} en la "
            f"OLT, o baje {SETTING_REPETITIONS} (pruebe {smaller}).",
            target=target, oid=oid, transient=False)
        self.problem = problem
        self.repetitions = repetitions

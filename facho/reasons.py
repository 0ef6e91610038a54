"""Every Spanish reason an execution can carry (`error_message` of an INTERRUPTED, SKIPPED
or retried row), written once. The panel filters and the tests match these texts, so a
wording changes here and nowhere else."""
from __future__ import annotations

# Disabled or removed while planned (edits, the worker's re-check, the reconciler).
REASON_GONE = "Interrumpida: la tarea o la OLT ya no existen"
REASON_JOB = "Interrumpida: la tarea fue deshabilitada"
REASON_OLT = "Interrumpida: la OLT fue deshabilitada"
REASON_JOB_HOST = "Interrumpida: la tarea está deshabilitada para esta OLT"
REASON_REMOVED = "Interrumpida: la OLT fue quitada de la tarea"
REASON_REPLANNED = "Interrumpida: la programación de la tarea cambió"

# Slots that do not run (the overlap rule, lateness, lost messages).
REASON_OVERLAP = "Omitida: la ejecución #{blocker} de esta tarea en esta OLT sigue en curso"
REASON_OVERLAP_MANUAL = ("Omitida: la ejecución manual #{blocker} de esta tarea en esta OLT "
                         "sigue en curso")
REASON_LATE = ("Omitida: no se despachó a tiempo (más de {window} s de retraso; "
               "el programador estuvo detenido)")
REASON_LOST_LATE = ("Omitida: su mensaje se perdió (Redis se reinició o se vació) y ya pasó "
                    "la ventana de recuperación de {window} s")

# Workers that died, stopped, or lost the database.
REASON_RESUMED = ("Reanudada: el worker {worker} dejó de responder; nuevo intento "
                  "({attempt} de {allowed})")
REASON_DEAD = ("Interrumpida: el worker {worker} dejó de responder y no quedan reintentos "
               "({attempt} de {allowed} intentos)")
REASON_SHUTDOWN = "El trabajador se detuvo durante la ejecución; se reanudará."
REASON_TIME_LIMIT = ("La ejecución superó el tiempo límite del trabajador ({minutes} min) "
                     "y se canceló.")
REASON_DB_LOST = "Error de base de datos al registrar el resultado ({what}); se reanudará."
REASON_DB_LOST_LAST = ("Interrumpida: error de base de datos al registrar el resultado "
                       "({what}) y no quedan reintentos ({attempt} de {allowed} intentos)")
REASON_DB_WRITE = "Error de base de datos al guardar el inventario ({what})."
REASON_BUG = ("Error interno del trabajador ({kind}: {detail}). Avise al administrador.")

# Retries of the same execution.
REASON_RETRY = "Intento {attempt} de {allowed} falló: {message} Se reintentará en {delay_s} s."
REASON_ALL_ATTEMPTS = "{message} (falló en los {attempt} intentos)"


def overlap_reason(blocker_id: int, manual: bool) -> str:
    return (REASON_OVERLAP_MANUAL if manual else REASON_OVERLAP).format(blocker=blocker_id)


def disabled_reason(job, olt, job_host) -> str | None:
    """Why work of `job` on `olt` must not run now, or None when everything is enabled.
    Rows are passed in (None when missing): the callers load them as they need."""
    if job is None or olt is None:
        return REASON_GONE
    if not job.enabled:
        return REASON_JOB
    if not olt.habilitar_olt:
        return REASON_OLT
    if job_host is None or not job_host.enabled:
        return REASON_JOB_HOST
    return None

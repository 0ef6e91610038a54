"""The life of one execution: its states and transitions, who owns a RUNNING row, retries,
the outcome, recovery when something other than the OLT ends it, the per-OLT limiter, and
running jobs now ("Ejecutar")."""

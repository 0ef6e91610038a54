"""The REST API (`/api/v1/`), its tokens, its call log, CSV export and Prometheus metrics.

Domain helpers live here (tokens, rate limit, problem details, serialisation, queries,
CSV, metrics); `facho.api.v1` is the blueprint, registered by the app factory only.
"""

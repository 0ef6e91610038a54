"""Dramatiq middlewares of Facho, one file each (as Dramatiq keeps its own)."""

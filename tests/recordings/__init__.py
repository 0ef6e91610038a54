"""Synthetic OLT recordings with each vendor's real row-index scheme (see generate.py)."""

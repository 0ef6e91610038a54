"""Vendor profiles: a brand's index formulas and OIDs with their value rules as one file
(``docs/vendor-profiles.md``).

``format.parse`` reads a file into a ``Profile`` (Spanish problems, never raised per entry),
``plan.plan_import`` compares it with the catalog (create / change / unchanged / conflicts),
``apply.apply_profile`` writes it in one audited transaction, ``export`` writes a brand's
profile, and ``shipped`` lists the profiles Facho ships (loaded by ``flask facho seed``).
"""

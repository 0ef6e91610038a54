import pytest


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test's database reuses ids and URLs: no median or "any rule?" answer may come
    from another test."""
    from facho.monitoring import load, trigger
    load.forget_medians()
    trigger.forget_rules_seen()
    yield
    load.forget_medians()
    trigger.forget_rules_seen()

import pytest


@pytest.fixture(autouse=True)
def fresh_median_cache():
    """Each test's database reuses ONU ids: no median may come from another test."""
    from facho.monitoring import load
    load.forget_medians()
    yield
    load.forget_medians()

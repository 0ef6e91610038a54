"""The per-token rate limit (facho.api.ratelimit): the verdict, pure, and the Redis counter."""
from __future__ import annotations

import pytest

from facho.api import ratelimit


@pytest.mark.parametrize("used, now_s, allowed, retry", [
    (1, 120.0, True, 60), (10, 130.2, True, 50), (11, 130.2, False, 50), (11, 179.9, False, 1),
])
def test_the_verdict_allows_up_to_the_limit_and_says_when_the_window_ends(used, now_s, allowed,
                                                                          retry):
    verdict = ratelimit.decide(used, 10, now_s)
    assert (verdict.allowed, verdict.retry_after_s) == (allowed, retry)


def test_calls_are_counted_per_token_in_redis_with_an_expiry(redis_client):
    for token_id in (7, 17, 27):     # a fresh token again if a window edge fell in between
        verdicts = [ratelimit.check(redis_client, token_id, 2) for _ in range(3)]
        if [v.used for v in verdicts] == [1, 2, 3]:
            break
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert ratelimit.check(redis_client, 8, 2).used == 1
    keys = redis_client.keys(f"facho:api:rate:{token_id}:*")
    assert keys and all(0 < redis_client.ttl(k) <= ratelimit.WINDOW_S + 5 for k in keys)


def test_a_limit_of_zero_never_refuses_nor_counts(redis_client):
    assert all(ratelimit.check(redis_client, 9, 0).allowed for _ in range(5))
    assert redis_client.keys("facho:api:rate:9:*") == []

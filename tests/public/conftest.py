"""Fixtures of the public pages' tests."""
import uuid

import pytest

from ..conftest import REDIS_URL, need


@pytest.fixture
def redis_cache_settings():
    """Settings for an app whose public cache is the test Redis (db 15), under a key prefix of this test's own."""
    need(REDIS_URL, "TEST_REDIS_URL")
    import redis

    prefix = f"test-public-{uuid.uuid4().hex[:12]}:"
    yield {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()

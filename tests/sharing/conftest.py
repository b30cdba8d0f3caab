from tests.redisbus.server import redis_server  # noqa: F401

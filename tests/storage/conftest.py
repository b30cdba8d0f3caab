from tests.sqlstore.pg import postgres_server, postgres_url  # noqa: F401

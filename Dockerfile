# TradingSystem engine / dashboard image (Linux side of a split deployment).
# Build: docker build -t tradingsystem .     Run: see docker-compose.yml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 trader
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY config ./config
RUN pip install --no-cache-dir '.[pg]' redis structlog
USER trader
VOLUME ["/data"]
ENTRYPOINT ["tradingsystem"]
CMD ["run", "--feed", "redis", "--config", "/app/config/split-engine.yaml", "--no-status", "--data-dir", "/data"]

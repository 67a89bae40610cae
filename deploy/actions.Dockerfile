# The Rasa action server (`rasa run actions`, rasa-sdk), Python 3.10, requirements/rasa.lock: the same
# install as the Rasa image, so both share that layer. It calls bot/ by BOT_API_URL.
# Built from the repository root: docker build -f deploy/actions.Dockerfile .
FROM python:3.10.16-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    SANIC_HOST=0.0.0.0

WORKDIR /app
COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install --no-cache-dir -r requirements/rasa.lock

COPY actions/ actions/
COPY masking/ masking/

RUN useradd --system --uid 10001 --create-home --home-dir /home/actions --shell /usr/sbin/nologin actions
USER 10001
EXPOSE 5055
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
CMD ["rasa", "run", "actions", "--actions", "actions", "--port", "5055"]

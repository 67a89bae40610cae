# A Rasa instance: `python -m rasa_runtime run` (Rasa 3.6 with the project's speed-ups, request guard
# and token-guarded REST channel), Python 3.10, requirements/rasa.lock.
# Built from the repository root: docker build -f deploy/rasa.Dockerfile .
# The trained model is not in the image: it comes in the `models` volume (docs/deploy.md).
FROM python:3.10.16-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TF_INTRA_OP_PARALLELISM_THREADS=1 \
    TF_INTER_OP_PARALLELISM_THREADS=1

WORKDIR /app
COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install --no-cache-dir -r requirements/rasa.lock

COPY rasa_runtime/ rasa_runtime/
COPY data/dictionary/jieba/ data/dictionary/jieba/
COPY credentials.yml credentials.yml
COPY deploy/endpoints.yml deploy/endpoints.yml

# Rasa writes its settings under $HOME and unpacks the model to a temporary directory.
RUN useradd --system --uid 10001 --create-home --home-dir /home/rasa --shell /usr/sbin/nologin rasa
USER 10001
EXPOSE 5005
# /status wants the API token and answers 200 once the model is loaded.
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/status?token=' + os.environ['RASA_TOKEN'], timeout=4)"]
# --auth-token is added by rasa_runtime from RASA_TOKEN, so the secret is not in the command line.
CMD ["python", "-m", "rasa_runtime", "run", "--enable-api", "-i", "0.0.0.0", "--port", "5005", \
     "--model", "/app/models", "--endpoints", "deploy/endpoints.yml", "--credentials", "credentials.yml"]

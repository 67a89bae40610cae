# bot/: the public FastAPI edge and the knowledge search (Python 3.11, requirements/service.lock).
# Built from the repository root: docker build -f deploy/bot.Dockerfile .
# The knowledge index is not in the image: it comes in the `index` volume (docs/deploy.md), built by
# `make train` from the same commit, because bot/ refuses an index whose data differs from its own.
FROM python:3.11.11-slim-bookworm

# The CPU wheels of torch: the default index would resolve the lock's torch to a CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    INDEX_DIR=/app/var/index \
    BOT_HOST=0.0.0.0 \
    BOT_PORT=8000

WORKDIR /app
COPY requirements/service.lock requirements/service.lock
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" torch==2.13.0 \
    && pip install --no-cache-dir -r requirements/service.lock

# What bot/ reads at run time: its code, the retrieval library, the masking rules, the FAQ and
# dictionaries (their hash must match the index's), and scripts/ for the retention job (make purge).
COPY bot/ bot/
COPY knowledge/ knowledge/
COPY masking/ masking/
COPY data/ data/
COPY scripts/ scripts/

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin jzs \
    && mkdir -p /app/var/index && chown -R jzs /app/var
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["python", "-m", "bot"]

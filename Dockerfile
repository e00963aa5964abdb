# syntax=docker/dockerfile:1
# The outpost origin: Starlette on uvicorn (OUTPOST_SERVER chooses another), as a small non-root image.
#
#   docker build -t outpost-origin .
#   docker run --rm --env-file .env outpost-origin db upgrade      # migrations: a one-off, never on start
#   docker run -d -p 8000:8000 --env-file .env outpost-origin      # serve (OUTPOST_WORKERS, ...)
#
# The base is pinned to an exact patch release. For byte-for-byte reproducible builds pin its
# digest as well (docs/deploy.md, "Pinning the base image"):
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm   # prints sha256:...
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest> .
# Only `python3` is used (never a /usr/local path), so any Debian-based image whose python3 is
# 3.11 works as the base, e.g. the Debian stand-in that .ci/container builds where no registry
# answers.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
SHELL ["/bin/sh", "-eu", "-c"]
# pip-install: pip with the build's optional CA bundle (secret `pip_cert`: for networks that re-sign
# HTTPS). A secret mount is never written into a layer.
RUN python3 -m venv /opt/venv \
 && printf '%s\n' '#!/bin/sh' \
      'if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi' \
      'exec /opt/venv/bin/python -m pip install "$@"' > /usr/local/bin/pip-install \
 && chmod +x /usr/local/bin/pip-install

# Dependencies first, pinned by requirements.txt, in a layer that survives source edits. The
# project's own metadata is enough to resolve them (no source is needed yet).
COPY pyproject.toml requirements.txt README.md ./
RUN --mount=type=secret,id=pip_cert,required=false \
    --mount=type=cache,target=/root/.cache/pip \
    python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > runtime-requirements.txt \
 && pip-install -c requirements.txt -r runtime-requirements.txt

# Then the project itself, as a regular (non-editable) install into the venv: the origin, what it
# stands on and the command's entry point only. The edge, the load test and the template tooling
# do not run here, so the image does not hold them (and `outpost` offers none of their verbs).
COPY shared ./shared
COPY origin ./origin
COPY commands ./commands
RUN --mount=type=secret,id=pip_cert,required=false \
    --mount=type=cache,target=/root/.cache/pip \
    pip-install --no-deps . \
 && /opt/venv/bin/python -m pip uninstall --quiet --yes pip setuptools \
 && /opt/venv/bin/outpost --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="outpost origin" \
      org.opencontainers.image.description="The outpost origin API (Starlette on uvicorn)" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OUTPOST_HOST=0.0.0.0 \
    OUTPOST_PORT=8000 \
    OUTPOST_WORKERS=1 \
    OUTPOST_GRACEFUL_TIMEOUT=25 \
    OUTPOST_DATA_DIR=/var/lib/outpost
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/outpost --create-home \
      --shell /usr/sbin/nologin outpost
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
WORKDIR /var/lib/outpost
EXPOSE 8000
# The server finishes in-flight requests on SIGTERM (up to OUTPOST_GRACEFUL_TIMEOUT seconds): give
# the container a stop timeout longer than that (docker stop -t 30; compose stop_grace_period).
STOPSIGNAL SIGTERM
# Python, not curl: the slim base has no HTTP client, and urlopen fails on any non-2xx answer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OUTPOST_PORT', '8000'), timeout=2)"]
ENTRYPOINT ["outpost"]
CMD ["origin", "--host", "0.0.0.0"]

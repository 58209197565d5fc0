# oncall-bot: `docker build -t oncall-bot .`, then run it with compose.yaml (bot + Redis) or
# `docker run --env-file .env -p 3000:3000 oncall-bot`. See README: Deploy.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

WORKDIR /app

# The package first (pyproject.toml names README.md as its readme), so editing the
# schedules or runbooks does not reinstall the dependencies.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && rm -rf build *.egg-info

# Defaults for ONCALL_CONFIG_DIR / ONCALL_RUNBOOKS_DIR (relative to /app); compose.yaml
# mounts the host's copies over them so an edit needs a restart, not a rebuild.
COPY schedules ./schedules
COPY runbooks ./runbooks

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app oncall
USER oncall

EXPOSE 3000

# slim has no curl: python's urllib. /healthz answers 503 when Redis does not answer, which
# urlopen raises as an HTTPError, so the check fails then too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)" || exit 1

CMD ["oncall-bot", "serve"]

# One image for Pigeon's four services. The container's command chooses the service:
#   python -m services.api | services.scheduler | services.redirector | services.callbacks
# and the one-shot jobs: python -m libs.common.migrate | libs.common.topics
# docker-compose.yml wires them together.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/pigeon
WORKDIR /src
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
RUN /opt/pigeon/bin/pip install .


FROM python:3.11-slim

ENV PATH=/opt/pigeon/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN groupadd --system --gid 10001 pigeon \
    && useradd --system --uid 10001 --gid pigeon --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin pigeon

COPY --from=build /opt/pigeon /opt/pigeon

WORKDIR /tmp
USER pigeon:pigeon

# api 8080, redirector 8081 (http) and 8443 (https), health and metrics 9100
EXPOSE 8080 8081 8443 9100
STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.api"]

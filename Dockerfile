# ecb-files API image. Build from the repository root:  docker build -t ecb-files .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml requirements.lock README.md LICENSE ./
COPY src ./src
RUN python -m venv /opt/ecb-files \
 && /opt/ecb-files/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/ecb-files/bin/pip install --no-cache-dir -c requirements.lock .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/ecb-files ecb \
 && mkdir -p /var/lib/ecb-files && chown ecb /var/lib/ecb-files
COPY --from=build /opt/ecb-files /opt/ecb-files
ENV PATH=/opt/ecb-files/bin:$PATH \
    ECB_FILES_DATA_DIR=/var/lib/ecb-files \
    PYTHONUNBUFFERED=1
USER ecb
EXPOSE 8080
# --workers 2 per container; scale out with more containers behind the load balancer.
CMD ["ecb-files", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"

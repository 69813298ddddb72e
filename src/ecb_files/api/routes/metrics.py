"""``GET /metrics``: the Prometheus text format of every process of this server (§12.3).

Not behind a token: Prometheus scrapes without one, and nothing here names a partner,
a tenant or a file. It is served on the API's own port, so a deployment that exposes
that port beyond its network restricts ``/metrics`` at the proxy
(docs/deployment.md). ``ECB_FILES_METRICS=off`` leaves the route out: 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ecb_files.api.dependencies import ServicesDep
from ecb_files.api.threads import in_thread
from ecb_files.services.metrics import EXPOSITION_CONTENT_TYPE

router = APIRouter()


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics of every worker process",
    response_class=Response,
    responses={200: {"content": {EXPOSITION_CONTENT_TYPE: {}}}},
)
async def metrics(services: ServicesDep) -> Response:
    # Reading every worker's files is file I/O: off the event loop.
    text = await in_thread(services.metrics.exposition)
    return Response(text, media_type=EXPOSITION_CONTENT_TYPE)

"""The factory uvicorn imports in every worker process: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from ecb_files.api.app import create_app
from ecb_files.config import Settings


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())

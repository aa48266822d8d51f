"""Dependencies the routers share."""

from concurrent.futures import Executor
from typing import Annotated

from fastapi import Depends, Request

from sampling.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_draw_workers(request: Request) -> Executor:
    """The app's draw workers (sampling.selection.workers)."""
    return request.app.state.draw_workers


SettingsDep = Annotated[Settings, Depends(get_settings)]
DrawWorkersDep = Annotated[Executor, Depends(get_draw_workers)]

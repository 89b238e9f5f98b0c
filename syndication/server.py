"""Run the app on an ASGI server: granian by default (bench/run.py compares it with uvicorn +
uvloop + httptools on our partner paths; the figures are in docs/performance.md)."""

from __future__ import annotations

APP_FACTORY = "syndication.app:app_from_env"
WORKERS_KILL_TIMEOUT_S = 30


def serve(host: str, port: int, workers: int, server_name: str = "granian") -> None:
    if server_name == "uvicorn":
        import uvicorn

        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers)
        return
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        APP_FACTORY,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
        log_access=False,
        # A worker that dies (a crash, SIGBUS on a mapped SQLite page, the OOM killer) is
        # started again: granian's default ends the whole server with its first dead worker.
        respawn_failed_workers=True,
        # At shutdown each worker writes its held usage counts; one stuck longer is killed.
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_S,
    ).serve()

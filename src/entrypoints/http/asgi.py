"""The ASGI entry for servers: ``granian --interface asgi --factory entrypoints.http.asgi:app``."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from litestar import Litestar

from entrypoints.http.app import create_app

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def stop_with_the_server() -> None:
    """Ask Linux to send this worker SIGTERM when the process that started it dies.

    A worker outliving its server (``kill -9``, the OOM killer, a supervisor that gave
    up waiting) keeps its pool's connections and runs projections and webhooks with no
    one to stop it; granian only stops the workers of a server that stops cleanly.
    """
    if not sys.platform.startswith("linux"):
        return
    server = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return  # not allowed here (a sandbox): nothing worse than before
    if server == 1 or os.getppid() != server:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def app() -> Litestar:
    stop_with_the_server()
    return create_app()

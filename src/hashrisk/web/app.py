"""The FastAPI application: JSON API over the library, and the live dashboard.

Routes (OpenAPI spec at ``/openapi.json``), one router per area under :mod:`hashrisk.web.routes`::

    GET  /api/snapshot           the network snapshot (embedded, or ?date= from the store)      routes.snapshot
    GET  /api/cost               production cost per BTC (hashrisk cost)                       routes.cost
    GET  /api/cost-curve         the cost curve and the share of hashrate underwater at ?price_usd=
    GET  /api/breakeven          one machine (hashrisk breakeven)
    GET  /api/next-adjustment    the next difficulty adjustment                               routes.snapshot
    POST /api/simulate           one price shock through the simulator (capped size, time limit) routes.sim
    POST /api/stress             the -10/-20/-30% shocks: who is forced to sell (capped, timed)  routes.sim
    GET  /api/flows              institutional flows: pension rebalancing, treasury buying vs miners' selling
    GET  /api/history            the tracking history over ?since=&until= (thinned: ?max_points=)   routes.history
    GET  /api/history/coverage   which days are stored
    GET  /api/changes            what changed between ?since= and ?until=, each event with its rule
    GET  /api/miners             listed miners' disclosed figures, quarterly sales with coverage   routes.listed
    GET  /api/hpc/progress       AI/HPC contracts: MW contracted against delivered, backlog
    GET  /api/onchain            pools and coinbase flows from the user's node (?since=&pool=)     routes.onchain
    GET  /                       the dashboard; /static/... its files and plotly.js (from the plotly package)

Safety: the CLI binds to 127.0.0.1 by default; a ``Host`` header other than the loopback names, the bound
address and ``--allowed-host`` names gets a 400 (DNS rebinding); request bodies are capped (:data:`MAX_BODY_BYTES`); the
simulation size is capped (paths, horizon, paths x days) and it runs in a worker thread with a time limit
and at most :data:`~hashrisk.web.services.MAX_CONCURRENT_SIMS` at once; no request names a file; every error
is JSON (:class:`~hashrisk.web.models.ErrorOut`) naming the field, the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from hashrisk import __version__
from hashrisk.web.errors import (
    LOCAL_HOSTS,
    MAX_BODY_BYTES,
    AllowedHosts,
    BodySizeLimit,
    register_error_handlers,
)
from hashrisk.web.routes import cost, flows, history, listed, onchain, sim, snapshot, static
from hashrisk.web.services import MAX_CONCURRENT_SIMS, MAX_PATH_DAYS, SIM_TIMEOUT_S, WebServices

__all__ = [
    "LOCAL_HOSTS",
    "MAX_BODY_BYTES",
    "MAX_CONCURRENT_SIMS",
    "MAX_PATH_DAYS",
    "SIM_TIMEOUT_S",
    "create_app",
]


def create_app(
    home: str | Path | None = None,
    *,
    sim_timeout_s: float = SIM_TIMEOUT_S,
    max_path_days: int = MAX_PATH_DAYS,
    max_body_bytes: int = MAX_BODY_BYTES,
    allowed_hosts: Sequence[str] = (),
) -> FastAPI:
    """The API + dashboard application.

    Parameters
    ----------
    home : path, optional
        Data folder for ``?date=`` lookups (default ``$HASHRISK_HOME`` or the user data dir). Read only.
    sim_timeout_s : float
        Time limit of one simulation [s]; past it the request gets a 504 (the worker finishes in the
        background, bounded by the size caps).
    max_path_days : int
        Cap on ``paths x horizon_days`` of one simulation.
    max_body_bytes : int
        Cap on the request body [bytes].
    allowed_hosts : sequence of str
        Names accepted in the ``Host`` header besides :data:`~hashrisk.web.errors.LOCAL_HOSTS` (the address
        the server is bound to, a name it is published under); any other gets a 400 JSON error (DNS
        rebinding). ``"*"`` allows every name.
    """
    app = FastAPI(
        title="hashrisk API",
        version=__version__,
        description="Bitcoin mining economics: production cost, cost curve, breakevens, next difficulty "
        "adjustment, price-shock simulation. Every error is JSON naming the field, the value and what is "
        "allowed.",
        docs_url=None,  # Swagger UI and ReDoc load their assets from a CDN: the spec is at /openapi.json
        redoc_url=None,
    )
    app.state.services = WebServices(home, sim_timeout_s=sim_timeout_s, max_path_days=max_path_days)
    register_error_handlers(app)
    for router in (
        snapshot.snapshot_router,
        cost.router,
        snapshot.chain_router,
        sim.router,
        flows.router,
        history.router,
        listed.router,
        onchain.router,
    ):
        app.include_router(router)
    app.include_router(static.router)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(AllowedHosts, allowed_hosts=list(allowed_hosts))
    return app

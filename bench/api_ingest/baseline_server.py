"""The baseline for ``bench.api_ingest``: a bare aiohttp handler, one INSERT each.

``python -m bench.api_ingest.baseline_server PORT DATABASE_URL`` serves
``POST /messages`` by inserting the form into a table and answering 201.
"""

from __future__ import annotations

import sys
import uuid

import asyncpg
import uvloop
from aiohttp import web

POOL = web.AppKey("pool", asyncpg.Pool)


async def create(request: web.Request) -> web.Response:
    form = await request.post()
    sid = "SM" + uuid.uuid4().hex
    await request.app[POOL].execute(
        "INSERT INTO bench_messages (sid, to_address, body) VALUES ($1, $2, $3)",
        sid,
        form.get("To"),
        form.get("Body"),
    )
    return web.json_response({"sid": sid, "status": "queued"}, status=201)


async def make_app(database_url: str) -> web.Application:
    pool = await asyncpg.create_pool(database_url, min_size=4, max_size=20)
    assert pool is not None
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_messages"
        " (sid text PRIMARY KEY, to_address text, body text,"
        " date_created timestamptz NOT NULL DEFAULT now())"
    )
    app = web.Application()
    app[POOL] = pool
    app.router.add_post("/messages", create)
    return app


def main() -> None:
    port, database_url = int(sys.argv[1]), sys.argv[2]
    web.run_app(
        make_app(database_url),
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()

"""POST bodies at a fixed rate (open loop) and measure each request's latency from the moment
it was due, not from when it was sent.

wrk keeps N requests in flight and sends the next one as soon as an answer comes back: it
measures a server at saturation, where the latency is only the queue those N requests make
(N / throughput), whatever the server does. A latency target means something at a given
load: here the load is fixed, requests are due every 1/rate seconds whether or not the
server kept up, and a late server shows up in the figures (wrk2's "coordinated omission"
correction, done by measuring from the due time).

Plain HTTP/1.1 keep-alive on asyncio streams; a connection per request in flight, up to
``max_connections``. It takes ~14 % of a core at 400 requests/s (wrk: ~5 %), taken from the
server on a 2-core machine: its figures err on the slow side."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from dataclasses import dataclass, field


@dataclass
class PacedResult:
    latencies: list[float] = field(default_factory=list)  # seconds, from due time to answer
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0  # from the first due time to the last answer
    connections: int = 0  # most connections open at once

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, request: bytes) -> int:
        """Send one request; its status, once the whole answer is read (by its Content-Length:
        this client reads no chunked answers)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
        if "content-length" not in fields:
            raise ValueError(f"an answer without Content-Length: {status_line}")
        await self.reader.readexactly(int(fields["content-length"]))
        return int(status_line.split(" ", 2)[1])


async def post_paced(
    host: str,
    port: int,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    rate: float,
    max_connections: int = 256,
    warm: int = 16,
) -> PacedResult:
    """POST ``bodies[i]`` at ``start + i / rate``; every answer must be 200."""
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
    result = PacedResult()
    idle: list[_Connection] = []
    opened: list[_Connection] = []
    slots = asyncio.Semaphore(max_connections)

    async def one(body: bytes, due: float) -> None:
        async with slots:
            connection = None
            while idle and connection is None:
                connection = idle.pop()
                if connection.reader.at_eof():  # closed by the server when it idled
                    opened.remove(connection)
                    connection.writer.close()
                    connection = None
            if connection is None:
                connection = _Connection(*await asyncio.open_connection(host, port))
                opened.append(connection)
                result.connections = max(result.connections, len(opened))
            request = (
                f"POST {path} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            try:
                status = await connection.post(request)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.errors.append(f"{type(exc).__name__}: {exc}")
                opened.remove(connection)
                connection.writer.close()
                return
            result.latencies.append(time.perf_counter() - due)
            if status != 200:
                result.errors.append(f"HTTP {status}")
            idle.append(connection)

    for _ in range(min(warm, max_connections)):  # so that connecting is not timed
        connection = _Connection(*await asyncio.open_connection(host, port))
        opened.append(connection)
        idle.append(connection)
    result.connections = len(opened)
    start = time.perf_counter() + 0.05
    tasks = []
    for i, body in enumerate(bodies):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(body, due)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - start
    for connection in opened:
        connection.writer.close()
        with contextlib.suppress(OSError):
            await connection.writer.wait_closed()
    return result


def run(url: str, bodies: list[bytes], headers: dict[str, str], rate: float) -> PacedResult:
    """`post_paced` on a fresh event loop (uvloop when installed: it is uvicorn's)."""
    rest = url.removeprefix("http://")
    address, _, path = rest.partition("/")
    host, _, port = address.partition(":")
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    # a collection of this process's heap would stall the client, and be timed as the server's
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return runner(post_paced(host, int(port), "/" + path, bodies, headers, rate))
    finally:
        gc.enable()
        gc.unfreeze()

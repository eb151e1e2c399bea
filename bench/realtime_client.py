"""Load client for bench/realtime.py: one process holding many Socket.IO connections.

    .venv/bin/python bench/realtime_client.py URL TOKENS_JSON FIRST COUNT [--library]

Started by bench/realtime.py, never by hand. Connects COUNT Socket.IO clients
(WebSocket transport, auth={"token": ...}) for the people FIRST..FIRST+COUNT-1
of TOKENS_JSON, then answers one-line commands on stdin with one JSON line on
stdout:

    count KIND     -> {"event": "count", "kind": KIND, "n": deliveries so far, "connected": n}
    collect KIND   -> {"event": "collected", "kind": KIND, "deliveries": [[seq, ms], ...]}
    quit           -> disconnects everyone, {"event": "bye"}, exits

Each `message` whose body reads "bench KIND SEQ SENT_AT" is one delivery; its
latency is this process's time.time() on arrival minus SENT_AT (same machine,
same clock). Each `notice` event is recorded under the kind "notice" as
[notice id, arrival time in epoch ms].

Two clients. By default a lean one: the Socket.IO 5 / Engine.IO 4 protocol
spoken directly over an aiohttp WebSocket (open, CONNECT with auth, EVENT,
ping/pong, DISCONNECT). With --library, python-socketio's AsyncClient, which
costs more CPU per delivery; on a 2-core machine that the load clients share
with the server, every microsecond they spend is taken from the hub
(docs/PERFORMANCE.md has both). Both are real clients on real sockets; the
server cannot tell them apart. Imports no hub code.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp

CONNECT_TIMEOUT = 20.0          # seconds for one client's handshake
CONNECT_BUDGET = 180.0          # for all of this process's clients
CONNECT_CONCURRENCY = 25        # handshakes in flight per process
DISCONNECT_TIMEOUT = 20.0


def say(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Deliveries:
    """Latencies per message kind, recorded as the events arrive."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[tuple[int, float]]] = {}

    def on_message(self, data, now: float | None = None) -> None:
        now = now or time.time()
        body = data.get("body") if isinstance(data, dict) else None
        if not isinstance(body, str) or not body.startswith("bench "):
            return
        _, kind, seq, sent_at = body.split(" ", 3)
        self.by_kind.setdefault(kind, []).append((int(seq), round((now - float(sent_at)) * 1000, 3)))

    def on_notice(self, data, now: float | None = None) -> None:
        """A `notice` event: its id and the arrival time (epoch ms); the sender
        knows when it published, so bench/peer.py works out the latency."""
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            self.by_kind.setdefault("notice", []).append((data["id"], round((now or time.time()) * 1000, 3)))


class LeanClient:
    """One Socket.IO connection on the default namespace, spoken by hand."""

    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task | None = None
        self.connected = False

    async def connect(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await session.ws_connect(ws_url, autoping=True, max_msg_size=0)
        opening = await self.ws.receive_str()                     # 0{"sid":..., "pingInterval":...}
        if not opening.startswith("0"):
            raise ConnectionError(f"unexpected open packet {opening[:80]!r}")
        await self.ws.send_str("40" + json.dumps({"token": token}))
        while True:
            answer = await self.ws.receive_str()
            if answer == "2":
                await self.ws.send_str("3")
            elif answer.startswith("40"):
                break
            else:                                                  # 44{"message": ...}: refused
                raise ConnectionRefusedError(answer[:200])
        self.connected = True
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                text = frame.data
                if text == "2":                                   # Engine.IO ping
                    await self.ws.send_str("3")
                elif text.startswith('42["message",'):
                    now = time.time()
                    self.deliveries.on_message(json.loads(text[2:])[1], now)
                elif text.startswith('42["notice",'):
                    self.deliveries.on_notice(json.loads(text[2:])[1], time.time())
                elif text.startswith("41") or text == "1":        # disconnected by the server
                    break
        finally:
            self.connected = False

    async def disconnect(self) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_str("41")
            finally:
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


class LibraryClient:
    """python-socketio's AsyncClient, as an application would use it."""

    def __init__(self, deliveries: Deliveries, session: aiohttp.ClientSession) -> None:
        import socketio
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False,
                                           http_session=session)
        self.client.on("message", deliveries.on_message)
        self.client.on("notice", deliveries.on_notice)

    @property
    def connected(self) -> bool:
        return self.client.connected

    async def connect(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        await self.client.connect(url, auth={"token": token}, transports=["websocket"],
                                  wait_timeout=CONNECT_TIMEOUT)

    async def disconnect(self) -> None:
        await self.client.disconnect()


async def connect_all(url: str, tokens: list[str], make, session) -> tuple[list, list[str]]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients: list = [None] * len(tokens)
    errors: list[str] = []
    deadline = time.monotonic() + CONNECT_BUDGET

    async def one(index: int, token: str) -> None:
        async with gate:
            if time.monotonic() > deadline:
                errors.append("not tried: connect budget spent")
                return
            client = make()
            try:
                await asyncio.wait_for(client.connect(session, url, token), CONNECT_TIMEOUT)
                clients[index] = client
            except Exception as problem:            # noqa: BLE001 - counted and reported
                errors.append(f"{type(problem).__name__}: {problem}"[:200])
                try:
                    await asyncio.wait_for(client.disconnect(), 5)
                except Exception:                   # noqa: BLE001
                    pass

    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    return clients, errors


async def main(url: str, tokens_file: str, first: int, count: int, library: bool) -> None:
    tokens = json.loads(open(tokens_file).read())["tokens"][first:first + count]
    deliveries = Deliveries()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    def make():
        return LibraryClient(deliveries, session) if library else LeanClient(deliveries)

    started = time.perf_counter()
    clients, errors = await connect_all(url, tokens, make, session)
    say(event="connected", seconds=round(time.perf_counter() - started, 3),
        people=[first + i for i, c in enumerate(clients) if c is not None],
        failed=sum(1 for c in clients if c is None), errors=errors[:5])
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            command, _, kind = line.strip().partition(" ")
            if command == "count":
                say(event="count", kind=kind, n=len(deliveries.by_kind.get(kind, [])),
                    connected=sum(1 for c in clients if c is not None and c.connected))
            elif command == "collect":
                say(event="collected", kind=kind, deliveries=deliveries.by_kind.pop(kind, []))
            else:                                   # "quit", or stdin closed
                break
    finally:
        live = [c for c in clients if c is not None]
        try:
            await asyncio.wait_for(asyncio.gather(*(c.disconnect() for c in live),
                                                  return_exceptions=True), DISCONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            pass
        await session.close()
        say(event="bye")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--library"]
    asyncio.run(main(arguments[0], arguments[1], int(arguments[2]), int(arguments[3]),
                     "--library" in sys.argv))

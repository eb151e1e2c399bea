"""gunicorn settings for Hub. Flask-SocketIO allows one worker per gunicorn process.

Two modes (docs/PERFORMANCE.md "Real time" has the measurements):

- embedded (the default): the gthread worker, Flask-SocketIO in threading mode
  with simple-websocket. Every open WebSocket holds one of the worker's threads
  for as long as it is open, so HUB_THREADS (100) is also the number of live
  connections one process holds — enough for a unit or a small county.
- production, HUB_WORKER=gevent: the gevent worker, Flask-SocketIO in gevent
  mode (still simple-websocket: Flask-SocketIO's author recommends it over the
  unmaintained gevent-websocket). A connection is a greenlet, so one process
  holds thousands (HUB_WORKER_CONNECTIONS, 10000).

Scale-out runs several such processes behind a sticky load balancer sharing Redis.
"""
import os
import subprocess
import sys

bind = os.environ.get("HUB_BIND", "127.0.0.1:5000")
workers = 1                         # Flask-SocketIO: one worker per process
timeout = 60
accesslog = os.environ.get("HUB_ACCESS_LOG")   # unset: no access log
errorlog = "-"

if os.environ.get("HUB_WORKER", "gthread") == "gevent":
    worker_class = "gevent"
    worker_connections = int(os.environ.get("HUB_WORKER_CONNECTIONS", "10000"))
    # The worker inherits this; create_app reads it (config.SOCKETIO_ASYNC_MODE).
    os.environ["HUB_ASYNC_MODE"] = "gevent"
else:
    worker_class = "gthread"
    threads = int(os.environ.get("HUB_THREADS", "100"))
    # gthread accepts at most this many connections at once (idle keep-alive
    # ones included); keep room above the threads.
    worker_connections = int(os.environ.get("HUB_WORKER_CONNECTIONS", str(max(1000, 2 * threads))))
    os.environ["HUB_ASYNC_MODE"] = "threading"


def on_starting(server):
    """Before serving: upgrade the schema, load the demo on the first start, and
    say where the hub is and who can sign in.

    This runs in a child interpreter, not in the master: the master forks the
    worker, and the gevent worker must monkey-patch before the app and its
    libraries are imported. psycopg, for one, picks how it waits for PostgreSQL
    when it is imported: after the patch it waits through gevent, so a request
    waiting on the database never holds up the worker's other connections
    (tests/test_cluster.py checks it). Hence no preload_app, ever. Keeping the
    app out of the master also keeps the master small."""
    address = server.cfg.bind[0] if server.cfg.bind else bind
    code = ("import sys; from hub.startup import first_start; "
            "print(first_start(bind=sys.argv[1]), flush=True)")
    subprocess.run([sys.executable, "-c", code, address], check=True,
                   cwd=os.path.dirname(os.path.abspath(__file__)))


def post_worker_init(worker):
    """Listen on the message queue at once, then keep the garbage collector from
    stalling real time.

    With HUB_REDIS_URL the worker subscribes to Redis before it serves, not at
    its first Socket.IO connection (python-socketio's default): emits that other
    processes publish meanwhile would never reach that first client.

    A full collection walks every object the worker holds; with 2,000 connections
    that stops every connection for 100-300 ms, and CPython's default thresholds
    (700, 10, 10) ran one every few seconds under load (measured, docs/PERFORMANCE.md
    "Real time"). The objects the app was built from are frozen out of the
    collector's sight, and a full collection now waits for 1,000 middle-generation
    collections instead of 10. Young cyclic garbage is still collected as often as
    before, and garbage without cycles is freed at once by reference counting."""
    from hub.realtime import listen_to_message_queue
    listen_to_message_queue()

    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 1000)
    if os.environ.get("HUB_GC_LOG"):
        _log_gc_pauses()


def _log_gc_pauses():
    """HUB_GC_LOG=1: print each collection over HUB_GC_LOG_MS (10) ms, for benchmarks."""
    import gc
    import time
    started = []

    def watch(phase, info):
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pause = (time.perf_counter() - started[0]) * 1000
            if pause > float(os.environ.get("HUB_GC_LOG_MS", "10")):
                print(f"gc pause: {time.time():.3f} generation {info['generation']}, {pause:.1f} ms",
                      flush=True)
    gc.callbacks.append(watch)

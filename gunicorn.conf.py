"""gunicorn settings for Hub.

Embedded default: one process, threads, simple-websocket (Flask-SocketIO allows
one worker per gunicorn process). Scale-out runs several such processes behind
a sticky load balancer sharing Redis (docs/DEPLOY.md, later).
"""
import os

bind = os.environ.get("HUB_BIND", "127.0.0.1:5000")
workers = 1                         # Flask-SocketIO: one worker per process
worker_class = "gthread"
threads = int(os.environ.get("HUB_THREADS", "100"))
timeout = 60
accesslog = os.environ.get("HUB_ACCESS_LOG")   # unset: no access log
errorlog = "-"


def on_starting(server):
    """Before serving: upgrade the schema, load the demo on the first start, and
    say where the hub is and who can sign in."""
    from hub.startup import first_start
    print(first_start(bind=server.cfg.bind[0] if server.cfg.bind else bind), flush=True)

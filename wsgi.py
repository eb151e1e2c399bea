"""What gunicorn serves: `gunicorn -c gunicorn.conf.py wsgi:app`."""
from hub import create_app
from hub.jobs import start_job_loop

app = create_app()
start_job_loop(app)

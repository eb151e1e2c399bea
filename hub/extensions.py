"""Extensions, created unbound and bound to the app in create_app()."""
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from hub.db import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
# threading + simple-websocket is the embedded default; gevent is the production
# mode (issue 6). Chosen explicitly so an installed eventlet is never picked up.
socketio = SocketIO()
csrf = CSRFProtect()

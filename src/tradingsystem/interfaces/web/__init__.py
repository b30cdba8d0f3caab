"""The node's web app: the browser dashboard and the control API on one FastAPI app and one token, the
engine-thread controller and vendored static assets."""

from tradingsystem.interfaces.web.app import create_app
from tradingsystem.interfaces.web.controller import DashboardController, EngineUnavailable, WebOptions

__all__ = ["DashboardController", "EngineUnavailable", "WebOptions", "create_app"]

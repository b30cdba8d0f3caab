"""The browser dashboard: FastAPI app, engine-thread controller and vendored static assets."""

from tradingsystem.interfaces.web.app import create_app
from tradingsystem.interfaces.web.controller import DashboardController, EngineUnavailable, WebOptions

__all__ = ["DashboardController", "EngineUnavailable", "WebOptions", "create_app"]

"""HTML pages: one layout and a body per page, read from the package's ``templates`` folder."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources

__all__ = ["PAGES", "login_page", "render"]

# name -> (title, template, scripts)
PAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "overview": ("Overview", "overview.html", ("overview.js",)),
    "instrument": ("Instrument", "instrument.html", ("vendor/lightweight-charts.standalone.production.js",
                                                     "instrument.js")),
    "performance": ("Performance", "performance.html", ("vendor/echarts.min.js", "performance.js")),
    "trades": ("Trades", "trades.html", ("trades.js",)),
    "log": ("Log", "log.html", ("log.js",)),
    "heatmap": ("Correlation", "heatmap.html", ("vendor/echarts.min.js", "heatmap.js")),
    "health": ("Capture health", "health.html", ("health.js",)),
    "reports": ("Reports", "reports.html", ("reports.js",)),
    "altdata": ("Indicators and news", "altdata.html", ("altdata.js",)),
    "leaderboard": ("Leaderboard", "leaderboard.html", ("leaderboard.js",)),
}
_NAV = (("overview", "/", "Overview"), ("instrument", "/instrument", "Instrument"),
        ("performance", "/performance", "Performance"), ("trades", "/trades", "Trades"), ("log", "/log", "Log"),
        ("heatmap", "/heatmap", "Correlation"), ("health", "/health", "Health"), ("reports", "/reports", "Reports"),
        ("altdata", "/altdata", "Indicators"), ("leaderboard", "/leaderboard", "Leaderboard"))


@cache
def _template(name: str) -> str:
    return resources.files("tradingsystem.interfaces.web").joinpath("templates", name).read_text(encoding="utf-8")


def render(page: str, csrf: str, **data: str) -> str:
    """The page ``page`` inside the layout; ``data`` become ``data-*`` attributes of ``<body>``."""
    title, body, scripts = PAGES[page]
    nav = "".join(
        f'<a href="{href}"{" class=active" if key == page else ""}>{label}</a>' for key, href, label in _NAV
    )
    attrs = "".join(f' data-{html.escape(k)}="{html.escape(v)}"' for k, v in data.items())
    tags = "".join(f'<script src="/static/{s}" defer></script>' for s in ("app.js", *scripts))
    return (_template("layout.html")
            .replace("{{title}}", html.escape(title))
            .replace("{{csrf}}", html.escape(csrf))
            .replace("{{page}}", page)
            .replace("{{attrs}}", attrs)
            .replace("{{nav}}", nav)
            .replace("{{scripts}}", tags)
            .replace("{{body}}", _template(body)))


def login_page(error: str = "", next_url: str = "/") -> str:
    return (_template("login.html").replace("{{error}}", html.escape(error))
            .replace("{{next}}", html.escape(next_url)))

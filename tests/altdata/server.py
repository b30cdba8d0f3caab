"""A loopback HTTP server for the alternative-data tests: SGS JSON/CSV by series code, and feed files.

It serves what the tests recorded under ``data/`` in the real formats (SGS ``[{"data", "valor"}]`` filtered by
``dataInicial``/``dataFinal``, 404 when the window is empty; RSS 2.0 and Atom documents). ``series`` can be
edited to publish new values or revisions; ``fail`` makes the next requests answer 500.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.alerts.servers import free_port

DATA = Path(__file__).with_name("data")


def _d(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


class AltDataServer:
    def __init__(self) -> None:
        self.series: dict[int, list[dict[str, str]]] = {}
        for p in DATA.glob("sgs_*.json"):
            self.series[int(p.stem.split("_")[1])] = json.loads(p.read_text(encoding="utf-8"))
        self.files: dict[str, tuple[str, bytes]] = {
            "/feeds/mercado.xml": ("application/rss+xml", (DATA / "mercado_rss.xml").read_bytes()),
            "/feeds/markets.atom": ("application/atom+xml", (DATA / "markets_atom.xml").read_bytes()),
        }
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail = 0
        self.port = free_port()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        self.requests.append((path, query))
        if self.fail > 0:
            self.fail -= 1
            return 500, "text/plain", b"Internal Server Error"
        if path in self.files:
            ctype, body = self.files[path]
            return 200, ctype, body
        if path.startswith("/dados/serie/bcdata.sgs.") and path.endswith("/dados"):
            code = int(path.split(".")[2].split("/")[0])
            lo, hi = _d(query["dataInicial"]), _d(query["dataFinal"])
            rows = [r for r in self.series.get(code, []) if lo <= _d(r["data"]) <= hi]
            if not rows:
                return 404, "application/json", b'{"error":"Value(s) not found","tag":"NOT_FOUND"}'
            if query.get("formato") == "csv":
                body = "data;valor\n" + "".join(f'{r["data"]};{r["valor"].replace(".", ",")}\n' for r in rows)
                return 200, "text/csv", body.encode()
            return 200, "application/json", json.dumps(rows).encode()
        return 404, "text/plain", b"not found"

    def start(self) -> AltDataServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                u = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                status, ctype, body = outer.handle(u.path, q)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

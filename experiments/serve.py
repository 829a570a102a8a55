"""``govsim serve RESULTS_DIR``: explore results in the browser (a local Solara web server).

The server binds to 127.0.0.1 unless ``--host`` says otherwise, prints its URL and opens it in
the browser (``--no-browser`` does not). The page (:mod:`experiments.explorer.app`) shows the
results directories found at ``RESULTS_DIR``, of every kind: compare and demo (lever effects
with 95% CIs, emission pathways), run (city quantities by group and country), sweep (outcome
distributions), sensitivity (indices against the dummy), case (effects and city panels) and
calibration (fit to targets, posterior), plus a live run of the eight levers. The server has no
route to the files of ``RESULTS_DIR``: the tables are read into memory at start-up and every
download is generated from them. A missing directory, or one without results, ends with exit
code 2 before anything is served.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import threading
import time
import warnings
import webbrowser
from pathlib import Path

from experiments.argtypes import int_at_least
from experiments.errors import BadInput
from experiments.explorer import RESULTS_ENV, data
from experiments.explorer.assets import ensure_assets

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "experiments.explorer.app"


def port_number(text: str) -> int:
    """An argparse type: a TCP port (0 lets the system choose a free one)."""
    value = int_at_least(0)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port in [0, 65535], got {value}")
    return value


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a taken port or bad address is BadInput."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BadInput(f"cannot resolve --host {host}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise BadInput(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
        ) from exc
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The http URL a listening socket answers on."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def configure_solara(root: Path) -> None:
    """Point solara at the explorer app and the results root; production mode, no tracking."""
    os.environ[RESULTS_ENV] = str(root)
    os.environ["SOLARA_APP"] = APP_MODULE
    import solara.server.settings as settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    settings.session.secret_key = secrets.token_hex(32)
    settings.theme.show_banner = False
    # solara warns on every page load that a non-"localhost" host gets lax cookies; that is
    # what a local server wants
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)


def _open_when_started(server: object, url: str) -> None:
    for _ in range(600):
        if getattr(server, "started", False):
            webbrowser.open(url)
            return
        time.sleep(0.1)


def cmd_serve(args: argparse.Namespace) -> int:
    """Check the results, fetch the page's assets if needed, and serve until interrupted."""
    root = Path(args.results_dir).resolve()
    paths = data.discover(root)
    for path in paths:  # fail now, with the file's name, rather than in the browser
        data.load(path)
    configure_solara(root)  # before anything imports solara.server.app, which reads SOLARA_APP
    fetched = ensure_assets()
    if fetched:
        print(f"fetched the page's browser assets: {', '.join(fetched)}", flush=True)
    sock = bind(args.host, args.port)
    try:
        return _serve(sock, args, paths, root)
    finally:
        sock.close()


def _serve(sock: socket.socket, args: argparse.Namespace, paths: list[Path], root: Path) -> int:
    """Run uvicorn with solara's app on the bound socket until Ctrl-C."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(port)
    config = uvicorn.Config(
        "solara.server.starlette:app",
        host=args.host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    if not (host.startswith("127.") or host == "::1"):
        print(
            f"warning: listening on {host}: whoever reaches this machine on port {port} can "
            "see these results and run the model",
            file=sys.stderr,
        )
    where = f"{len(paths)} results directories under {root}" if len(paths) > 1 else str(paths[0])
    url = url_of(sock)
    print(f"govsim explorer: serving {where}", flush=True)
    print(f"open {url} (Ctrl-C stops the server)", flush=True)
    if not args.no_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run(sockets=[sock])
    print("govsim explorer: stopped", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``govsim serve``."""
    serve = sub.add_parser(
        "serve", help="explore a results directory in the browser (local web server)"
    )
    serve.add_argument(
        "results_dir",
        metavar="RESULTS_DIR",
        help="a results directory of any kind (run, compare, demo, sweep, sensitivity, case, "
        "calibration), or a folder holding several",
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    serve.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser")
    serve.set_defaults(handler=cmd_serve)

"""The demo's paged API server for W5, with Nagle's algorithm off on its connections.

`govhub.demo.api_server` writes a response's headers and body in two sends; on a keep-alive connection Nagle's
algorithm then holds the body until the client's delayed ACK (≈40 ms), capping any client at ≈25 pages/s. Real
agency servers do not behave like that, and W5 measures the client, so the benchmark serves with TCP_NODELAY.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from govhub.demo.api_server import PagedApiServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api_serve")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--nagle", action="store_true", help="keep Nagle's algorithm on (the demo's default)")
    args = parser.parse_args(argv)
    server = PagedApiServer(None, "127.0.0.1", args.port)
    server._httpd.RequestHandlerClass.disable_nagle_algorithm = not args.nagle
    server.serve_directory(args.root, max_page_size=args.page_size)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    server.serve_forever()


if __name__ == "__main__":
    main()

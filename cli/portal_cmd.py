"""`govhub portal [--host H] [--port P] [--workers N]`: serve the web portal (stewards, the office, analysts) with uvicorn.

The CLI and the portal are sibling adapters (neither imports the other): uvicorn is handed the portal's factory by
name, and the hub's folders by the environment the factory reads at the portal's edge.
"""

from __future__ import annotations

import argparse
import os

DEFAULT_PORT = 8000
FACTORY = "govhub.portal.serve:app_from_environment"


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import at_least

    p = sub.add_parser("portal", help="启动门户网站，供数据专管员、区科委和分析人员使用")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认：127.0.0.1）")
    p.add_argument(
        "--port", type=at_least(1, most=65535), default=DEFAULT_PORT, help=f"端口（默认：{DEFAULT_PORT}）"
    )
    p.add_argument("--workers", type=at_least(1), default=1, metavar="N",
                   help="门户进程数（默认：1）：会话、登录频率限制和锁定都保存在工作流数据库中，"
                        "任何进程都能为任何人服务")  # fmt: skip
    p.add_argument("--https", action="store_true",
                   help="用户通过 https 访问门户（由反向代理处理 TLS）：Cookie 加上 Secure 属性")  # fmt: skip
    p.set_defaults(handler=portal)


def portal(args: argparse.Namespace) -> int:
    import uvicorn

    settings = args.settings
    os.environ["GOVHUB_HOME"] = str(settings.home)
    os.environ["GOVHUB_CATALOG"] = str(settings.catalog_dir)
    if args.https:
        os.environ["GOVHUB_PORTAL_SECURE_COOKIES"] = "1"
    workers = f", {args.workers} processes" if args.workers > 1 else ""
    print(
        f"govhub portal: http://{args.host}:{args.port}/  (data folder {settings.home}{workers}; Ctrl-C to stop)",
        flush=True,
    )
    uvicorn.run(FACTORY, factory=True, host=args.host, port=args.port, log_level="warning", workers=args.workers,
                proxy_headers=args.https, server_header=False)  # fmt: skip
    return 0

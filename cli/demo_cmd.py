"""`govhub demo`: build the demo district, start its source systems, ingest everything, serve the Dagster UI."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

DEFAULT_API_PORT = 18765
DEFAULT_UI_PORT = 3000
DEFAULT_REPORTS_PORT = 3001
DEFAULT_PORTAL_PORT = 8000


def scale_factor(text: str) -> float:
    """--scale: a finite multiple the generator can make rows for (1e308 rows is no demo)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是数字") from None
    if not 0.01 <= value <= 10_000:  # NaN fails both comparisons
        raise argparse.ArgumentTypeError(f"应在 0.01 到 10000 之间，收到 {text}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="搭建演示区，汇聚全部数据并启动 Dagster 界面")
    p.add_argument(
        "--no-serve", action="store_true", help="完成全部准备工作并打印结果，然后退出（不启动服务）"
    )
    p.add_argument("--scale", type=scale_factor, default=1.0,
                   help="数据行数的倍数（0.01–10000；1000 → 数百万行，用于性能测试）")  # fmt: skip
    p.add_argument("--seed", type=int, default=2016)
    p.add_argument("--port", type=int, default=DEFAULT_UI_PORT, help="Dagster 界面的端口")
    p.add_argument("--api-port", type=int, default=DEFAULT_API_PORT, help="演示机构 HTTP 接口的端口")
    p.add_argument("--no-broken", action="store_true", help="跳过被拒收填报文件的示例")
    p.add_argument("--reports-port", type=int, default=DEFAULT_REPORTS_PORT, help="报告网站的端口")
    p.add_argument("--portal-port", type=int, default=DEFAULT_PORTAL_PORT, help="门户网站的端口")
    p.set_defaults(handler=demo, needs="catalog")  # makes its own data folder


def free_port(preferred: int) -> int:
    """`preferred` if nothing listens there, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port")


def _default_signals() -> None:
    """In each child: SIGTERM and SIGINT back to their defaults (a parent that ignores them must not pass that on)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(cmd: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(cmd, preexec_fn=_default_signals, **kwargs)


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Terminate a child and wait; kill it if it does not go."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def start_demo_api(settings, port: int) -> tuple[subprocess.Popen, str]:
    """The API-fed agencies' interface: a real HTTP server on 127.0.0.1 serving the generated records. Its address
    is kept in the hub's own settings file, so every later process on this hub (Dagster, another terminal's
    `govhub ingest`) pulls from where it really is, whatever port was free."""
    from govhub.config import save_hub_variables
    from govhub.demo import DEMO_API_TOKEN

    port = free_port(port)
    log = (settings.demo_dir / "api.log").open("ab")
    cmd = [
        sys.executable,
        "-m",
        "govhub.demo.api_server",
        "--root",
        str(settings.demo_dir / "api"),
        "--port",
        str(port),
    ]
    proc = spawn([*cmd, "--token", DEMO_API_TOKEN], stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, proc)
    url = f"http://127.0.0.1:{port}"
    save_hub_variables(settings, GOVHUB_DEMO_API=url)
    return proc, url


def _stop_on_sigterm() -> None:
    """SIGTERM (a service manager, `kill`) and Ctrl-C stop the demo so its servers are shut down, not orphaned.

    Installed again before serving: in-process Dagster runs restore the dispositions the process started with,
    which are "ignore" when launched from a non-interactive shell."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def demo(args: argparse.Namespace) -> int:
    _stop_on_sigterm()
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.ingest_cmd import _progress, render_outcomes
    from govhub.clock import today_in_beijing
    from govhub.config import mark_in_service
    from govhub.demo.generate import generate_district
    from govhub.demo.inbox import deliver_demo_sheets
    from govhub.demo.people import ENGINEER, register_demo_people
    from govhub.services.ingest import ingest
    from govhub.warehouse.hub import ensure_hub

    settings, catalog = settings_and_catalog(args)
    # a demo district starts today: its scorecards judge nothing due before (kept for the servers in govhub.yaml)
    kept = mark_in_service(settings.home, today_in_beijing())
    settings = replace(settings, in_service_since=settings.in_service_since or kept)  # the environment wins
    # the servers started below (Dagster, the report builder) work on this same hub
    os.environ["GOVHUB_HOME"] = str(settings.home)
    os.environ["GOVHUB_CATALOG"] = str(settings.catalog_dir)
    started = time.monotonic()
    print(f"govhub demo：数据文件夹 {settings.home}", flush=True)
    manifest = generate_district(settings, catalog, seed=args.seed, scale=args.scale).to_dict()
    people = register_demo_people(settings, catalog)
    print(
        f"demo district generated: {len(catalog.agencies)} agencies, {len(catalog.resources)} resources, "
        f"{len(people)} people",
        flush=True,
    )

    api, api_url = start_demo_api(settings, args.api_port)
    try:
        settings = settings.with_variables(GOVHUB_DEMO_API=api_url)
        ensure_hub(settings, catalog)
        deliver_demo_sheets(settings, catalog, manifest)
        resources = list(catalog.resources)
        outcomes = ingest(
            settings, resources, actor=ENGINEER.id, via="demo", on_done=_progress(len(resources))
        )
        render_outcomes(outcomes)
        if not args.no_broken:
            _show_a_rejection(settings, catalog, manifest)
        failed = {(o.agency, o.resource) for o in outcomes if not o.status.ok}
        took = time.monotonic() - started
        print(f"\n已汇聚 {len(resources) - len(failed)}/{len(resources)} 个资源，用时 {took:.1f} 秒")
        _share(settings, catalog)
        print(f"数据中心（DuckDB，请只读打开）：{settings.hub_db}")
        print(f"demo agencies' API: {api_url}")
        if args.no_serve:
            return 0 if not failed else 1
        _stop_on_sigterm()
        reports = start_reports_site(settings, catalog, args.reports_port)
        portal = start_portal(args.portal_port)
        try:
            return serve_dagster(settings, args.port)
        finally:
            stop(portal)
            stop(reports)
    finally:
        stop(api)


def _share(settings, catalog) -> None:
    """The demo's sharing requests (one of each kind) and every agency's workspace, built as the engineer."""
    from govhub.clock import today_in_beijing
    from govhub.demo.people import ENGINEER
    from govhub.demo.sharing import seed_demo_sharing
    from govhub.services.workspaces import build

    made = seed_demo_sharing(settings, catalog, today_in_beijing())
    agencies = [a.id for a in catalog.agencies.values() if not a.coordinator]
    for agency in agencies:
        build(settings, catalog, agency, actor=ENGINEER.id, reason="demo")
    print(f"sharing: {len(made)} demo requests (govhub request list --by zhaoqiang); "
          f"{len(agencies)} workspaces built (govhub query --as mzj_fenxi \"SELECT count(*) FROM gaj.hjrk\")")  # fmt: skip


def start_reports_site(settings, catalog, port: int) -> subprocess.Popen:
    """Serve the reports folder (Data Docs, rejection reports, annotated workbooks) and render Data Docs behind it."""
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(port)
    cmd = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(settings.reports_dir),
    ]
    proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc)
    os.environ["GOVHUB_REPORTS_URL"] = f"http://127.0.0.1:{port}"  # for the Dagster process started next
    log = (settings.reports_dir / "data_docs.log").open("ab")
    govhub = Path(sys.executable).with_name("govhub")
    spawn([str(govhub), "quality", "docs"], stdout=log, stderr=subprocess.STDOUT)
    print(
        f"reports and Data Docs: http://127.0.0.1:{port}/data_docs/index.html (rendering in the background)"
    )
    print(f"scorecards (§18): http://127.0.0.1:{port}/scorecards/{_scorecard_report(settings, catalog).name}")
    from govhub.services.reports_index import write_reports_index

    write_reports_index(settings, catalog)  # rewritten again when the Data Docs are done
    print(f"报告首页（目录、质量报告、考核、问题数据）：http://127.0.0.1:{port}/index.html")
    return proc


def start_portal(port: int) -> subprocess.Popen:
    """`govhub portal` on this hub (GOVHUB_HOME and GOVHUB_CATALOG are set above); its address printed."""
    from govhub.demo.people import DEMO_PASSWORD, OFFICE

    port = free_port(port)
    govhub = Path(sys.executable).with_name("govhub")
    proc = spawn([str(govhub), "portal", "--port", str(port)], stdout=subprocess.DEVNULL)
    wait_for_port(port, proc, timeout=60)
    print(f"web portal: http://127.0.0.1:{port}/  (e.g. {OFFICE.id} / {DEMO_PASSWORD}; accounts in README)")
    print(
        f"docking API: http://127.0.0.1:{port}/api/v1/  (OpenAPI: /api/v1/openapi.json; a token: govhub token create)"
    )
    return proc


def _scorecard_report(settings, catalog) -> Path:
    """This quarter's scorecard page, as `govhub scorecard --html` writes it."""
    from govhub.governance.scorecard import agency_scores, scorecard_window
    from govhub.governance.scorecard_report import write_scorecard_report

    start, end = scorecard_window()
    return write_scorecard_report(settings, agency_scores(settings, catalog, start, end), start, end)


def _show_a_rejection(settings, catalog, manifest: dict) -> None:
    """Upload one deliberately broken sheet as its agency's steward, to show what an agency is told (the previous
    snapshot stays)."""
    from govhub.cli.ingest_cmd import render_outcomes
    from govhub.demo.people import steward_of
    from govhub.services.upload import upload_sheet

    broken = manifest.get("broken") or []
    if not broken:
        return
    example = broken[0]
    resource = catalog.resource(example["resource"])
    print(f"\n示例：一份有错误的填报文件（{Path(example['path']).name}：{example.get('what', '')}）")
    outcome = upload_sheet(settings, resource, Path(example["path"]), actor=steward_of(catalog, resource.agency),
                           via="demo")  # fmt: skip
    render_outcomes([outcome])


def serve_dagster(settings, port: int) -> int:
    """`dagster dev` on the hub's persistent instance; stops with Ctrl-C."""
    home = settings.prepare_dagster_home()
    port = free_port(port)
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster), "dev", "-m", "govhub.pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)]
    proc = spawn(cmd, env={**os.environ, "DAGSTER_HOME": str(home)})
    try:
        wait_for_port(port, proc, timeout=120)
        print(f"\nDagster UI: http://127.0.0.1:{port}   (Ctrl-C to stop)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(proc, timeout=30)

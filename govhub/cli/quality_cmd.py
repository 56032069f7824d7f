"""`govhub quality suites | docs`: the Great Expectations suites derived from the catalog, and their Data Docs."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quality", help="expectation suites from the catalog and their Data Docs")
    q = p.add_subparsers(dest="quality_command", metavar="ACTION", required=True)
    s = q.add_parser(
        "suites", help="write each resource's GE suite (JSON, with overrides applied) to the data folder"
    )
    s.set_defaults(handler=suites)
    d = q.add_parser("docs", help="validate current snapshots with Great Expectations and render Data Docs")
    d.add_argument("--resource", help="only this resource (code, agency/resource or id)")
    d.set_defaults(handler=docs)


def _catalog():
    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings

    settings = get_settings()
    return settings, require_catalog(settings.catalog_dir)


def suites(args: argparse.Namespace) -> int:
    from govhub.expectations.suites import write_suites

    settings, catalog = _catalog()
    paths = write_suites(settings, catalog)
    print(f"{len(paths)} suites written under {settings.home / 'expectations' / 'suites'}")
    return 0


def docs(args: argparse.Namespace) -> int:
    from govhub.expectations.docs import build_hub_data_docs

    settings, catalog = _catalog()
    try:
        resources = [catalog.resource(args.resource)] if args.resource else None
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    index = build_hub_data_docs(settings, catalog, resources)
    print(f"Data Docs: {index}")
    return 0

"""`govhub quality suites | docs`: the Great Expectations suites derived from the catalog, and their Data Docs."""

from __future__ import annotations

import argparse

from govhub.cli.common import find_resource, settings_and_catalog


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


def suites(args: argparse.Namespace) -> int:
    from govhub.expectations.suites import write_suites

    settings, catalog = settings_and_catalog(args)
    paths = write_suites(settings, catalog)
    print(f"{len(paths)} suites written under {settings.home / 'expectations' / 'suites'}")
    return 0


def docs(args: argparse.Namespace) -> int:
    from govhub.expectations.docs import build_hub_data_docs

    settings, catalog = settings_and_catalog(args)
    resources = [find_resource(catalog, args.resource)] if args.resource else None
    index = build_hub_data_docs(settings, catalog, resources)
    print(f"Data Docs: {index}")
    return 0

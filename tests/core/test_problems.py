"""Every problem code the source uses is in the registry (title, category, blocking default), so every layer groups,
counts and labels problems the same way."""

from __future__ import annotations

import re
from pathlib import Path

from govhub.problems import CODES, FAMILIES, Category, Problem, code_info, is_registered

REPO = Path(__file__).resolve().parents[2]
SOURCE = [
    "govhub",
    "connectors",
    "warehouse",
    "expectations",
    "governance",
    "services",
    "pipelines",
    "cli",
    "demo",
    "portal",
]
# code="x.y", Problem("x.y", …), GovhubError(Problem(code=f"x.{…}") — literal codes and f-string families
LITERAL = re.compile(r"""(?:code=|(?<![A-Za-z])Problem\(\s*|_problem\(\s*)f?["']([a-z_]+\.[a-z_{}.]+)["']""")
# modules whose `_refuse("name", …)` helper prefixes its own family
PREFIXED = {"govhub/people.py": "people.", "governance/zero_update.py": "zero_update.",
            "governance/sharing.py": "sharing.", "governance/requests.py": "sharing."}  # fmt: skip
REFUSE = re.compile(r"""_refuse\(\s*["']([a-z_]+)["']""")


def used_codes() -> set[str]:
    found = set()
    for folder in SOURCE:
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found |= set(LITERAL.findall(text))
            prefix = PREFIXED.get(path.relative_to(REPO).as_posix())
            if prefix:
                found |= {prefix + name for name in REFUSE.findall(text)}
    return found


def test_every_code_in_the_source_is_registered() -> None:
    codes = used_codes()
    assert len(codes) > 70  # the scan really reads the source
    for code in codes:
        if "{" in code:  # an f-string: its family must be registered (or it is a prefixing `_refuse` helper)
            assert any(code.startswith(prefix) for prefix in [*FAMILIES, *PREFIXED.values()]), code
        else:
            assert is_registered(code), f"{code} is used but not in govhub.problems.CODES"


def test_every_registered_code_has_a_chinese_title_and_a_category() -> None:
    for info in [*CODES.values(), *FAMILIES.values()]:
        assert re.search(r"[\u4e00-\u9fff]", info.title_zh), info.code
        assert isinstance(info.category, Category) and info.category.label


def test_a_problem_takes_its_blocking_default_and_category_from_the_registry() -> None:
    assert Problem("sheet.missing_optional_column", "x").blocking is False
    assert Problem("sheet.missing_column", "x").blocking is True
    assert Problem("sheet.formula", "x", blocking=False).blocking is False  # the code site decides
    assert (
        Problem("check.cn_id", "x").category is Category.ROWS
        and code_info("api.http_503").category is Category.SOURCE
    )
    assert Problem("not.registered", "x").category is Category.HUB  # logged, never a crash

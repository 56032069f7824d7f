"""`govhub … --help` reads in Chinese and fits an 80-column terminal: every help text of every command, option and
sub-command has Chinese in it (identifiers such as --by, $GOVHUB_USER or §13 stay as they are), and the help is
wrapped by terminal columns, a CJK character taking two."""

from __future__ import annotations

import argparse
import re

import pytest

from govhub.cli.main import build_parser
from govhub.cli.output import display_width
from govhub.cli.parser import wrap_columns

CJK = re.compile(r"[\u4e00-\u9fff]")


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every parser by its command path ("govhub", "govhub request create", …)."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser) -> None:
        found[parser.prog] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(child)

    walk(build_parser())
    return found


def help_texts(parser: argparse.ArgumentParser) -> list[str]:
    texts = [parser.description or ""] if parser.description else []
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            texts.append(action.help)
        if isinstance(action, argparse._SubParsersAction):
            texts += [choice.help for choice in action._choices_actions if choice.help]
    return texts


def test_every_help_text_is_chinese() -> None:
    english = [
        f"{prog}: {text}"
        for prog, parser in parsers().items()
        for text in help_texts(parser)
        if not CJK.search(text)
    ]
    assert not english, "\n".join(english)


@pytest.mark.parametrize("prog", sorted(parsers()))
def test_help_fits_80_columns(prog: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = parsers()[prog].format_help()
    assert text.startswith("用法："), text
    wide = [line for line in text.splitlines() if display_width(line) > 80]
    assert not wide, "\n".join(wide)


def test_the_default_actor_is_said_in_chinese() -> None:
    by = next(a for a in parsers()["govhub upload"]._actions if "--by" in a.option_strings)
    assert by.help == "上传人，须为该资源所属机构的数据专管员（默认：$GOVHUB_USER 或当前登录名）"


def test_wrapping_by_columns_keeps_words_whole_and_closing_marks_on_their_line() -> None:
    text = "操作人，记录在案，并按其角色和机构核查权限（默认：$GOVHUB_USER 或当前登录名）"
    for width in range(14, 60):
        lines = wrap_columns(text, width)
        assert all(display_width(line) <= width for line in lines), (width, lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", ""), (width, lines)
        assert not any(line[0] in "，）：" for line in lines), (width, lines)
        assert not any(line.endswith("（") for line in lines), (width, lines)
        assert any("$GOVHUB_USER" in line for line in lines), (width, lines)  # an ASCII word is never cut
    assert wrap_columns("x" * 7, 3) == ["xxx", "xxx", "x"]  # unless it alone is wider than a line

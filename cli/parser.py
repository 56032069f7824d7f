"""The command line's parser, speaking Chinese where people go wrong: usage mistakes (exit 2) say what was wrong in
Chinese — a missing option, an unknown value and the allowed ones, an option given twice over — under `用法：`.

argparse's own messages are English; `ChineseParser.error` turns each of its known forms into Chinese and keeps an
unknown one as it is (after 错误：), so a new Python's new wording degrades to English, never to a traceback.
Sub-command parsers are made from the same class (argparse builds them with the parent's class).

Help texts are Chinese too: `ChineseHelpFormatter` wraps them by terminal columns (a CJK character takes two, and a
line may break between two of them, never before a closing mark such as ，or ）), where argparse's own wrapping
counts characters and breaks only at spaces — Chinese help would otherwise run far past the terminal's edge.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

# argparse's messages (Python 3.11–3.13 wording) → Chinese; groups are carried over as they are
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"the following arguments are required: (.+)"), "缺少必填参数：{0}"),
    (re.compile(r"one of the arguments (.+) is required"), "须给出其中一个参数：{0}"),
    (re.compile(r"unrecognized arguments: (.+)"), "无法识别的参数：{0}"),
    (re.compile(r"ambiguous option: (\S+) could match (.+)"), "参数 {0} 有歧义，可能是：{1}"),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), "参数 {0} 不能与 {1} 同时使用"),
    (
        re.compile(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)"),
        "参数 {0} 的值 {1} 无效，可选：{2}",
    ),
    (re.compile(r"argument (\S+): invalid \w+ value: (.+)"), "参数 {0} 的值 {1} 格式不对"),
    (re.compile(r"argument (\S+): expected one argument"), "参数 {0} 需要一个值"),
    (re.compile(r"argument (\S+): expected at most one argument"), "参数 {0} 最多接受一个值"),
    (re.compile(r"argument (\S+): expected at least one argument"), "参数 {0} 至少需要一个值"),
    (re.compile(r"argument (\S+): expected (\d+) arguments"), "参数 {0} 需要 {1} 个值"),
    (re.compile(r"argument (\S+): ignored explicit argument (.+)"), "参数 {0} 不接受值 {1}"),
    (re.compile(r"argument (\S+): (.+)"), "参数 {0}：{1}"),  # our own type checks' messages (already Chinese)
]


def chinese_message(message: str) -> str:
    """argparse's English error message in Chinese (an unknown form is kept as it is)."""
    for pattern, template in _MESSAGES:
        found = pattern.fullmatch(message.strip())
        if found:
            return template.format(*found.groups())
    return message


# no line starts with these (closing marks) and none ends with those (opening marks)
_NO_LINE_START = frozenset("，。、；：！？）」』》〉”’…,.;:!?)]}")
_NO_LINE_END = frozenset("（「『《〈“‘([{")


def wrap_columns(text: str, width: int) -> list[str]:
    """`text` (whitespace already collapsed) in lines of at most `width` terminal columns.

    Breaks at a space, or between two characters of which one is wide (CJK), unless a closing mark would start a line
    or an opening mark end one; an ASCII word stays whole unless it alone is wider than a line."""
    from govhub.cli.output import display_width  # imported only when help is shown

    width = max(width, 2)
    pieces: list[tuple[str, bool]] = []  # (unbreakable piece, a space before it)
    space = False
    for ch in text:
        if ch == " ":
            space = bool(pieces)
            continue
        if pieces and not space:
            last = pieces[-1][0][-1]
            narrow_run = display_width(ch) == 1 and display_width(last) == 1
            if narrow_run or ch in _NO_LINE_START or last in _NO_LINE_END:
                pieces[-1] = (pieces[-1][0] + ch, pieces[-1][1])
                continue
        pieces.append((ch, space))
        space = False
    lines: list[str] = []
    line, used = "", 0
    for piece, spaced in pieces:
        gap = 1 if spaced and line else 0
        size = display_width(piece)
        if line and used + gap + size > width:
            lines.append(line)
            line, used, gap = "", 0, 0
        for ch in piece if size > width else ():  # a piece wider than a line: cut by columns
            if used + display_width(ch) > width:
                lines.append(line)
                line, used = "", 0
            line, used = line + ch, used + display_width(ch)
        if size <= width:
            line, used = line + " " * gap + piece, used + gap + size
    if line:
        lines.append(line)
    return lines


class ChineseHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, its text wrapped by terminal columns (see `wrap_columns`)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_columns(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return "\n".join(indent + line for line in wrap_columns(text, width - len(indent)))


class UsageExit(SystemExit):
    """argparse's exit for a usage mistake (code 2, as argparse's own), carrying what was said (for `--json`)."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


class ChineseParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage line, section titles, help texts and errors read in Chinese (exit code 2, as
    argparse's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)  # sub-command parsers get it too
        # options spelled in full: a script's `--js` would break the day another option starts with it, and a
        # failure's JSON object (`main._json_asked`) answers `--json` as written
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = "显示本帮助并退出"

    def format_usage(self) -> str:
        return _usage_zh(super().format_usage())

    def format_help(self) -> str:
        return _usage_zh(super().format_help())

    def error(self, message: str) -> NoReturn:
        said = chinese_message(message)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}：错误：{said}\n")
        raise UsageExit(said)


def _usage_zh(text: str) -> str:
    return "用法：" + text[len("usage: ") :] if text.startswith("usage: ") else text

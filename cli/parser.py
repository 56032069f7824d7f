"""The command line's parser, speaking Chinese where people go wrong: usage mistakes (exit 2) say what was wrong in
Chinese — a missing option, an unknown value and the allowed ones, an option given twice over — under `用法：`.

argparse's own messages are English; `ChineseParser.error` turns each of its known forms into Chinese and keeps an
unknown one as it is (after 错误：), so a new Python's new wording degrades to English, never to a traceback.
Sub-command parsers are made from the same class (argparse builds them with the parent's class).
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


class ChineseParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage line, section titles and errors read in Chinese (exit code 2, as argparse's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
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
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{chinese_message(message)}\n")


def _usage_zh(text: str) -> str:
    return "用法：" + text[len("usage: ") :] if text.startswith("usage: ") else text

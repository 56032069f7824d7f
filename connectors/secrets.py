"""Connector credentials, kept out of the catalog: `GOVHUB_SECRET_<NAME>` in the environment, else the secrets file.

A secret's value never appears in logs, errors, `Extract.source` or landing receipts; messages name the secret only.
"""

from __future__ import annotations

import logging
import re

from govhub.config import Settings
from govhub.problems import GovhubError, Problem

MASK = "***"


def secret_env_var(name: str) -> str:
    """The environment variable that holds secret `name` (demo_api_token → GOVHUB_SECRET_DEMO_API_TOKEN)."""
    return "GOVHUB_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def resolve_secret(settings: Settings, name: str) -> str:
    """The value of secret `name`: from the environment (as captured in the settings) first, then the YAML map in `settings.secrets_file`."""
    env_var = secret_env_var(name)
    value = settings.variables.get(env_var)
    if value:
        return value
    path = settings.secrets_file
    if path.is_file():
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            # the parser's message may quote file content, i.e. other secrets: report the position only
            mark = getattr(exc, "problem_mark", None)
            where = f"第{mark.line + 1}行" if mark is not None else ""
            raise GovhubError(
                Problem(
                    code="secret.file_invalid",
                    message_zh=f"密钥文件 {path} {where}格式错误，应为“名称: 值”的YAML映射",
                )
            ) from None
        if isinstance(data, dict) and data.get(name) not in (None, ""):
            return str(data[name])
    raise GovhubError(
        Problem(
            code="secret.missing",
            message_zh=f"未找到密钥“{name}”：请设置环境变量 {env_var}，或在密钥文件 {path} 中添加“{name}: …”",
            value=name,
        )
    )


def redact_url(url: str) -> str:
    """A webhook's address as logs and errors may show it: scheme and host alone. Robots carry their key in the query
    (WeCom `?key=`, DingTalk `?access_token=`) or in the path (Feishu `/hook/<token>`): anyone holding the URL posts."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a URL at all: nothing of it is shown
        return MASK
    rest = f"/{MASK}" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{rest}" if parts.scheme else MASK


def redact_address(text: str, url: str | None) -> str:
    """`text` (an error quoting `url`, as httpx's do) with the URL shown as `redact_url` shows it, and its key
    (query values as written and decoded, path segments, password) masked wherever else it appears — also where
    the quoting spelled the URL its own way (httpx lower-cases the host)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    if not url:
        return text
    for spelling in {url, url.lower(), _as_httpx_prints(url)}:
        if spelling:
            text = text.replace(spelling, redact_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    raw = [pair.partition("=")[2] for pair in parts.query.split("&")]
    keys = [*raw, *(unquote(v) for v in raw), *(v for _, v in parse_qsl(parts.query))]
    keys += [segment for segment in parts.path.split("/") if len(segment) >= 8] + [parts.password or ""]
    return redact(text, *sorted({k for k in keys if len(k) >= 4}, key=len, reverse=True))


def _as_httpx_prints(url: str) -> str | None:
    try:
        import httpx

        return str(httpx.URL(url))
    except Exception:  # not a URL httpx takes: it quotes nothing of it
        return None


class _AddressesMasked(logging.Filter):
    """httpx logs every request's full URL at INFO ("HTTP Request: POST https://…?key=…"): shown as `redact_url`
    shows it, whoever turns INFO on (a robot's key, an API's query parameters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            isinstance(record.args, tuple)
            and len(record.args) >= 2
            and str(record.msg).startswith("HTTP Request")
        ):
            record.args = (record.args[0], redact_url(str(record.args[1])), *record.args[2:])
        return True


if not any(isinstance(f, _AddressesMasked) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_AddressesMasked())


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every occurrence of the given secret values masked (for messages that quote a server's reply)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text

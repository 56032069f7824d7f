"""Connector credentials, kept out of the catalog: `GOVHUB_SECRET_<NAME>` in the environment, else the secrets file.

A secret's value never appears in logs, errors, `Extract.source` or landing receipts; messages name the secret only.
"""

from __future__ import annotations

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


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every occurrence of the given secret values masked (for messages that quote a server's reply)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text

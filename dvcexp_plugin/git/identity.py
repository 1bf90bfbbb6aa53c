"""Who commits, and when: git's identity and date rules.

Identity follows git, not dulwich: dulwich invents ``user@hostname`` when
nothing is configured, git refuses. We refuse too, with the command that fixes it.
"""
from __future__ import annotations

import calendar
import email.utils
import os
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from dvcexp_plugin.git.errors import GitError, IdentityError

if TYPE_CHECKING:
    from dulwich.config import Config

Kind = Literal["author", "committer"]

_FIX = (
    "Git username and email must be configured: run "
    "git config --global user.name 'Your Name' && "
    "git config --global user.email 'you@example.com'"
)


def _config_str(config: Config, section: str, name: str) -> str | None:
    try:
        value = config.get((section.encode(),), name.encode())
    except KeyError:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_identity(
    config: Config, kind: Kind = "author", env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """``(name, email)`` for ``kind`` as git picks it.

    Order: ``GIT_<KIND>_NAME``/``_EMAIL``, then ``<kind>.name``/``.email`` and
    ``user.name``/``.email`` from the repo/global/system config stack, then
    ``$EMAIL`` for the email.

    :param config: the repository's config stack
    :param kind: ``"author"`` or ``"committer"``
    :param env: environment to read (default ``os.environ``)
    :raises IdentityError: when the name or the email is missing
    """
    env = os.environ if env is None else env
    upper = kind.upper()
    name = env.get(f"GIT_{upper}_NAME") or _config_str(config, kind, "name")
    name = name or _config_str(config, "user", "name")
    mail = env.get(f"GIT_{upper}_EMAIL") or _config_str(config, kind, "email")
    mail = mail or _config_str(config, "user", "email") or env.get("EMAIL")
    name = (name or "").strip()
    mail = (mail or "").strip().removeprefix("<").removesuffix(">")
    if not name or not mail:
        raise IdentityError(_FIX)
    if any(c in name + mail for c in "<>\n"):
        raise IdentityError(f"invalid git identity '{name} <{mail}>': remove '<', '>' or newlines")
    return name, mail


def local_offset(timestamp: int) -> int:
    """The local time zone's offset from UTC, in seconds, at ``timestamp``."""
    return time.localtime(timestamp).tm_gmtoff or 0


_INTERNAL = re.compile(r"^@?(\d+)(?:\s+([+-])(\d{2}):?(\d{2}))?$")
_ISO_TZ_GAP = re.compile(r"\s+([+-]\d{2}:?\d{2}|Z)$")


def parse_git_date(text: str) -> tuple[int, int]:
    """``(unix seconds, tz offset seconds)`` from a ``GIT_*_DATE`` value.

    Accepts git's internal ``<unix> <+hhmm>`` (optionally ``@``-prefixed),
    RFC 2822 and ISO 8601; a date without zone is local time.

    :raises GitError: when ``text`` is none of these
    """
    text = text.strip()
    match = _INTERNAL.match(text)
    if match:
        seconds = int(match.group(1))
        if match.group(2) is None:
            return seconds, local_offset(seconds)
        offset = int(match.group(3)) * 3600 + int(match.group(4)) * 60
        return seconds, -offset if match.group(2) == "-" else offset
    parsed = email.utils.parsedate_tz(text)
    if parsed is not None and parsed[9] is not None:
        return calendar.timegm(parsed[:9]) - parsed[9], parsed[9]
    try:
        when = datetime.fromisoformat(_ISO_TZ_GAP.sub(r"\1", text))
    except ValueError:
        raise GitError(
            f"cannot parse git date '{text}'; use '<unix seconds> +0000' or ISO 8601 "
            "like '2026-01-01T00:00:00+00:00'"
        ) from None
    if when.tzinfo is None:
        seconds = int(time.mktime(when.timetuple()))
        return seconds, local_offset(seconds)
    delta = when.utcoffset()
    return int(when.timestamp()), int(delta.total_seconds()) if delta else 0


def commit_date(
    kind: Kind, timestamp: int | None = None, env: Mapping[str, str] | None = None
) -> tuple[int, int]:
    """``(unix seconds, tz offset)`` for a new commit's ``kind`` line.

    An explicit ``timestamp`` wins; else ``GIT_<KIND>_DATE``; else now.
    """
    if timestamp is not None:
        return timestamp, local_offset(timestamp)
    env = os.environ if env is None else env
    value = env.get(f"GIT_{kind.upper()}_DATE")
    if value:
        return parse_git_date(value)
    now = int(time.time())
    return now, local_offset(now)

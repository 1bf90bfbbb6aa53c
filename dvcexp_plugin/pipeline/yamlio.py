"""Reading YAML the way DVC reads it: YAML 1.2 scalars, no duplicate keys.

DVC parses ``dvc.yaml``, ``dvc.lock`` and params files with ruamel.yaml in
YAML 1.2 mode. PyYAML's C parser is several times faster, so we use it with a
1.2 resolver: ``yes``/``no``/``on``/``off`` stay strings, ``1e3`` is a float,
``0755`` is decimal. Duplicate mapping keys are errors, as in ruamel.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from dvcexp_plugin.errors import YAMLFileCorruptedError

try:  # the C parser is an optional part of PyYAML wheels
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _BaseLoader = yaml.SafeLoader

_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT_RE = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_REPLACED_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}


class _Yaml12Constructor:
    """YAML 1.2 core-schema numbers and duplicate-key errors, for either PyYAML
    loader (a mixin: ``super()`` is the loader's own constructor)."""

    construct_scalar: Any  # provided by the PyYAML loader it is mixed into
    construct_object: Any

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable keys are reported by PyYAML itself
            if duplicate:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"found duplicate key {key!r}",
                    mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc,no-any-return]

    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
            if text.startswith(prefix):
                return sign * int(text[2:], base)
        return sign * int(text)

    def construct_yaml_float(self, node: Any) -> float:
        text = str(self.construct_scalar(node)).replace("_", "").lower()
        if text.endswith("nan"):
            return float("nan")
        if text.endswith("inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        return float(text)


class Yaml12Loader(_Yaml12Constructor, _BaseLoader):  # type: ignore[misc]
    """A safe loader with YAML 1.2 core-schema scalars and no duplicate keys."""


def _install_resolvers() -> None:
    resolvers: dict[Any, list[tuple[str, Any]]] = {}
    for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        kept = [(tag, regexp) for tag, regexp in entries if tag not in _REPLACED_TAGS]
        if kept:
            resolvers[first] = kept
    for tag, regexp, firsts in (
        ("tag:yaml.org,2002:bool", _BOOL_RE, "tTfF"),
        ("tag:yaml.org,2002:int", _INT_RE, "-+0123456789"),
        ("tag:yaml.org,2002:float", _FLOAT_RE, "-+0123456789."),
    ):
        for first in firsts:
            resolvers.setdefault(first, []).append((tag, regexp))
    loader: Any
    for loader in (Yaml12Loader, Yaml12PureLoader):
        loader.yaml_implicit_resolvers = resolvers
        loader.add_constructor("tag:yaml.org,2002:int", loader.construct_yaml_int)
        loader.add_constructor("tag:yaml.org,2002:float", loader.construct_yaml_float)


class Yaml12PureLoader(_Yaml12Constructor, yaml.SafeLoader):
    """The pure-Python twin of :class:`Yaml12Loader`.

    libyaml skips a tab after a plain scalar; ruamel (and so DVC) rejects it
    as "found character '\\t' that cannot start any token". PyYAML's Python
    scanner behaves as ruamel, so documents holding a tab are parsed with it.
    """


_install_resolvers()


def parse_yaml(text: str, path: str) -> Any:
    """Parse YAML text; a syntax error becomes one line naming ``path``.

    :param text: the document
    :param path: the file name to show in errors (as the user knows it)
    """
    try:
        loader = Yaml12PureLoader if "\t" in text else Yaml12Loader
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise YAMLFileCorruptedError(
            f"unable to read: '{path}', YAML file structure is corrupted: "
            f"{_describe(exc)}"
        ) from exc


def load_yaml_file(path: str, shown_as: str | None = None) -> Any:
    """Read and parse a YAML file (UTF-8)."""
    with open(path, encoding="utf-8") as fobj:
        text = fobj.read()
    return parse_yaml(text, shown_as or path)


def _describe(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):
        # "expected a single document in the stream, but found another document"
        problem = f"{context}, {problem}"
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(problem)

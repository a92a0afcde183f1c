"""Reading scenario files: YAML with line numbers, ``extends`` chains, and clear errors.

The schema lives in :mod:`simulation.scenario`; this module turns a file into a validated
:class:`~simulation.scenario.Scenario`, and turns whatever goes wrong (a YAML syntax error, a
binary file, a pydantic validation error, a cross-field rule of the core) into one
:class:`~simulation.scenario.ScenarioError` that names the file, the line, the field path and
what is allowed.
"""

from __future__ import annotations

import stat
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from simulation.errors import ParameterError
from simulation.scenario import (
    MAX_BYTES,
    MAX_EXTENDS,
    MAX_NODES,
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    _FieldValueError,
    _suggest,
    parameter_paths,
    scenario_names,
)

# --- loading ---------------------------------------------------------------------------------

_EMPTY = "is empty; a scenario needs at least title, description, teaches, questions and firms"

@dataclass(frozen=True)
class _Document:
    """One parsed YAML file: its data and the line of every field path in it."""

    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str | int, ...], int]


def resolve(name_or_path: str | Path, base: Path | None = None) -> Path:
    """The file a scenario name or path refers to.

    A name (no ``/``, no ``.yaml``) is looked for beside ``base`` first, then among the
    shipped scenarios; a path is taken relative to ``base`` (or the working directory).

    Raises:
        ScenarioError: nothing of that name exists.

    """
    text = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml"))
    if is_path:
        path = Path(text)
        if not path.is_absolute() and base is not None:
            path = base / path
        if path.is_file():
            return path
        if path.is_dir():
            raise ScenarioError(text, "is a folder; give a scenario file (.yaml) or a name")
        raise ScenarioError(text, "is not a regular file" if path.exists() else "no such file")
    for folder in ([base] if base is not None else []) + [SCENARIO_DIR]:
        candidate = folder / f"{text}.yaml"
        if candidate.is_file():
            return candidate
    names = scenario_names()
    raise ScenarioError(text, f"no scenario of that name{_suggest(text, names)}; "
                        f"shipped scenarios are {', '.join(names)}")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Args:
        name_or_path: a shipped scenario's name (``turbulent-market``) or a file path.

    Raises:
        ScenarioError: anything wrong with the file, with its path, line and field.

    """
    path = resolve(name_or_path)
    chain = _load_chain(path)
    merged: dict[str, Any] = {}
    for doc in reversed(chain):
        if "questions" in doc.data and "answered_by" not in doc.data:
            merged.pop("answered_by", None)  # new questions: the old answers do not fit them
        merged = _merge(merged, doc.data)
    merged.pop("extends", None)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise _to_scenario_error(exc, chain) from None
    except RecursionError:
        raise ScenarioError(str(path), "is nested too deeply to be a scenario") from None
    try:
        scenario.to_params()
    except ParameterError as exc:
        loc = _param_to_loc(exc.field)
        doc, line = _locate(chain, loc)
        raise ScenarioError(str(doc.path), str(exc).split(": ", 1)[-1], _dotted(loc),
                            line) from None
    return scenario


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as YAML text (no ``extends``); for tests and the app."""
    doc = _parse(text.encode("utf-8") if isinstance(text, str) else text, Path(source))
    if "extends" in doc.data:
        raise ScenarioError(source, "extends needs a file to be relative to", "extends",
                            doc.lines.get(("extends",)))
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        raise _to_scenario_error(exc, [doc]) from None
    return scenario


def _load_chain(path: Path) -> list[_Document]:
    """The file and every file it extends, child first; checks for missing and cycles."""
    chain: list[_Document] = []
    seen: list[Path] = []
    while True:
        real = path.resolve()
        if real in seen:
            cycle = " -> ".join(p.name for p in [*seen, real])
            last = chain[-1]
            raise ScenarioError(str(last.path), f"circular extends: {cycle}", "extends",
                                last.lines.get(("extends",)))
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError(str(path), f"extends more than {MAX_EXTENDS} files deep")
        seen.append(real)
        doc = _read(path)
        chain.append(doc)
        parent = doc.data.get("extends")
        if parent is None:
            return chain
        line = doc.lines.get(("extends",))
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(str(path), f"{parent!r} is not a scenario name or file",
                                "extends", line)
        try:
            path = resolve(parent, base=path.parent)
        except ScenarioError as exc:
            raise ScenarioError(str(doc.path), f"{parent!r}: {exc.reason}", "extends",
                                line) from None


def read_yaml_file(path: str | Path, *, what: str, empty: str) -> tuple[dict[str, Any],
                                                                         dict[tuple[str | int,
                                                                                    ...], int]]:
    """Read a YAML mapping with the same safeguards as a scenario file (for experiment specs).

    Only a regular file is read, at most :data:`MAX_BYTES` of it; duplicate keys, alias
    bombs, deep nesting, huge whole numbers and non-UTF-8 text are refused. ``what`` names
    the kind of file in messages, ``empty`` is the message for an empty file.

    Returns:
        The mapping and the 1-based line of every field path in it.

    Raises:
        ScenarioError: anything wrong with the file, naming it (and the line when known).

    """
    doc = _read(Path(path), what=what, empty=empty)
    return doc.data, doc.lines


def _read(path: Path, *, what: str = "scenario", empty: str = _EMPTY) -> _Document:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would hang, /dev/zero never end
            raise ScenarioError(str(path), f"is not a regular file; give a {what} file")
        if info.st_size > MAX_BYTES:
            raise ScenarioError(str(path), f"is {info.st_size:,} bytes; a {what} file is at "
                                f"most {MAX_BYTES:,} bytes")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)  # bounded even if the file grows meanwhile
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return _parse(raw, path, what=what, empty=empty)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _parse(raw: bytes, path: Path, *, what: str = "scenario",
           empty: str = _EMPTY) -> _Document:
    """Parse YAML bytes into a mapping and a line table; every failure is a ScenarioError."""
    source = str(path)
    if len(raw) > MAX_BYTES:
        raise ScenarioError(source, f"is {len(raw):,} bytes; a {what} file is at most "
                            f"{MAX_BYTES:,} bytes")
    if raw.startswith(_UTF16_BOMS):
        raise ScenarioError(source, "is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw:
        raise ScenarioError(source, "is a binary file, not a YAML text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(source, "is not UTF-8 text (a binary file?); save it as UTF-8 "
                            "YAML", line=line) from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#")
                               for ln in text.splitlines()):
        raise ScenarioError(source, empty)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: binary data, mostly
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(source, f"is not a YAML text file: character #x{exc.character:04x} "
                            "is not allowed", line=line) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(source, empty)
        lines = _line_table(node, source, what)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ScenarioError(source, f"is not valid YAML: {what}",
                            line=mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, f"is not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(source, f"is nested too deeply to be a {what}") from None
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError(source, empty)
    if not isinstance(data, dict):
        raise ScenarioError(source, f"must be a mapping of fields (title: ..., firms: ...), "
                            f"not {_kind(data)}", line=1)
    for key in data:
        if not isinstance(key, str):
            raise ScenarioError(source, f"{key!r} is not a field name (field names are "
                                "words)", line=lines.get((key,)))
    return _Document(path, data, lines)


MAX_DIGITS = 30
"""Longest whole number (in digits) a file may hold; a model parameter needs far fewer."""


def _line_table(root: yaml.Node, source: str,
                what: str = "scenario") -> dict[tuple[str | int, ...], int]:
    """Map each field path to its 1-based line; reject duplicate keys and absurd sizes."""
    lines: dict[tuple[str | int, ...], int] = {}
    count = 0
    stack: list[tuple[yaml.Node, tuple[str | int, ...], int]] = [(root, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > 64:
            raise ScenarioError(source, f"is too large or too deeply nested to be a {what} "
                                f"(more than {MAX_NODES:,} values or 64 levels)")
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int" \
                and len(node.value) > MAX_DIGITS:
            raise ScenarioError(source, f"a whole number of {len(node.value):,} digits is too "
                                f"large (at most {MAX_DIGITS})", _dotted(path),
                                node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key: Any = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key == "<<":
                    stack.append((value_node, path, depth + 1))
                    continue
                if key is not None:
                    if key in seen:
                        raise ScenarioError(source, "is written twice; remove one",
                                            _dotted((*path, key)), key_node.start_mark.line + 1)
                    seen.add(key)
                    lines[(*path, key)] = key_node.start_mark.line + 1
                    stack.append((value_node, (*path, key), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                stack.append((item, (*path, i), depth + 1))
    return lines


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Child over base: mappings merge key by key, anything else (lists too) is replaced."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --- error messages --------------------------------------------------------------------------

_KINDS = {"float": "a number", "int": "a whole number", "str": "text", "string": "text",
          "bool": "true or false", "list": "a list", "dict": "a mapping"}


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {bool: "true/false", int: "a whole number", float: "a number", str: "text",
            list: "a list", dict: "a mapping"}.get(type(value), f"a {type(value).__name__}")


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:  # a key that is not a plain word is quoted, so a message stays one line
            name = part if part.replace("-", "_").isidentifier() else repr(part)
            out += f".{name}" if out else name
    return out or "(top level)"


def _locate(chain: list[_Document], loc: tuple[str | int, ...]) -> tuple[_Document, int | None]:
    """The file (child first) that writes the longest prefix of ``loc``, and its line."""
    for cut in range(len(loc), 0, -1):
        for doc in chain:
            if loc[:cut] in doc.lines:
                return doc, doc.lines[loc[:cut]]
    return chain[0], None


def _field_at(loc: tuple[str | int, ...], root: type[BaseModel] = Scenario,
              ) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the last field of ``loc``, and that field's info.

    A key of a mapping field (``levers.price`` in a spec) is skipped like a list index.
    """
    model: type[BaseModel] | None = root
    info: FieldInfo | None = None
    keyed = False
    for i, part in enumerate(loc):
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        if model is None or part not in model.model_fields:
            return model, None
        info = model.model_fields[part]
        holder = model
        model = _inner_model(info.annotation)
        keyed = model is not None and _is_mapping(info.annotation)
        if i == len(loc) - 1:
            return holder, info
    return model, info


def _is_mapping(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict or any(
        typing.get_origin(arg) is dict for arg in typing.get_args(annotation))


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _bounds(info: FieldInfo | None) -> str:
    if info is None:
        return ""
    low = high = None
    for meta in _all_metadata(info):
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    return "" if low is None or high is None else f"[{low:g}, {high:g}]"


def _all_metadata(info: FieldInfo) -> Iterator[Any]:
    yield from info.metadata
    stack = [info.annotation]
    while stack:
        ann = stack.pop()
        for meta in getattr(ann, "__metadata__", ()):
            yield from meta.metadata if isinstance(meta, FieldInfo) else (meta,)
        stack.extend(typing.get_args(ann))


def _to_scenario_error(exc: ValidationError, chain: list[_Document],
                       root: type[BaseModel] = Scenario) -> ScenarioError:
    """One error naming every mistake of the file in line order, a line each.

    Each line gives the file, line, field path and what is allowed; the error's ``field``
    and ``line`` are those of the first mistake.
    """
    errors = [_describe(err, chain, root) for err in exc.errors(include_url=False)]
    errors.sort(key=lambda e: (e.source, e.line if e.line is not None else 10**9))
    unique = list(dict.fromkeys(str(e) for e in errors))
    first = errors[0]
    if len(unique) > 1:
        first.args = ("\n".join(unique),)
    return first


def describe_validation_error(exc: ValidationError, source: str,
                              lines: dict[tuple[str | int, ...], int],
                              root: type[BaseModel]) -> str:
    """Every mistake pydantic found in a file validated against ``root``, a line each.

    The same wording as a scenario's errors (file, line, field, what is allowed, "did you
    mean"), in line order; for other files of the project, such as experiment specs.
    """
    doc = _Document(Path(source), {}, lines)
    text = str(_to_scenario_error(exc, [doc], root))
    return text.replace(": (top level): ", ": ")


def _describe(err: Any, chain: list[_Document], root: type[BaseModel]) -> ScenarioError:
    """One clear message from one pydantic error: file, line, field path, what is allowed."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("#")))
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    holder, info = _field_at(loc, root)
    if kind == "value_error" and isinstance(ctx.get("error"), _FieldValueError):
        inner: _FieldValueError = ctx["error"]
        loc = loc + inner.loc
        message = inner.message
    elif kind == "extra_forbidden":
        allowed = list(holder.model_fields) if holder is not None else []
        if holder is Scenario and root is Scenario:
            allowed.insert(0, "extends")
        message = (f"unknown field{_suggest(loc[-1] if loc else '', allowed) or ';'} "
                   f"allowed here: {', '.join(allowed)}")
    elif kind == "missing":
        message = "is required" + (f" ({info.description})" if info and info.description
                                   else "")
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = _bounds(info) if info is not None and not isinstance(loc[-1], int) else ""
        limit = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        message = (f"{value!r} is outside {bounds}" if bounds
                   else f"{value!r} {err['msg'].lower().replace('input should be ', 'must be ')}"
                   if limit is not None else f"{value!r} is out of range")
    elif kind == "finite_number":
        bounds = _bounds(info)
        message = f"{value!r} is not a finite number" + (f"; allowed: {bounds}" if bounds
                                                         else "")
    elif kind == "literal_error":
        options = [o.strip(" '") for o in str(ctx.get("expected", "")).replace(" or ", ",")
                   .split(",") if o.strip(" '")]
        message = (f"{value!r} is not allowed{_suggest(value, options)}; allowed: "
                   f"{', '.join(options)}").replace("? ; allowed", "?; allowed")
    elif kind.endswith(("_type", "_parsing")) or kind in ("int_from_float", "model_type",
                                                          "dict_type", "list_type"):
        want = _KINDS.get(kind.split("_")[0], err["msg"].removeprefix("Input should be "))
        if kind in ("model_type", "dict_type", "model_attributes_type"):
            want = "a mapping of fields"
        bounds = _bounds(info) if loc and not isinstance(loc[-1], int) else ""
        message = f"{_show(value)} is {_kind(value)}; expected {want}" + (
            f" in {bounds}" if bounds else "")
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        message = (err["msg"].replace(" after validation", "").replace("List should", "must")
                   .replace("String should", "must").replace("Value should", "must"))
    elif kind == "value_error":
        message = err["msg"].removeprefix("Value error, ")
    elif kind == "invalid_key":
        message = f"{value!r} is not a field name (field names are words)"
    else:
        message = err["msg"]
    doc, line = _locate(chain, loc)
    return ScenarioError(str(doc.path), message, _dotted(loc), line)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_PARAM_PATHS: dict[str, tuple[str | int, ...]] = parameter_paths()
"""Model parameter -> scenario field, derived from the schema's field metadata."""


def _param_to_loc(field: str) -> tuple[str | int, ...]:
    """Translate a model parameter path (``segment_specs[1].ideal``) to a scenario path."""
    head, _, rest = field.partition("[")
    head = head.split(".")[0]
    if head in ("segment_specs", "firms") and rest:
        index = int(rest.split("]")[0])
        tail = tuple(p for p in rest.split("]", 1)[1].split(".") if p)
        tail = tuple(p.split("[")[0] for p in tail)
        base: tuple[str | int, ...] = ("market", "segments") if head == "segment_specs" \
            else ("firms",)
        return (*base, index, *tail)
    return _PARAM_PATHS.get(head, (head,))


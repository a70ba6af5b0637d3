"""Reading report.json fields with errors that name the field: the validator behind `Report.from_json`."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.errors import UsageError

_MISSING = object()


class ReportError(UsageError):
    """report.json is damaged or was written by another schema version; the message names the field."""


def require_schema(data: Any, version: int) -> None:
    """Refuse anything that is not a report of exactly `version`, saying how to get one."""
    if not isinstance(data, Mapping):
        raise ReportError(f"report: expected a JSON object, got {type(data).__name__}")
    found = data.get("schema_version", _MISSING)
    if found is _MISSING:
        raise ReportError("report.schema_version: missing")
    if found != version:
        raise ReportError(f"report.schema_version is {found!r}, this harness reads version {version}; "
                          "re-run the command to write a current report")


class Reader:
    """Typed access to the fields of one JSON object at `where` (e.g. `report.stages[3].findings[0]`)."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, Mapping):
            raise ReportError(f"{where}: expected a JSON object, got {type(data).__name__}")
        self.data, self.where = data, where

    def _get(self, name: str, default: Any, optional: bool) -> Any:
        if name in self.data:
            return self.data[name]
        if default is not _MISSING or optional:
            return None if default is _MISSING else default
        raise ReportError(f"{self.where}.{name}: missing")

    def _fail(self, name: str, wanted: str, value: Any) -> ReportError:
        return ReportError(f"{self.where}.{name}: expected {wanted}, got {type(value).__name__} {value!r:.60}")

    def any(self, name: str) -> Any:
        return self.data.get(name)

    def str(self, name: str, default: Any = _MISSING, optional: bool = False) -> Any:
        value = self._get(name, default, optional)
        if value is None and (optional or default is None):
            return None
        if not isinstance(value, str):
            raise self._fail(name, "a string", value)
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.str(name)
        if value not in choices:
            raise ReportError(f"{self.where}.{name}: {value!r} is not one of {', '.join(choices)}")
        return value

    def bool(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default, False)
        if not isinstance(value, bool):
            raise self._fail(name, "true or false", value)
        return value

    def number(self, name: str, optional: bool = False) -> float | None:
        value = self._get(name, _MISSING, optional)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(name, "a number", value)
        return float(value)

    def mapping(self, name: str, default: Any = _MISSING, optional: bool = False) -> Any:
        value = self._get(name, default, optional)
        if value is None and optional:
            return None
        if not isinstance(value, Mapping):
            raise self._fail(name, "a JSON object", value)
        return value

    def list(self, name: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(name, default, False)
        if not isinstance(value, list):
            raise self._fail(name, "a list", value)
        return value

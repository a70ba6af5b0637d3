"""Plugin manager factory and a typed facade over the registration hooks.

Loading order: built-ins; entry points of group `harness` (unless HARNESS_DISABLE_PLUGIN_AUTOLOAD=1);
then each `-p MODULE` or `-p path/to/file.py`. `-p no:NAME` blocks a plugin by name. A fresh
manager is built per run and per worker; nothing is registered at import time.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, Iterable, TypeVar

import pluggy

from harness import hookspecs
from harness.derive import PipelineVariant, resolve_variants
from harness.errors import PluginError, UsageError
from harness.records import CheckSpec, HypothesisSpec, PipelineSpec, ReporterSpec

PROJECT = "harness"
ENTRY_POINT_GROUP = "harness"
AUTOLOAD_ENV = "HARNESS_DISABLE_PLUGIN_AUTOLOAD"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "harness.builtins",
)
"""Built-in plugin modules, loaded first; a built-in that fails to import is an error."""

OPTIONAL_BUILTINS: tuple[str, ...] = (
    "pipelines.dose_legacy.plugin",
    "pipelines.sim_lines.plugin",
    "plugins.checks.normalization",
    "plugins.checks.offsets",
    "plugins.checks.amplitude",
    "plugins.checks.inference",
    "plugins.checks.expected",
    "plugins.checks.consistency",
    "plugins.reporters.console",
    "plugins.reporters.json_report",
    "plugins.reporters.markdown",
    "plugins.reporters.figures",
    "plugins.reporters.junit",
    "plugins.reporters.html",
)
"""Built-ins shipped by the project that are present only once written; absent modules are skipped."""

EXTRA_BUILTINS: dict[str, tuple[str, str]] = {
    "plugins.oracle.plugin": ("PtyLab", "oracle"),
}
"""Built-ins that need an optional extra: module -> (the package it imports, the extra that installs it).
Without the package the module is skipped, not an error, and `LoadedPlugins.skipped` says which extra to install."""

TOLERANT_BUILTIN_PACKAGES: tuple[str, ...] = (
    "plugins.hypotheses",
)
"""Packages whose every module is a built-in plugin that may fail: an import error becomes a warning."""


@dataclass(frozen=True)
class PluginOptions:
    """Which plugins to load beyond the built-ins; picklable so workers rebuild the same manager."""

    extra: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    autoload: bool | None = None

    @classmethod
    def from_cli(cls, values: Iterable[str]) -> "PluginOptions":
        """Split `-p` values into plugins to load and `no:NAME` plugins to block."""
        extra, blocked = [], []
        for value in values:
            (blocked.append(value[3:]) if value.startswith("no:") else extra.append(value))
        return cls(extra=tuple(extra), blocked=tuple(blocked))

    def autoload_enabled(self) -> bool:
        if self.autoload is not None:
            return self.autoload
        return os.environ.get(AUTOLOAD_ENV, "") not in ("1", "true", "yes")


@dataclass
class LoadedPlugins:
    """A plugin manager plus where each plugin came from and what failed to load."""

    pm: pluggy.PluginManager
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    blocked: tuple[str, ...] = ()


def new_plugin_manager() -> pluggy.PluginManager:
    """A bare manager that knows the harness hook specifications."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(options: PluginOptions = PluginOptions()) -> LoadedPlugins:
    """Build a fresh manager with built-ins, entry points and `-p` plugins, honouring blocks."""
    loaded = LoadedPlugins(pm=new_plugin_manager(), blocked=tuple(options.blocked))
    for name in options.blocked:
        loaded.pm.set_blocked(name)
    for module_name in BUILTIN_PLUGINS:
        _register(loaded, importlib.import_module(module_name), module_name, "built-in")
    for module_name in OPTIONAL_BUILTINS:
        if importlib.util.find_spec(module_name.rpartition(".")[0]) is None:
            continue
        if importlib.util.find_spec(module_name) is None:
            continue
        _register(loaded, importlib.import_module(module_name), module_name, "built-in")
    for module_name, (package, extra) in EXTRA_BUILTINS.items():
        if importlib.util.find_spec(package) is None:
            loaded.skipped.append(f"{module_name}: {package} is not installed; pip install '.[{extra}]' to enable it")
        elif not loaded.pm.is_blocked(module_name):
            _register(loaded, importlib.import_module(module_name), module_name, "built-in")
    for module_name in _package_modules(TOLERANT_BUILTIN_PACKAGES):
        if loaded.pm.is_blocked(module_name):
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # one broken hypothesis must not stop the others
            loaded.warnings.append(f"built-in plugin {module_name!r} failed to import and was skipped: {_brief(exc)}")
            continue
        _register(loaded, module, module_name, "built-in")
    if options.autoload_enabled():
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if loaded.pm.is_blocked(entry_point.name):
                continue
            source = f"entry point {entry_point.name} ({entry_point.value})"
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a broken third-party plugin must not stop the run
                loaded.warnings.append(f"plugin {entry_point.name!r} from {source} failed to import and was skipped: {_brief(exc)}")
                continue
            _register(loaded, plugin, entry_point.name, source)
    for spec in options.extra:
        name, plugin, source = _import_cli_plugin(spec, loaded)
        if plugin is not None and not loaded.pm.is_blocked(name):
            _register(loaded, plugin, name, source)
    return loaded


def _package_modules(packages: Iterable[str]) -> list[str]:
    """The modules of each package that exists, sorted by name."""
    names = []
    for package in packages:
        spec = importlib.util.find_spec(package) if importlib.util.find_spec(package.rpartition(".")[0]) else None
        if spec is not None and spec.submodule_search_locations:
            names += sorted(f"{package}.{info.name}" for info in pkgutil.iter_modules(spec.submodule_search_locations))
    return names


def _import_cli_plugin(spec: str, loaded: LoadedPlugins) -> tuple[str, ModuleType | None, str]:
    """Import `-p MODULE` or `-p path/to/file.py`; failures become warnings naming the plugin."""
    is_path = spec.endswith(".py") or os.sep in spec
    name = Path(spec).stem if is_path else spec
    source = f"-p {spec}"
    try:
        if is_path:
            path = Path(spec).resolve()
            if not path.is_file():
                raise UsageError(f"plugin file {spec!r} does not exist")
            module_name = f"harness_user_plugin_{name}"
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
            return name, module, source
        return name, importlib.import_module(spec), source
    except UsageError:
        raise
    except Exception as exc:
        loaded.warnings.append(f"plugin {name!r} from {source} failed to import and was skipped: {_brief(exc)}")
        return name, None, source


def _register(loaded: LoadedPlugins, plugin: Any, name: str, source: str) -> None:
    if loaded.pm.is_blocked(name):
        return
    if name in loaded.sources:
        raise PluginError(f"duplicate plugin name {name!r}: from {loaded.sources[name]} and from {source}")
    loaded.pm.register(plugin, name=name)
    loaded.sources[name] = source


def _brief(exc: BaseException) -> str:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last


T = TypeVar("T")


@dataclass(frozen=True)
class Registered(Generic[T]):
    """A registered record with the plugin it came from."""

    record: T
    source: str


class Registry:
    """Typed facade over the registration hooks: records by name, each with its source plugin."""

    def __init__(self, loaded: LoadedPlugins):
        self.loaded = loaded
        self.pm = loaded.pm
        self.pipelines: dict[str, Registered[PipelineSpec]] = resolve_registered(
            self._collect(self.pm.hook.harness_register_pipelines, (PipelineSpec, PipelineVariant), "pipeline")
        )
        self._checks: dict[str, Registered[CheckSpec]] | None = None
        self.pm.hook.harness_check_registry(registry=self)
        self._hypotheses: dict[str, Registered[HypothesisSpec]] | None = None
        self._reporters: dict[str, Registered[ReporterSpec]] | None = None

    @property
    def checks(self) -> dict[str, Registered[CheckSpec]]:
        if self._checks is None:
            checks = self._collect(self.pm.hook.harness_register_checks, CheckSpec, "check")
            for registered in checks.values():
                check_known_breaks(registered, self.pipelines, bool(self.loaded.blocked))
            self._checks = checks
        return self._checks

    @property
    def hypotheses(self) -> dict[str, Registered[HypothesisSpec]]:
        if self._hypotheses is None:
            self._hypotheses = self._collect(
                self.pm.hook.harness_register_hypotheses, HypothesisSpec, "hypothesis", tolerant=True
            )
        return self._hypotheses

    @property
    def reporters(self) -> dict[str, Registered[ReporterSpec]]:
        if self._reporters is None:
            self._reporters = self._collect(self.pm.hook.harness_register_reporters, ReporterSpec, "reporter")
        return self._reporters

    def pipeline(self, name: str) -> PipelineSpec:
        """The pipeline of that name; an unknown name lists the valid ones."""
        try:
            return self.pipelines[name].record
        except KeyError:
            raise UsageError(
                f"unknown pipeline {name!r}; valid pipelines: {', '.join(sorted(self.pipelines)) or '(none registered)'}"
            ) from None

    def _collect(self, hook: Any, kind: type | tuple[type, ...], label: str, tolerant: bool = False) -> dict[str, Registered[Any]]:
        """Call each implementation separately so every record keeps its source; sort by name."""
        found: dict[str, Registered[Any]] = {}
        plural = "hypotheses" if label == "hypothesis" else f"{label}s"
        for impl in hook.get_hookimpls():
            source = self.loaded.sources.get(impl.plugin_name, impl.plugin_name)
            try:
                records = list(impl.function() or ())
                for record in records:
                    if not isinstance(record, kind):
                        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
                        raise PluginError(f"{label} hook of {source} returned {type(record).__name__}, not {wanted}")
            except PluginError:
                if not tolerant:
                    raise
                self.loaded.warnings.append(f"{plural} of plugin {source} were skipped: {traceback.format_exc(limit=1).strip().splitlines()[-1]}")
                continue
            except Exception as exc:
                if not tolerant:
                    raise PluginError(f"plugin {source} failed while registering {plural}: {_brief(exc)}") from exc
                self.loaded.warnings.append(f"{plural} of plugin {source} were skipped: {_brief(exc)}")
                continue
            for record in records:
                name = record.name
                if name in found:
                    raise PluginError(f"duplicate {label} {name!r}: from {found[name].source} and from {source}")
                found[name] = Registered(record, source)
        return dict(sorted(found.items(), key=lambda item: natural_key(item[0])))


def check_known_breaks(registered: Registered[CheckSpec], pipelines: dict[str, Registered[PipelineSpec]],
                       some_blocked: bool) -> None:
    """Every knob a check lists as a known break is a registered knob, and every value a valid one of it.

    A renamed knob would otherwise turn a known break into an unlabelled new one. When a plugin is
    blocked (`-p no:NAME`) its knobs are unknown here, so an unknown knob is then tolerated.
    """
    check = registered.record
    for knob, values in check.known_breaks.items():
        owners = [r.record for r in pipelines.values() if knob in r.record.knobs]
        if not owners and not some_blocked:
            known = sorted({name for r in pipelines.values() for name in r.record.knobs})
            raise PluginError(f"check {check.id} (from {registered.source}) lists known break knob {knob!r}, which no "
                              f"registered pipeline has; knobs: {', '.join(known) or '(none)'}")
        for pipeline in owners:
            spec = pipeline.knobs[knob]
            for value in values:
                if not spec.accepts(knob, value):
                    choices = ", ".join(spec.choices or ()) or f"any {type(spec.default).__name__}"
                    raise PluginError(f"check {check.id} (from {registered.source}) lists known break {knob}={value!r}, "
                                      f"not a value of {pipeline.name}'s knob; valid values: {choices}")


def resolve_registered(found: dict[str, Registered[Any]]) -> dict[str, Registered[PipelineSpec]]:
    """Pipelines with every derived variant resolved against its base, each keeping its own source."""
    specs = {name: r.record for name, r in found.items() if isinstance(r.record, PipelineSpec)}
    variants = {name: r.record for name, r in found.items() if isinstance(r.record, PipelineVariant)}
    resolved = resolve_variants(specs, variants)
    return {name: Registered(resolved[name], found[name].source) for name in found}


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: N-9 before N-10, O-7a before O-7b."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def build_registry(options: PluginOptions = PluginOptions()) -> Registry:
    """Load plugins and collect their records in one call (the CLI's entry point)."""
    return Registry(load_plugins(options))


__all__ = [
    "PluginOptions",
    "LoadedPlugins",
    "Registry",
    "Registered",
    "load_plugins",
    "build_registry",
    "new_plugin_manager",
]

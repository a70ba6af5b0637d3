"""Deriving pipelines through the public API, conventions, and what the registry refuses when it loads."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import CheckResult, CheckSpec, Knob, PipelineSpec, StageSpec, derive, hookimpl
from harness.errors import PluginError
from harness.manager import PluginOptions, Registry, load_plugins
from plugins.checks.conventions import CONVENTIONS

ROOT = Path(__file__).resolve().parents[2]


def registry_with(*plugins: Any, blocked: tuple[str, ...] = ()) -> Registry:
    """The built-ins plus in-memory plugin objects, as the host builds it."""
    loaded = load_plugins(PluginOptions(autoload=False, blocked=blocked))
    for index, plugin in enumerate(plugins):
        loaded.pm.register(plugin, name=f"test-plugin-{index}")
    return Registry(loaded)


class Variants:
    """A plugin returning the given records from harness_register_pipelines."""

    def __init__(self, *records: Any):
        self.records = records

    @hookimpl
    def harness_register_pipelines(self) -> list[Any]:
        return list(self.records)


def doubled_normalize(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """sim_lines normalize with twice the gain."""
    out = dict(base(ctx, **inputs))
    out["X.train"] = out["X.train"] * 2
    return out


def test_a_variant_keeps_the_base_stages_knobs_scenarios_and_conventions_and_records_its_base() -> None:
    registry = registry_with(Variants(derive("sim_lines", "sl_2x", stages={"normalize": doubled_normalize},
                                             knobs={"nepochs": "5", "extra": Knob(1.5, stages=("scale",))},
                                             conventions={"amplitude_tolerance": 0.1})))
    base, variant = registry.pipeline("sim_lines"), registry.pipeline("sl_2x")
    assert variant.base == "sim_lines" and base.base is None
    assert [s.name for s in variant.stages] == [s.name for s in base.stages]
    replaced = variant.stage("normalize")
    assert replaced.func is not base.stage("normalize").func
    assert (replaced.inputs, replaced.outputs) == (base.stage("normalize").inputs, base.stage("normalize").outputs)
    assert replaced.description == "sim_lines normalize with twice the gain."
    assert all(variant.stage(s.name) is s for s in base.stages if s.name != "normalize")
    assert variant.knobs["nepochs"].default == "5" and variant.knobs["nepochs"].choices == base.knobs["nepochs"].choices
    assert variant.knobs["extra"].stages == ("scale",)
    assert variant.scenarios == base.scenarios and variant.profiles == base.profiles
    assert variant.conventions == {**base.conventions, "amplitude_tolerance": 0.1}


def test_a_variant_of_a_variant_resolves_in_any_registration_order() -> None:
    registry = registry_with(Variants(derive("sl_a", "sl_b", conventions={"scan": "grid_regions"}),
                                      derive("sim_lines", "sl_a", stages={"normalize": doubled_normalize})))
    assert registry.pipeline("sl_b").base == "sl_a"
    assert registry.pipeline("sl_b").stage("normalize").func is registry.pipeline("sl_a").stage("normalize").func
    assert registry.pipeline("sl_b").conventions["scan"] == "grid_regions"


@pytest.mark.parametrize("record, message", [
    (derive("no_such", "v"), "derives from 'no_such', which is not registered; registered pipelines: dose_legacy"),
    (derive("sim_lines", "v", stages={"evaluat": doubled_normalize}), "cannot replace stage 'evaluat'"),
    (derive("sim_lines", "v", knobs={"combine": "square"}), "pipeline 'v': invalid value 'square' for knob 'combine'; valid values: polar, rect"),
    (derive("sim_lines", "v", stages={"normalize": 3}), "must be a function or a StageSpec"),
])
def test_a_variant_that_cannot_resolve_says_why(record: Any, message: str) -> None:
    with pytest.raises(PluginError, match=message.replace("(", r"\(").replace(")", r"\)")):
        registry_with(Variants(record))


def test_variants_that_derive_from_each_other_are_a_cycle() -> None:
    with pytest.raises(PluginError, match="cycle"):
        registry_with(Variants(derive("v2", "v1"), derive("v1", "v2")))


def config(ctx: Any) -> dict[str, Any]:
    return {"config": {}}


def probe_needs_size(ctx: Any, config: Any, size: int) -> dict[str, Any]:
    return {"probe": size}


def test_a_stage_whose_parameters_its_inputs_cannot_feed_fails_at_registration_naming_both() -> None:
    with pytest.raises(PluginError, match=r"stage 'probe'.*probe_needs_size.*missing a required argument: 'size'"):
        PipelineSpec("p", (StageSpec("config", config, outputs=("config",)),
                           StageSpec("probe", probe_needs_size, inputs=("config",), outputs=("probe",))))
    with pytest.raises(PluginError, match=r"stage 'probe'.*unexpected keyword argument 'config'"):
        PipelineSpec("p", (StageSpec("config", config, outputs=("config",)),
                           StageSpec("probe", config, inputs=("config",), outputs=("probe",))))


def test_a_replacement_stage_is_bound_against_the_base_inputs_too() -> None:
    def normalize(ctx: Any, diffraction_grouped_train: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(PluginError, match=r"stage 'normalize'.*unexpected keyword argument"):
        registry_with(Variants(derive("sim_lines", "v", stages={"normalize": normalize})))


class CheckPlugin:
    def __init__(self, check: CheckSpec):
        self.check = check

    @hookimpl
    def harness_register_checks(self) -> list[CheckSpec]:
        return [self.check]


def passing(inp: Any) -> CheckResult:
    return CheckResult(1, 1, 0, True, "ok")


@pytest.mark.parametrize("breaks, message", [
    ({"intensity_scal": ("dataset_raw",)}, "known break knob 'intensity_scal', which no registered pipeline has"),
    ({"intensity_scale": ("dataset_rawish",)}, "known break intensity_scale='dataset_rawish'"),
    ({"nphotons": ("-3",)}, "known break nphotons='-3'"),
])
def test_a_known_break_must_name_a_registered_knob_and_a_valid_value(breaks: dict, message: str) -> None:
    check = CheckSpec("T-1", "normalization", "scale", "error", passing, known_breaks=breaks)
    with pytest.raises(PluginError, match=message):
        registry_with(CheckPlugin(check)).checks


def test_known_break_values_match_however_they_are_written() -> None:
    check = CheckSpec("T-1", "offsets", "group", "error", passing,
                      known_breaks={"local_offset_sign": (1,), "reassembly_norm_eps": (0.0,), "nphotons": (1e4,)})
    assert "T-1" in registry_with(CheckPlugin(check)).checks


def test_an_unknown_known_break_knob_is_tolerated_when_a_pipeline_is_blocked() -> None:
    check = CheckSpec("T-1", "normalization", "scale", "error", passing, known_breaks={"not_here": ("x",)})
    assert "T-1" in registry_with(CheckPlugin(check), blocked=("pipelines.sim_lines.plugin",)).checks


class RegistryAudit:
    """Refuses a registry that lacks a pipeline it refers to."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def harness_check_registry(self, registry: Registry) -> None:
        self.seen = sorted(registry.pipelines)
        if "wave_a" not in registry.pipelines:
            raise PluginError("this plugin's data file refers to pipeline 'wave_a', which is not registered")


def test_harness_check_registry_fires_once_the_pipelines_are_resolved_and_can_refuse() -> None:
    audit = RegistryAudit()
    with pytest.raises(PluginError, match="refers to pipeline 'wave_a'"):
        registry_with(audit, Variants(derive("sim_lines", "v")))
    assert audit.seen == ["dose_legacy", "sim_lines", "v"]


def test_the_expected_divergence_registry_names_known_conventions_and_knobs(tmp_path: Path, monkeypatch) -> None:
    from plugins.checks import expected

    entries = expected.load_registry()
    assert entries and all(set(e.because) <= set(CONVENTIONS) for e in entries)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[divergence]]\nstage = "scale"\nartifacts = ["x"]\nbecause = ["scaling"]\nreason = "r"\nspec = "1"\n')
    with pytest.raises(PluginError, match="unknown convention 'scaling'"):
        expected.load_registry(bad)
    bad.write_text('[[divergence]]\nstage = "scale"\nartifacts = ["x"]\nbecause = ["scan"]\nreason = "r"\nspec = "1"\n'
                   'when = { eraa = "study" }\n')
    monkeypatch.setattr(expected, "registry_entries", lambda: expected.load_registry(bad))
    with pytest.raises(PluginError, match="unknown knob 'eraa'"):
        registry_with()
    bad.write_text('[[divergence]]\nstage = "scale"\nartifacts = ["x"]\nbecause = ["scan"]\nreason = "r"\nspec = "1"\n'
                   'when = { era = "studdy" }\n')
    with pytest.raises(PluginError, match="invalid value 'studdy' for knob 'era'"):
        registry_with()


def test_every_convention_is_documented_for_plugin_authors() -> None:
    text = (ROOT / "docs" / "plugin_hooks.md").read_text()
    assert all(f"| `{name}` |" in text for name in CONVENTIONS)


def test_the_reference_pipelines_declare_every_convention_with_a_known_value() -> None:
    registry = registry_with()
    for name in ("dose_legacy", "sim_lines"):
        spec = registry.pipeline(name)
        assert set(spec.conventions) == set(CONVENTIONS), name
        from harness.conventions import resolve_conventions
        values = resolve_conventions(spec, {k: v.default for k, v in spec.knobs.items()})
        for key, value in values.items():
            known = CONVENTIONS[key][1]
            assert value in known or str(value) in known or known == ("a number",), (name, key, value)


def test_the_documented_variant_plugin_runs_as_written(harness_cli, tmp_path: Path) -> None:
    import json
    import re

    text = (ROOT / "docs" / "plugin_hooks.md").read_text()
    code = re.search(r"## Deriving a pipeline.*?```python\n(.*?)```", text, re.S).group(1)
    plugin = tmp_path / "double_gain.py"
    plugin.write_text(code)
    result = harness_cli("diff", "--a", "sim_lines", "--b", "sim_lines_double_gain", "-p", str(plugin),
                         "--stage", "normalize", "--out", "doc")
    assert result.exit_code == 1, result.output
    report = json.loads(Path("doc/report.json").read_text())
    first = report["categories"]["normalization"]
    assert (first["stage"], first["check"]) == ("normalize", "relation:X.train")
    assert "B = 2.000000 × A" in first["explanation"]
    assert any(f["check"] == "N-8" and f["status"] == "fail" for e in report["stages"] for f in e["findings"])


def test_a_variant_reuses_its_base_cache_for_the_stages_it_did_not_replace(harness_cli, tmp_path: Path) -> None:
    import json

    sample = ROOT / "tests" / "harness" / "sample_pipelines.py"
    variant = tmp_path / "wave_variant.py"
    variant.write_text(
        "from harness import derive, hookimpl\n\n"
        "def normalize(ctx, base, **inputs):\n"
        "    out = dict(base(ctx, **inputs))\n"
        "    out['X'] = out['X'] * 3\n"
        "    return out\n\n"
        "@hookimpl\n"
        "def harness_register_pipelines():\n"
        "    return [derive('wave_a', 'wave_a3', stages={'normalize': normalize})]\n")
    assert harness_cli("run", "wave_a", "-p", str(sample), "--out", "base").exit_code == 0
    ran = harness_cli("run", "wave_a3", "-p", str(sample), "-p", str(variant), "--out", "variant")
    assert ran.exit_code == 0, ran.output
    statuses = {e["stage"]: e["sides"]["a"]["status"] for e in json.loads(Path("variant/report.json").read_text())["stages"]}
    assert statuses == {"config": "cached", "probe": "cached", "simulate": "cached", "normalize": "ok"}

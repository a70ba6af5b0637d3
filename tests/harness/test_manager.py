"""Plugin loading: order, entry points, `-p` files and modules, blocking, duplicates, broken plugins."""
from __future__ import annotations

import sys
import textwrap

import pytest

from harness.errors import PluginError
from harness.manager import PluginOptions, Registry, load_plugins


def write_distribution(root, name: str, entry_points: dict[str, str]) -> None:
    """A minimal installed distribution on sys.path that advertises `harness` entry points."""
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[harness]\n{lines}\n")


PIPELINE_PLUGIN = textwrap.dedent(
    """
    from harness import PipelineSpec, StageSpec, hookimpl

    def config(ctx):
        return {"config": {"source": __name__}}

    @hookimpl
    def harness_register_pipelines():
        return [PipelineSpec(name="NAME", stages=[StageSpec("config", config, outputs=("config",))])]
    """
)


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(("ep_good", "ep_broken"))]:
        del sys.modules[name]


def test_builtins_then_entry_points_then_cli_plugins(site, sample_plugin):
    (site / "ep_good.py").write_text(PIPELINE_PLUGIN.replace("NAME", "from_entry_point"))
    write_distribution(site, "ep_good_dist", {"good": "ep_good"})
    loaded = load_plugins(PluginOptions(extra=(sample_plugin,), autoload=True))
    names = list(loaded.sources)
    assert names[0] == "harness.builtins"
    assert names.index("good") < names.index("sample_pipelines")
    assert loaded.sources["good"].startswith("entry point good")
    registry = Registry(loaded)
    assert registry.pipelines["from_entry_point"].source.startswith("entry point good")
    assert registry.pipelines["wave_a"].source == f"-p {sample_plugin}"


def test_broken_entry_point_is_skipped_with_a_warning_naming_it(site):
    (site / "ep_broken.py").write_text("raise ImportError('no module named flux_capacitor')\n")
    write_distribution(site, "ep_broken_dist", {"broken": "ep_broken"})
    loaded = load_plugins(PluginOptions(autoload=True))
    assert "broken" not in loaded.sources
    assert any("'broken'" in w and "flux_capacitor" in w for w in loaded.warnings)


def test_autoload_can_be_disabled_by_environment(site, monkeypatch):
    (site / "ep_good.py").write_text(PIPELINE_PLUGIN.replace("NAME", "from_entry_point"))
    write_distribution(site, "ep_good_dist", {"good": "ep_good"})
    monkeypatch.setenv("HARNESS_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert "good" not in load_plugins(PluginOptions()).sources


def test_cli_plugin_can_be_blocked_by_name(sample_plugin):
    loaded = load_plugins(PluginOptions.from_cli((sample_plugin, "no:sample_pipelines")))
    assert "sample_pipelines" not in loaded.sources
    assert "wave_a" not in Registry(loaded).pipelines
    assert "plugins.reporters.console" not in load_plugins(PluginOptions.from_cli(("no:plugins.reporters.console",))).sources


def test_duplicate_pipeline_names_fail_naming_both_sources(tmp_path, sample_plugin):
    copy = tmp_path / "second_copy.py"
    copy.write_text(open(sample_plugin).read())
    with pytest.raises(PluginError, match=r"duplicate pipeline 'wave_a': from -p .*sample_pipelines.py and from -p .*second_copy.py"):
        Registry(load_plugins(PluginOptions(extra=(sample_plugin, str(copy)), autoload=False)))


def test_duplicate_plugin_names_fail_naming_both_sources(tmp_path, sample_plugin):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "sample_pipelines.py").write_text("")
    with pytest.raises(PluginError, match="duplicate plugin name 'sample_pipelines'"):
        load_plugins(PluginOptions(extra=(sample_plugin, str(other / "sample_pipelines.py")), autoload=False))


def test_plugin_file_that_fails_to_import_is_a_warning(tmp_path):
    bad = tmp_path / "bad_hypothesis.py"
    bad.write_text("def broken(:\n")
    loaded = load_plugins(PluginOptions(extra=(str(bad),), autoload=False))
    assert any("bad_hypothesis" in w and "SyntaxError" in w for w in loaded.warnings)


def test_records_of_the_wrong_type_are_rejected(register_plugin, harness_manager):
    class Wrong:
        from harness import hookimpl

        @hookimpl
        def harness_register_pipelines(self):
            return ["not a pipeline"]

    harness_manager.pm.register(Wrong(), name="wrong")
    with pytest.raises(PluginError, match="returned str, not PipelineSpec"):
        Registry(harness_manager)

"""A user's pipeline that declares no conventions gets the checks whose inputs it has, and a report that
lists every other check with the reason it did not apply."""
from __future__ import annotations

import json
from pathlib import Path

PLUGIN = '''
import numpy as np
from harness import PipelineSpec, StageSpec, hookimpl

def config(ctx):
    return {"config": {"N": 32, "nphotons": 1e6}}

def probe(ctx, config):
    n = config["N"]
    grid = np.arange(n) - n / 2
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2 < (n / 4) ** 2).astype(np.complex64)
    return {"probe": disk, "probe_mask": disk.real > 0}

def simulate(ctx, config, probe):
    rng = ctx.rng("noise")
    patches = np.exp(1j * rng.uniform(0, 0.5, (16, 32, 32))).astype(np.complex64)
    psi = (patches * probe).astype(np.complex128)
    clean = np.abs(np.fft.fftshift(np.fft.fft2(psi, norm="ortho"), axes=(1, 2)))
    energy = (np.abs(psi) ** 2).sum(axis=(1, 2))
    s_sim = np.sqrt(config["nphotons"] / energy.mean())
    noisy = np.sqrt(rng.poisson((s_sim * clean) ** 2)) / s_sim
    return {"Y_obj": patches, "exit_energy": energy, "diffraction_clean": clean.astype(np.float32),
            "diffraction": noisy.astype(np.float32), "s_sim": float(s_sim)}

@hookimpl
def harness_register_pipelines():
    return [PipelineSpec("plain", (
        StageSpec("config", config, outputs=("config",)),
        StageSpec("probe", probe, inputs=("config",), outputs=("probe", "probe_mask")),
        StageSpec("simulate", simulate, inputs=("config", "probe"),
                  outputs=("Y_obj", "exit_energy", "diffraction_clean", "diffraction", "s_sim")),
    ))]
'''


def test_a_pipeline_without_conventions_gets_the_applicable_checks_and_the_reasons_for_the_rest(harness_cli, tmp_path):
    plugin = tmp_path / "plain.py"
    plugin.write_text(PLUGIN)
    result = harness_cli("run", "plain", "-p", str(plugin), "--out", "plain")
    assert result.exit_code == 0, result.output
    findings = {f["check"]: f for e in json.loads(Path("plain/report.json").read_text())["stages"] for f in e["findings"]}
    assert findings["N-5"]["status"] == "pass", "Parseval needs no convention"
    assert findings["N-7"]["status"] == "pass", "noisy and clean energies agree: no convention needed"
    assert findings["N-1"]["status"] == "n/a"
    assert "convention probe_normalisation undeclared by plain" in findings["N-1"]["explanation"]
    assert findings["N-6"]["status"] == "n/a" and "missing artifact object_role" in findings["N-6"]["explanation"]
    assert "missing artifact config_trace" in findings["N-0@config"]["explanation"]
    assert not any(f["status"] in ("fail", "error") for f in findings.values()), findings


VARIANT = '''
import numpy as np
from harness import derive, hookimpl

def louder(ctx, base, **inputs):
    out = dict(base(ctx, **inputs))
    out["diffraction"] = out["diffraction"] * np.float32(1.01)
    return out

@hookimpl
def harness_register_pipelines():
    return [derive("plain", "plain_louder", stages={"simulate": louder})]
'''


def test_a_variant_from_another_plugin_file_breaks_where_its_fault_is(harness_cli, tmp_path):
    (tmp_path / "plain.py").write_text(PLUGIN)
    (tmp_path / "louder.py").write_text(VARIANT)
    result = harness_cli("diff", "--a", "plain", "--b", "plain_louder", "-p", str(tmp_path / "plain.py"),
                         "-p", str(tmp_path / "louder.py"), "--out", "louder")
    assert result.exit_code == 1, result.output
    report = json.loads(Path("louder/report.json").read_text())
    assert (report["first_break"]["stage"], report["first_break"]["category"]) == ("simulate", "normalization")
    n7 = next(f for e in report["stages"] for f in e["findings"] if f["check"] == "N-7" and f["side"] == "b")
    assert n7["status"] == "fail" and n7["measured"] > 1.01

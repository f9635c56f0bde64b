"""Kernels started from .venv get CurveZMQ keys, so ipykernel does not warn about plain TCP.

`make install` points .venv's ``python3`` kernelspec at the provisioner of
``tools/kernel/nnbook_kernel.py``. These tests run a notebook the way the build does (an nbclient
``NotebookClient``, as myst-nb, jupyter-cache and nbmake use) in a separate process and read
what the kernel printed to stderr; the control runs the same notebook on a copy of ipykernel's
plain kernelspec, where the warning must appear (otherwise the check could not fail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from nnbook_kernel import KERNEL_NAME, PROVISIONER_NAME, install, kernelspec_dir

WARNING = "Kernel is running over TCP without encryption"

#: Executes a one-cell notebook on kernel sys.argv[1]; prints its output and the connection info.
RUN_NOTEBOOK = """
import json, sys
import nbclient, nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
nb.metadata["kernelspec"] = {"name": sys.argv[1], "display_name": "k", "language": "python"}
seen = {}
def started(**kwargs):
    info = json.load(open(client.km.connection_file))
    seen.update(curve="curve_publickey" in info, provisioner=type(client.km.provisioner).__name__)
client = nbclient.NotebookClient(nb, timeout=120, on_notebook_start=started)
client.execute()
print(json.dumps({"output": nb.cells[0].outputs[0]["text"], **seen}))
"""


def run_notebook(kernel: str, env: dict | None = None) -> tuple[dict, str]:
    proc = subprocess.run(
        [sys.executable, "-c", RUN_NOTEBOOK, kernel],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_the_environment_kernelspec_names_the_provisioner():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == PROVISIONER_NAME, (
        f"{spec.resource_dir}: run `make install` (it installs the provisioner's kernelspec)"
    )
    assert "curve" in spec.metadata["supported_encryption"]


def test_a_notebook_runs_encrypted_and_without_the_warning():
    result, stderr = run_notebook(KERNEL_NAME)
    assert result["output"] == "42\n"
    assert result["provisioner"] == "CurveProvisioner"
    assert result["curve"], "the connection file carries no CurveZMQ key"
    assert WARNING not in stderr


def test_the_plain_kernelspec_warns(tmp_path):
    """Control: ipykernel's own kernelspec, without the provisioner, prints the warning."""
    spec = json.loads((kernelspec_dir() / "kernel.json").read_text())
    spec["metadata"].pop("kernel_provisioner", None)
    plain = tmp_path / "kernels" / "plain-python"
    plain.mkdir(parents=True)
    (plain / "kernel.json").write_text(json.dumps(spec))
    result, stderr = run_notebook("plain-python", env={"JUPYTER_PATH": str(tmp_path)})
    assert result["output"] == "42\n" and not result["curve"]
    assert WARNING in stderr


def test_install_writes_ipykernel_spec_with_the_provisioner(tmp_path):
    path = install(prefix=tmp_path)
    spec = json.loads((path / "kernel.json").read_text())
    assert path == tmp_path / "share" / "jupyter" / "kernels" / KERNEL_NAME
    assert spec["argv"][1:3] == ["-m", "ipykernel_launcher"]
    assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == PROVISIONER_NAME
    assert install(prefix=tmp_path) == path  # idempotent
    assert json.loads((path / "kernel.json").read_text()) == spec


@pytest.mark.parametrize("target", ["book", "page", "test", "pdf"])
def test_make_runs_builds_with_the_provisioner_installed(root, target):
    """Every target that runs notebooks depends on the install step that sets the kernelspec."""
    out = subprocess.run(
        ["make", "-n", "-B", target, "PAGES=chapters/ch01_universal_approximation"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "-m nnbook_kernel" in out.stdout

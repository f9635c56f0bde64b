"""Kernels with encrypted transport for the book's environment, without configuring clients.

ipykernel 7.4 warns at every start "Kernel is running over TCP without encryption" unless its
connection file carries CurveZMQ keys. jupyter_client 8.10 provisions them when the kernel
manager's ``transport_encryption`` is ``"auto"`` or ``"required"``; the default is
``"disabled"``. Jupyter servers read that setting from their configuration, but the clients
that run the book's notebooks (myst-nb through jupyter-cache, nbmake: each an nbclient
``NotebookClient``) create their kernel managers without any configuration to read.

What every client does read is the kernelspec. So ``python -m nnbook_kernel`` rewrites the
``python3`` kernelspec of this environment (``<sys.prefix>/share/jupyter/kernels/python3``,
seen only by this environment's Jupyter) to name :class:`CurveProvisioner`, registered under
the entry point ``nnbook-curve``. It is jupyter_client's ``LocalProvisioner`` with
``transport_encryption="auto"``: the manager makes a key pair, writes it into the connection
file, and its client sockets use it (ipykernel's kernelspec declares ``supported_encryption:
curve``).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.provisioning import LocalProvisioner

#: The entry-point name (group ``jupyter_client.kernel_provisioners``, see pyproject.toml).
PROVISIONER_NAME = "nnbook-curve"
KERNEL_NAME = "python3"


class CurveProvisioner(LocalProvisioner):
    """``LocalProvisioner`` whose kernels get CurveZMQ keys (when this pyzmq supports CURVE)."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        if zmq.has("curve"):
            kwargs.setdefault("transport_encryption", "auto")
        return await super().pre_launch(**kwargs)


def kernelspec_dir(prefix: str | Path = sys.prefix) -> Path:
    return Path(prefix, "share", "jupyter", "kernels", KERNEL_NAME)


def install(prefix: str | Path = sys.prefix) -> Path:
    """Make ``prefix``'s ``python3`` kernelspec (ipykernel's own) use :class:`CurveProvisioner`."""
    from ipykernel.kernelspec import write_kernel_spec

    path = kernelspec_dir(prefix)
    if not (path / "kernel.json").is_file():
        shutil.rmtree(path, ignore_errors=True)
        write_kernel_spec(path)
    spec = json.loads((path / "kernel.json").read_text())
    spec.setdefault("metadata", {})["kernel_provisioner"] = {
        "provisioner_name": PROVISIONER_NAME,
        "config": {},
    }
    (path / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(f"kernelspec {install()} now uses the {PROVISIONER_NAME} provisioner")

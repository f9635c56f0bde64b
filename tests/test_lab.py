"""`make lab`: JupyterLab in the book's environment, opened at the landing page.

The test starts `make lab` as a reader would (no browser, a free port, its own runtime and user
config folders so that nothing of the machine's Jupyter setup counts) and asks the server, over
its REST API, what a reader's browser would get: the landing page to open, the .md sources
served as notebooks (Jupytext) and opened as notebooks by default, and a kernel that imports
nnbook and runs without the "running over TCP without encryption" warning. Then it stops the
server it started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from nnbook_kernel import kernelspec_dir

TOKEN = "nnbook-test"
WARNING = "Kernel is running over TCP without encryption"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{base}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode()
    return json.loads(text) if text else {}


@pytest.fixture(scope="module")
def lab(root, tmp_path_factory):
    """`make lab` on a free port; yields (base URL, runtime folder, the server's output file)."""
    tmp = tmp_path_factory.mktemp("lab")
    port = free_port()
    spec = json.loads((kernelspec_dir() / "kernel.json").read_text())
    spec["metadata"].pop("kernel_provisioner")
    (tmp / "kernels" / "plain-python").mkdir(parents=True)
    (tmp / "kernels" / "plain-python" / "kernel.json").write_text(json.dumps(spec))
    log = tmp / "lab.log"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_PATH": str(tmp),  # the control's plain kernelspec
    }
    args = f"--no-browser --port {port} --ServerApp.port_retries=0 --IdentityProvider.token={TOKEN}"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole below
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                api(base, "/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make lab did not serve on {base}:\n{log.read_text()[-3000:]}")
                time.sleep(1)
        yield base, tmp / "runtime", log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_lab_opens_at_the_landing_page(lab):
    _, runtime, _ = lab
    pages = list(runtime.glob("jpserver-*-open.html"))
    assert pages, "the server wrote no page to open in a browser"
    assert any("/lab/tree/intro.md" in page.read_text() for page in pages)


def test_md_sources_are_notebooks_and_open_as_notebooks(lab):
    base, _, _ = lab
    settings = api(base, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers["markdown"] == "Jupytext Notebook"
    nb = api(base, "/api/contents/chapters/ch05_backpropagation.md?type=notebook")
    kinds = {c["cell_type"] for c in nb["content"]["cells"]}
    assert nb["type"] == "notebook" and kinds == {"code", "markdown"}
    tracker = api(base, "/lab/api/settings/@jupyterlab/notebook-extension:tracker")
    assert tracker["schema"]["properties"]["autoStartDefaultKernel"]["default"] is True


def run_code(base: str, kernel_id: str, code: str) -> str:
    """Execute ``code`` in a kernel through the server's websocket, as JupyterLab does."""
    import websocket  # websocket-client, a dependency of jupyter_server

    ws = websocket.create_connection(
        f"{base.replace('http', 'ws')}/api/kernels/{kernel_id}/channels?token={TOKEN}",
        timeout=120,
    )
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex}
    content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
    ws.send(
        json.dumps(
            {
                "header": {**header, "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {**content, "user_expressions": {}},
            }
        )
    )
    try:
        while True:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                if msg["msg_type"] == "stream":
                    return msg["content"]["text"]
                if msg["msg_type"] == "error":
                    raise AssertionError(msg["content"])
    finally:
        ws.close()


def run_kernel(base: str, log: Path, name: str) -> str:
    """Start kernel ``name``, run code in it, shut it down; return what the server logged."""
    before = len(log.read_text())
    kernel = api(base, "/api/kernels", "POST", {"name": name})
    try:
        assert run_code(base, kernel["id"], "import nnbook; print(6 * 7)") == "42\n"
    finally:
        api(base, f"/api/kernels/{kernel['id']}", "DELETE")
    time.sleep(0.5)
    return log.read_text()[before:]


def test_a_kernel_runs_without_the_tcp_warning(lab):
    base, _, log = lab
    assert WARNING not in run_kernel(base, log, "python3")


def test_a_kernel_without_the_provisioner_warns(lab):
    """Control: ipykernel's plain kernelspec, in the same server, prints the warning."""
    base, _, log = lab
    assert WARNING in run_kernel(base, log, "plain-python")

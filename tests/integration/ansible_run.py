"""Run a throw-away playbook against a test cluster and hand back its output."""
import os
import subprocess
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPO, ".venv", "bin")


def play(kube, tasks=None, roles=None, extra_args=(), check=False):
    """Run a one-play playbook on localhost; returns the CompletedProcess."""
    doc = [{"name": "test", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "tasks": tasks or [], "roles": roles or []}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, dir=os.path.join(REPO, ".build")) as fh:
        yaml.safe_dump(doc, fh)
        path = fh.name
    env = dict(os.environ, KUBECONFIG=kube.kubeconfig, K8S_AUTH_KUBECONFIG=kube.kubeconfig,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               PATH=VENV_BIN + os.pathsep + os.environ["PATH"])
    argv = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,",
            "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"), *extra_args, path]
    try:
        res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    finally:
        os.unlink(path)
    if check and res.returncode != 0:
        raise AssertionError(f"playbook failed:\n{res.stdout}\n{res.stderr}")
    return res

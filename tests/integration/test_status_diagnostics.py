"""playbooks/status.yml and playbooks/diagnostics.yml on a small converged stack (PostgreSQL only).

One pass: converge postgres through site.yml with a known password; status in
check mode says ready and changes nothing; after scaling the database to 0,
status fails naming it and says what is not installed; diagnostics writes an
archive with events, conditions and the Secret's keys, and the password
appears in no file of it.
"""
import base64
import json
import os
import subprocess
import tarfile
import uuid

from ansible_run import REPO, VENV_BIN  # pylint: disable=import-error

PASSWORD = "Known-Pw-" + uuid.uuid4().hex[:12]


def flat(text):
    return " ".join(text.split())


def playbook(kube, name, extra, *args, cwd=REPO):
    env = dict(os.environ, KUBECONFIG=kube.kubeconfig, K8S_AUTH_KUBECONFIG=kube.kubeconfig,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               PATH=VENV_BIN + os.pathsep + os.environ["PATH"])
    argv = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,",
            "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"), "-e", json.dumps(extra), *args,
            name]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def test_status_and_diagnostics(kube, tmp_path):
    ns = f"st-{uuid.uuid4().hex[:6]}"
    # A state record of its own, removed afterwards, so later runs on this cluster start without it.
    base = {"postgres_namespace": ns, "orchestrator_targets": ["postgres"], "orchestrator_state_configmap": "state-" + ns}
    try:
        res = playbook(kube, "playbooks/site.yml", dict(base, postgres_password=PASSWORD, postgres_wait_timeout=120))
        assert res.returncode == 0, res.stdout[-3000:]

        # Ready, read-only, the same in check mode; by its collection name too.
        res = playbook(kube, "rhdh.orchestrator.status", base, "--check")
        out = flat(res.stdout)
        assert res.returncode == 0, res.stdout[-3000:]
        assert f"postgres {ns} StatefulSet/sonataflow-psql-postgresql yes 15" in out
        assert f"postgres {ns} Service/sonataflow-psql-postgresql yes" in out
        assert "changed=0" in out

        # Broken: the database scaled to 0 fails the status and is named;
        # serverless, never installed, says so.
        kube.kubectl("scale", "statefulset", "sonataflow-psql-postgresql", "-n", ns, "--replicas=0")
        res = playbook(kube, "playbooks/status.yml", dict(base, orchestrator_targets=["postgres", "serverless"]))
        out = flat(res.stdout)
        assert res.returncode != 0, res.stdout[-3000:]
        assert f"postgres {ns} StatefulSet/sonataflow-psql-postgresql no 15 - scaled to 0 replicas" in out
        assert "serverless knative-operator, knative-serving, knative-eventing - no - - not installed" in out
        assert "Not ready or not as the RHDH release matrix expects: postgres, serverless" in out
        assert "changed=0" in out

        # Diagnostics: one archive, events and conditions in it, no Secret value.
        res = playbook(kube, "rhdh.orchestrator.diagnostics", dict(base, orchestrator_diagnostics_dir=str(tmp_path)))
        assert res.returncode == 0, res.stdout[-3000:]
        archives = list(tmp_path.glob("orchestrator-diagnostics-*.tar.gz"))
        assert len(archives) == 1, res.stdout[-2000:]
        with tarfile.open(archives[0]) as tar:
            files = dict((m.name.split("/", 1)[1], tar.extractfile(m).read().decode()) for m in tar.getmembers())
        assert {"status.txt", "conditions.txt", f"{ns}/events.txt", f"{ns}/secret.json", f"{ns}/statefulset.json"} <= set(files)
        assert "scaled to 0 replicas" in files["status.txt"]
        assert "SuccessfulCreate StatefulSet/sonataflow-psql-postgresql" in files[f"{ns}/events.txt"]
        assert f"PersistentVolumeClaim {ns}/data-sonataflow-psql-postgresql-0: phase Bound" in files["conditions.txt"]
        secrets = json.loads(files[f"{ns}/secret.json"])
        assert {"postgres-password": "<redacted>", "postgres-username": "<redacted>"} in [s["data"] for s in secrets]
        encoded = base64.b64encode(PASSWORD.encode()).decode()
        for name, text in files.items():
            assert PASSWORD not in text and encoded not in text, name
        assert PASSWORD not in res.stdout + res.stderr
    finally:
        kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        kube.kubectl("-n", "default", "delete", "configmap", "state-" + ns, "--ignore-not-found", check=False)

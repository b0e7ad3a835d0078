"""site.yml, plan.yml and uninstall.yml around the state record, on the part
of the stack that is quick to converge (postgres, and a Helm chart of the
user's that depends on it): what is recorded, a plan that changes nothing (the
rerun of the whole site is molecule's), a removal a finalizer holds, and a
removal that keeps what existed before and the data."""
import json
import os
import subprocess
import uuid

import pytest
from ansible_run import REPO, VENV_BIN  # pylint: disable=import-error

PASSWORD = "Lifecycle-" + uuid.uuid4().hex[:12]


def run(kube, playbook, *extra):
    env = dict(os.environ, KUBECONFIG=kube.kubeconfig, K8S_AUTH_KUBECONFIG=kube.kubeconfig,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               PATH=VENV_BIN + os.pathsep + os.environ["PATH"])
    argv = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,",
            "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"), os.path.join(REPO, playbook)]
    for item in extra:
        argv += ["-e", json.dumps(item) if isinstance(item, dict) else item]
    res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    return res.returncode, res.stdout + res.stderr


def recap(out):
    line = [x for x in out.splitlines() if x.startswith("localhost ")][-1]
    return dict(part.split("=") for part in line.split(":", 1)[1].split())


@pytest.fixture
def names(kube):
    suffix = uuid.uuid4().hex[:6]
    ns, cm = "wf-" + suffix, "state-" + suffix
    kube.kubectl("create", "namespace", ns)
    kube.kubectl("-n", ns, "create", "configmap", "users-own", "--from-literal=k=v")
    yield ns, cm
    kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)
    kube.kubectl("-n", "default", "delete", "configmap", cm, "--ignore-not-found", check=False)


def user_chart(tmp_path):
    """A chart of the user's: one ConfigMap holding a value."""
    chart = tmp_path / "my-app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: my-app\nversion: 0.1.0\n")
    (chart / "templates" / "config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '{{ .Release.Name }}-config'\n"
        "data:\n  greeting: '{{ .Values.greeting }}'\n")
    return str(chart)


def test_site_plan_uninstall_by_the_record(kube, names, helm_bin, tmp_path):
    ns, cm = names
    common = {"orchestrator_workflow_namespace": ns, "orchestrator_state_configmap": cm, "orchestrator_helm_binary": helm_bin,
              "orchestrator_components": [{"name": "my-app", "chart": user_chart(tmp_path), "namespace": ns,
                                           "depends_on": ["postgres"], "values": {"greeting": "hello"}}]}
    install = [common, {"orchestrator_targets": "my-app", "postgres_password": PASSWORD}]

    # A feature whose APIs the cluster lacks stops the run before any change.
    rc, out = run(kube, "playbooks/site.yml", common, {"orchestrator_gitops_enabled": "true", "orchestrator_targets": "gitops"})
    assert rc != 0 and "GitOps prerequisites missing" in out, out[-3000:]
    assert recap(out)["changed"] == "0"
    assert kube.kubectl("get", "namespace", "knative-serving", check=False).returncode != 0

    rc, out = run(kube, "playbooks/site.yml", *install)
    assert rc == 0, out[-3000:]
    assert PASSWORD not in out
    data = kube.json("-n", "default", "get", "configmap", cm)["data"]
    assert [c["name"] for c in json.loads(data["components"])] == ["postgres", "my-app"]
    assert kube.json("-n", ns, "get", "configmap", "my-app-config")["data"] == {"greeting": "hello"}
    assert json.loads(data["preexisting"])["namespaces"] == [ns]
    assert json.loads(data["inputs"])["orchestrator_workflow_namespace"] == ns
    assert "postgres_password" in json.loads(data["secret-inputs"]) and PASSWORD not in json.dumps(data)

    # A rerun leaving the record as it is: molecule's site scenario (idempotence).
    rc, out = run(kube, "playbooks/plan.yml", common, {"orchestrator_rhdh_namespace": "hub-" + ns})
    assert rc == 0 and recap(out)["changed"] == "0", out[-3000:]
    assert "New, would be installed: serverless, sonataflow, rhdh" in out
    assert "Installed, checked below for changes: postgres, my-app" in out
    assert f'Input changed since the record: orchestrator_rhdh_namespace: (not set) -> "hub-{ns}"' in out

    # A finalizer nobody removes: the removal names what holds it, within its timeout.
    kube.kubectl("-n", ns, "patch", "statefulset", "sonataflow-psql-postgresql", "--type", "merge",
                 "-p", '{"metadata":{"finalizers":["test.example/hold"]}}')
    kube.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "test-warning", "namespace": ns}, "type": "Warning",
        "involvedObject": {"kind": "Pod", "name": "some-pod", "namespace": ns}, "reason": "FailedMount",
        "message": "volume x", "lastTimestamp": "2026-11-26T01:00:00Z", "source": {"component": "kubelet"}}))
    rc, out = run(kube, "playbooks/uninstall.yml", {"orchestrator_state_configmap": cm, "orchestrator_wait_timeout": 5})
    assert rc != 0
    assert f"recent warnings: {ns} Pod/some-pod FailedMount: volume x" in " ".join(out.split())
    assert f"still there: StatefulSet {ns}/sonataflow-psql-postgresql: deleting since" in " ".join(out.split())
    assert "held by finalizers test.example/hold" in " ".join(out.split())
    assert json.loads(kube.json("-n", "default", "get", "configmap", cm)["data"]["components"])[0]["name"] == "postgres"
    assert kube.kubectl("-n", ns, "get", "configmap", "my-app-config", check=False).returncode != 0
    kube.kubectl("-n", ns, "patch", "statefulset", "sonataflow-psql-postgresql", "--type", "json",
                 "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')

    # The namespace comes from the record: uninstall is not told it again.
    rc, out = run(kube, "playbooks/uninstall.yml", {"orchestrator_state_configmap": cm})
    assert rc == 0, out[-3000:]
    assert kube.kubectl("-n", "default", "get", "configmap", cm, check=False).returncode != 0
    left = kube.json("-n", ns, "get", "statefulset,service,configmap,secret,pvc")["items"]
    assert sorted((o["kind"], o["metadata"]["name"]) for o in left if o["metadata"]["name"] != "kube-root-ca.crt") == [
        ("ConfigMap", "users-own"), ("PersistentVolumeClaim", "data-sonataflow-psql-postgresql-0"),
        ("Secret", "sonataflow-psql-postgresql")]

    rc, out = run(kube, "playbooks/uninstall.yml", {"orchestrator_state_configmap": cm})
    assert rc == 0 and "No state record ConfigMap" in out and recap(out)["changed"] == "0"

"""The workflows role on the plain flavour, with the real upstream greeting chart.

helm is the one tests/cluster/build makes (fixture helm_bin); the chart is
../shared/upstream/workflows/greeting, packaged and served on 127.0.0.1
(fixture chart_repo). The SonataFlow operator is the simulator (sim/sonataflow.py),
started by the stand-in operator manifest the cluster serves; no PostgreSQL runs:
the workflows only need the Secret, which the simulated pods reference.
"""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest
import yaml
from ansible_run import play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error
from testcluster import helm as helm_tools  # pylint: disable=import-error

MARKER = ("orchestrator.rhdh.redhat.com/installed-by", "rhdh.orchestrator")
SECRET = "sonataflow-psql-postgresql"


def _operator(kube, state):
    """The stand-in SonataFlow operator manifest (CRDs, namespace, Deployment) through the manifest module."""
    with open(os.path.join(kube.handle.dir, "manifests.json"), encoding="utf-8") as fh:
        path = json.load(fh)["sonataflow-operator"]["path"]
    task = {"rhdh.orchestrator.manifest": {
        "definitions": "{{ lookup('ansible.builtin.file', '" + path + "') | ansible.builtin.from_yaml_all | list }}",
        "state": state, "delete_namespaces": True}}
    if state == "present":
        wait = {"kubernetes.core.k8s_info": {
            "kind": "Deployment", "name": "sonataflow-operator-controller-manager",
            "namespace": "sonataflow-operator-system", "wait": True, "wait_condition": {"type": "Available"},
            "wait_timeout": 60}}
        return play(kube, tasks=[task, wait], check=True)
    return play(kube, tasks=[task])


def _secret(kube, ns):
    kube.kubectl("create", "secret", "generic", SECRET, "-n", ns,
                 "--from-literal=postgres-username=postgres", "--from-literal=postgres-password=not-used")


@pytest.fixture(scope="module")
def stage(kube, helm_bin, chart_repo):
    """The operator, a database namespace holding the Secret, and two workflow
    namespaces with their copy of it (one also with a ConfigMap of the user's)."""
    sfx = uuid.uuid4().hex[:6]
    ns = {"db": f"wfdb-{sfx}", "wf": f"wf-{sfx}", "wf2": f"wf2-{sfx}", "bare": f"wfbare-{sfx}"}
    saved = {k: os.environ.get(k) for k in chart_repo.env if k.startswith("HELM_")}
    os.environ.update({k: v for k, v in chart_repo.env.items() if k.startswith("HELM_")})
    _operator(kube, "present")
    for name in ns.values():
        kube.kubectl("create", "namespace", name)
    for name in ("db", "wf", "wf2"):
        _secret(kube, ns[name])
    kube.kubectl("create", "configmap", "user-data", "-n", ns["wf"], "--from-literal=answer=42")
    yield ns
    for name in ns.values():
        kube.kubectl("delete", "namespace", name, "--wait=false", check=False)
    _operator(kube, "absent")
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _vars(stage, helm_bin, chart_repo, **more):
    templates = os.path.join(helm_tools.greeting_chart(), "templates")
    workflows = [
        {"name": "greeting", "chart": chart_repo.chart, "repo_url": chart_repo.url, "version": chart_repo.version},
        {"name": "greeting", "namespace": stage["wf2"],
         "manifests": [os.path.join(templates, f) for f in sorted(os.listdir(templates))]},
    ]
    variables = {"workflows_list": workflows, "workflows_namespace": stage["wf"], "workflows_helm_binary": helm_bin,
                 "workflows_postgres_service_namespace": stage["db"], "workflows_wait_timeout": 60}
    variables.update(more)
    return variables


def _run(kube, variables, *extra):
    return play(kube, roles=[{"role": "rhdh.orchestrator.workflows", "vars": variables}], extra_args=list(extra))


def _releases(helm_bin, chart_repo, kube, ns):
    env = dict(chart_repo.env, KUBECONFIG=kube.kubeconfig)
    out = subprocess.run([helm_bin, "list", "-n", ns, "-o", "json"], capture_output=True, text=True, env=env,
                         check=True).stdout
    return {r["name"]: r for r in json.loads(out or "[]")}


def _flow(kube, ns, name="greeting"):
    res = kube.kubectl("get", "sonataflow", name, "-n", ns, "-o", "json", check=False)
    return json.loads(res.stdout) if res.returncode == 0 else None


def test_bad_version_and_missing_secret_fail_before_any_change(kube, stage, helm_bin, chart_repo):
    variables = _vars(stage, helm_bin, chart_repo)
    variables["workflows_list"][0]["version"] = "1.3.0"
    res = _run(kube, variables)
    assert res.returncode != 0
    assert ("workflows_list[0].version: chart greeting 1.3.0 of workflow greeting is not supported with RHDH 1.10 "
            "(supported: 1.6.x, 1.7.x)") in flat(res.stdout), res.stdout[-3000:]

    variables = _vars(stage, helm_bin, chart_repo, workflows_namespace=stage["bare"])
    res = _run(kube, variables)
    assert res.returncode != 0
    assert (f"Secret {SECRET} does not exist in namespace {stage['bare']}, where workflow greeting "
            "(workflows_list[0]) needs it") in flat(res.stdout), res.stdout[-3000:]
    assert "workflows_postgres_secret_name" in flat(res.stdout)
    # Nothing was installed anywhere: not the chart, not the manifests of the healthy entry.
    assert _releases(helm_bin, chart_repo, kube, stage["bare"]) == {}
    assert _flow(kube, stage["bare"]) is None and _flow(kube, stage["wf2"]) is None


def _newer_chart(tmp_path, helm_bin):
    """The upstream greeting chart as a next pre-release (version + "0") whose SonataFlow template hard-codes
    schema greeting_rc instead of greeting, served from its own loopback repository."""
    src, dst = helm_tools.greeting_chart(), tmp_path / "greeting"
    shutil.copytree(src, dst)
    chart = yaml.safe_load((dst / "Chart.yaml").read_text(encoding="utf-8"))
    chart["version"] = str(chart["version"]) + "0"
    (dst / "Chart.yaml").write_text(yaml.safe_dump(chart), encoding="utf-8")
    flow = next((dst / "templates").glob("*sonataflow*"))
    text = flow.read_text(encoding="utf-8")
    assert "databaseSchema: greeting\n" in text
    flow.write_text(text.replace("databaseSchema: greeting\n", "databaseSchema: greeting_rc\n"), encoding="utf-8")
    return helm_tools.ChartRepo(str(dst), helm_bin)


def _jdbc_url(kube, ns):
    dep = kube.json("get", "deployment", "greeting", "-n", ns)
    assert dep["status"].get("updatedReplicas") == dep["status"].get("availableReplicas") == 1
    env = {e["name"]: e.get("value") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    return env["QUARKUS_DATASOURCE_JDBC_URL"]


def test_greeting_converges_idempotent_check_mode_survives_upgrade_fails_fast_and_is_removed(
        kube, stage, helm_bin, chart_repo, tmp_path):
    """The chart workflow gets schema greeting_a (the chart hard-codes greeting), the manifests one
    the default schema, its name; both reach the database in another namespace."""
    variables = _vars(stage, helm_bin, chart_repo)
    variables["workflows_list"][0]["schema"] = "greeting_a"
    res = _run(kube, variables)
    assert res.returncode == 0, res.stdout[-5000:]

    flow = _flow(kube, stage["wf"])
    assert {c["type"]: c["status"] for c in flow["status"]["conditions"]}["Running"] == "True"
    assert flow["metadata"]["labels"][MARKER[0]] == MARKER[1]
    assert flow["spec"]["persistence"]["postgresql"] == {
        "secretRef": {"name": SECRET, "userKey": "postgres-username", "passwordKey": "postgres-password"},
        "serviceRef": {"name": SECRET, "namespace": stage["db"], "port": 5432, "databaseName": "sonataflow",
                       "databaseSchema": "greeting_a"}}
    release = _releases(helm_bin, chart_repo, kube, stage["wf"])["greeting"]
    assert (release["status"], release["chart"], release["revision"]) == \
        ("deployed", f"greeting-{chart_repo.version}", "1")
    # The wait ended once the operator had rolled the patched persistence out.
    assert _jdbc_url(kube, stage["wf"]) == \
        f"jdbc:postgresql://{SECRET}.{stage['db']}:5432/sonataflow?currentSchema=greeting_a"
    flow2 = _flow(kube, stage["wf2"])
    assert flow2["metadata"]["labels"][MARKER[0]] == MARKER[1]
    assert flow2["spec"]["persistence"]["postgresql"]["serviceRef"]["namespace"] == stage["db"]
    assert flow2["spec"]["persistence"]["postgresql"]["serviceRef"]["databaseSchema"] == "greeting"
    assert kube.json("get", "configmap", "greeting-props", "-n", stage["wf2"])["metadata"]["labels"][MARKER[0]]

    res = _run(kube, variables)
    assert res.returncode == 0 and "changed=0" in res.stdout, res.stdout[-5000:]
    res = _run(kube, variables, "--check", "--diff")
    assert res.returncode == 0 and "changed=0" in res.stdout, res.stdout[-5000:]

    # A new chart version that changes the schema it hard-codes: Helm's upgrade patch (old manifest -> new one)
    # writes that schema, and the same run sets greeting_a again. Meanwhile the manifests workflow's Deployment
    # cannot be made: its wait ends at once.
    newer = _newer_chart(tmp_path, helm_bin)
    key = f"sonataflow.{stage['wf2']}.greeting"
    kube.kubectl("create", "configmap", "simulator-faults", "-n", "kube-system", check=False)
    kube.kubectl("patch", "configmap", "simulator-faults", "-n", "kube-system", "--type=merge",
                 "-p", json.dumps({"data": {key: "never-ready"}}))
    try:
        started = time.monotonic()
        upgraded = dict(variables, workflows_list=[
            dict(variables["workflows_list"][0], repo_url=newer.url, version=newer.version),
            dict(variables["workflows_list"][1], timeout=45)])
        res = _run(kube, upgraded)
        took = time.monotonic() - started
    finally:
        newer.close()
        kube.kubectl("patch", "configmap", "simulator-faults", "-n", "kube-system", "--type=json",
                     "-p", json.dumps([{"op": "remove", "path": f"/data/{key}"}]), check=False)
    text = flat(res.stdout)
    assert res.returncode != 0
    assert f"SonataFlow {stage['wf2']}/greeting Running=False" in text, res.stdout[-3000:]
    assert "DeploymentFailure" in text and "timed out" not in text and took < 45
    release = _releases(helm_bin, chart_repo, kube, stage["wf"])["greeting"]
    assert (release["revision"], release["chart"]) == ("2", f"greeting-{newer.version}")
    patched = res.stdout.split("Set the workflow's persistence]", 1)[1].split("TASK [", 1)[0]
    assert "changed: [localhost]" in patched, res.stdout[-5000:]  # the upgrade had written greeting_rc
    flow = _flow(kube, stage["wf"])
    assert flow["spec"]["persistence"]["postgresql"]["serviceRef"]["databaseSchema"] == "greeting_a"
    assert flow["metadata"]["labels"][MARKER[0]] == MARKER[1]
    assert _jdbc_url(kube, stage["wf"]).endswith("currentSchema=greeting_a")

    res = _run(kube, dict(upgraded, workflows_state="absent"))
    assert res.returncode == 0, res.stdout[-5000:]
    assert _releases(helm_bin, chart_repo, kube, stage["wf"]) == {}
    assert _flow(kube, stage["wf"]) is None and _flow(kube, stage["wf2"]) is None
    for ns in (stage["wf"], stage["wf2"]):
        assert kube.kubectl("get", "configmap", "greeting-props", "-n", ns, check=False).returncode != 0
        assert kube.json("get", "secret", SECRET, "-n", ns)["metadata"]["name"] == SECRET
    assert kube.json("get", "configmap", "user-data", "-n", stage["wf"])["data"] == {"answer": "42"}

"""The SonataFlow workflow simulator, driven by the real greeting chart installed
with the project's helm from a loopback chart repository (no Ansible)."""
import copy
import json
import os
import subprocess
import time
import uuid

import pytest
import yaml

from kube_helpers import get, wait_for  # pylint: disable=import-error
from testcluster import crds
from testcluster.sim import sonataflow_model as m
from testcluster.sim.base import FAULT_ANNOTATION, FAULTS_CONFIGMAP, FAULTS_NAMESPACE

SECRET = "sonataflow-psql-postgresql"
CRDS = ["sonataflows.sonataflow.org", "sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org"]


def apply(kube, *docs):
    kube.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-",
                 stdin=yaml.safe_dump_all(docs))


def running(kube, ns):
    """Running condition of SonataFlow greeting as (status, reason, message), or None."""
    flow = get(kube, "sonataflow", "greeting", "-n", ns)
    cond = next((c for c in ((flow or {}).get("status") or {}).get("conditions") or [] if c["type"] == "Running"), None)
    return cond and (cond["status"], cond.get("reason", ""), cond.get("message", ""))


def helm(kube, helm_bin, repo, *args):
    res = subprocess.run([helm_bin, "--kubeconfig", kube.kubeconfig, *args], capture_output=True, text=True,
                         env=repo.env, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def install(kube, helm_bin, repo, ns):
    return helm(kube, helm_bin, repo, "install", "greeting", repo.chart, "--repo", repo.url, "--version", repo.version,
                "-n", ns)


def secret(ns):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET, "namespace": ns},
            "stringData": {"postgres-username": "postgres", "postgres-password": uuid.uuid4().hex}}


@pytest.fixture(scope="module")
def operator(kube):
    """The SonataFlow CRDs (installed when missing: the upstream set takes seconds
    to parse and apply) and an Available operator Deployment (what the simulator waits for)."""
    missing = [n for n in CRDS if kube.kubectl("get", "crd", n, check=False).returncode]
    if missing:
        kube.handle.install_crds(crds.load(missing))
    ns = f"wfsim-op-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", ns)
    labels = {"app": "sim-sonataflow-operator"}
    apply(kube, {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "sonataflow-operator-controller-manager", "namespace": ns},
                 "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
                     "metadata": {"labels": labels}, "spec": {"containers": [{"name": "manager", "image": "op:1"}]}}}})
    kube.kubectl("wait", "--for=condition=Available", "--timeout=60s", "deployment/sonataflow-operator-controller-manager",
                 "-n", ns)
    yield kube
    kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)


@pytest.fixture
def workflow_ns(operator):
    ns = f"wfsim-{uuid.uuid4().hex[:8]}"
    operator.kubectl("create", "namespace", ns)
    yield ns
    operator.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_greeting_chart_runs_with_its_database_and_goes_with_its_release(operator, helm_bin, chart_repo, workflow_ns):
    """helm install of the real chart beside the Postgres Secret and a platform with
    Data Index and Jobs Service: Running True, the owned Deployment/Service/ConfigMaps
    as upstream builds them, the PostgreSQL env; helm uninstall: the GC removes them."""
    kube, ns = operator, workflow_ns
    apply(kube, secret(ns), {"apiVersion": f"{m.GROUP}/{m.VERSION}", "kind": "SonataFlowPlatform",
                             "metadata": {"name": "sonataflow-platform", "namespace": ns},
                             "spec": {"services": {"dataIndex": {"enabled": True}, "jobService": {}}}})
    install(kube, helm_bin, chart_repo, ns)
    assert wait_for("greeting Running", lambda: running(kube, ns) == ("True", "", "")), running(kube, ns)
    flow = get(kube, "sonataflow", "greeting", "-n", ns)
    st = flow["status"]
    assert {c["type"]: (c["status"], c.get("reason")) for c in st["conditions"]} == {
        "Built": ("False", "BuildSkipped"), "Running": ("True", None)}
    assert st["observedGeneration"] == flow["metadata"]["generation"]
    assert st["platform"] == {"name": "sonataflow-platform", "namespace": ns}
    di, js = f"http://sonataflow-platform-data-index-service.{ns}", f"http://sonataflow-platform-jobs-service.{ns}"
    assert st["services"] == {"dataIndexRef": {"url": di}, "jobServiceRef": {"url": js}}
    owned = {"apiVersion": "sonataflow.org/v1alpha08", "kind": "SonataFlow", "name": "greeting",
             "uid": flow["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    dep = get(kube, "deployment", "greeting", "-n", ns)
    assert dep["metadata"]["ownerReferences"] == [owned]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert labels["sonataflow.org/workflow-app"] == "greeting" and labels["app.kubernetes.io/part-of"] == "sonataflow-platform"
    assert labels["app.kubernetes.io/managed-by"] == "sonataflow-operator"
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "workflow" and container["image"] == m.image(flow)
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env == {
        "QUARKUS_DATASOURCE_USERNAME": {"secretKeyRef": {"name": SECRET, "key": "postgres-username"}},
        "QUARKUS_DATASOURCE_PASSWORD": {"secretKeyRef": {"name": SECRET, "key": "postgres-password"}},
        "QUARKUS_DATASOURCE_DB_KIND": "postgresql", "KOGITO_PERSISTENCE_TYPE": "jdbc",
        "QUARKUS_DATASOURCE_JDBC_URL": f"jdbc:postgresql://{SECRET}.{ns}:5432/sonataflow?currentSchema=greeting"}
    assert {"name": "workflow-properties", "readOnly": True, "mountPath": "/deployments/config"} in container["volumeMounts"]
    svc = get(kube, "service", "greeting", "-n", ns)
    assert svc["metadata"]["ownerReferences"] == [owned]
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(80, 8080)]

    managed = get(kube, "configmap", "greeting-managed-props", "-n", ns)
    assert managed["metadata"]["ownerReferences"] == [owned]
    props = dict(line.split(" = ", 1) for line in managed["data"]["application-prod.properties"].splitlines())
    assert props["kogito.data-index.url"] == di and props["kogito.jobs-service.url"] == js
    assert props["mp.messaging.outgoing.kogito-processdefinitions-events.url"] == di + "/definitions"
    assert props["mp.messaging.outgoing.kogito-processinstances-events.url"] == di + "/processes"
    assert props["mp.messaging.outgoing.kogito-job-service-job-request-events.url"] == js + "/v2/jobs/events"
    assert props["kogito.service.url"] == f"http://greeting.{ns}" and props["quarkus.http.port"] == "8080"
    user = get(kube, "configmap", "greeting-props", "-n", ns)
    assert "kie.flyway.enabled" in user["data"]["application.properties"], "the chart's properties stay as they are"
    assert owned in user["metadata"]["ownerReferences"]
    assert user["metadata"]["annotations"]["meta.helm.sh/release-name"] == "greeting"

    helm(kube, helm_bin, chart_repo, "uninstall", "greeting", "-n", ns)
    owned_objects = (("deployment", "greeting"), ("service", "greeting"), ("configmap", "greeting-managed-props"))
    wait_for("owned objects gone", lambda: not any(get(kube, kind, name, "-n", ns) for kind, name in owned_objects))
    assert get(kube, "sonataflowplatform", "sonataflow-platform", "-n", ns), "the platform is not the workflow's"


def test_missing_secret_keeps_it_unavailable_until_the_secret_comes(operator, helm_bin, chart_repo, workflow_ns):
    """No platform and no Secret: the operator's default platform appears, no
    service URLs, and the pod waits CreateContainerConfigError, so Running stays
    False/DeploymentIsUnavailable; the Secret arriving starts it. Then fault never-ready."""
    kube, ns = operator, workflow_ns
    install(kube, helm_bin, chart_repo, ns)
    want = ("False", m.DEPLOYMENT_UNAVAILABLE, f'ContainerNotReady: (CreateContainerConfigError) secret "{SECRET}" not found')
    assert wait_for("greeting unavailable", lambda: running(kube, ns) == want), running(kube, ns)
    dep = get(kube, "deployment", "greeting", "-n", ns)
    assert dep["status"].get("availableReplicas", 0) == 0
    platform = get(kube, "sonataflowplatform", "sonataflow-platform", "-n", ns)
    assert platform["spec"]["build"]["config"]["strategy"] in ("operator", "platform")
    assert "services" not in get(kube, "sonataflow", "greeting", "-n", ns)["status"]
    time.sleep(2)
    assert running(kube, ns) == want, "never Running while the Secret is missing"

    apply(kube, secret(ns))
    assert wait_for("greeting Running", lambda: running(kube, ns) == ("True", "", "")), running(kube, ns)
    kube.kubectl("annotate", "sonataflow", "greeting", "-n", ns, f"{FAULT_ANNOTATION}=never-ready")
    assert wait_for("never-ready", lambda: (running(kube, ns) or ("",) * 3)[1] == m.DEPLOYMENT_FAILURE)
    kube.kubectl("annotate", "sonataflow", "greeting", "-n", ns, f"{FAULT_ANNOTATION}-")
    assert wait_for("greeting Running again", lambda: running(kube, ns) == ("True", "", ""))


def test_fault_deployment_unavailable(operator, helm_bin, chart_repo, workflow_ns):
    """Fault set before the release (the ConfigMap switch): the pods wait
    ImagePullBackOff, Running False/DeploymentIsUnavailable; cleared, it runs."""
    kube, ns = operator, workflow_ns
    key = f"sonataflow.{ns}.greeting"
    if kube.kubectl("get", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, check=False).returncode:
        kube.kubectl("create", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, check=False)
    kube.kubectl("patch", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, "--type=merge",
                 "-p", json.dumps({"data": {key: "deployment-unavailable"}}))
    try:
        apply(kube, secret(ns))
        install(kube, helm_bin, chart_repo, ns)
        assert wait_for("greeting unavailable", lambda: (running(kube, ns) or ("",) * 3)[2].startswith(
            "ContainerNotReady: (ImagePullBackOff) Back-off pulling image")), running(kube, ns)
        assert running(kube, ns)[:2] == ("False", m.DEPLOYMENT_UNAVAILABLE)
    finally:
        kube.kubectl("patch", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, "--type=json",
                     "-p", json.dumps([{"op": "remove", "path": f"/data/{key}"}]), check=False)
    assert wait_for("greeting Running", lambda: running(kube, ns) == ("True", "", "")), running(kube, ns)


def test_rendered_greeting_passes_strict_validation_against_upstream_crd(operator, helm_bin, chart_repo):
    """helm template of the chart; its SonataFlow against the upstream CRD
    (../shared/crds/sonataflow.org: the one the cluster serves when it loads the
    upstream set, else installed under a group of its own), server-side dry run
    with --validate=strict; a misspelt field is refused."""
    path = os.path.join(crds.UPSTREAM_DIR, "sonataflow.org", "sonataflow.org_sonataflows.yaml")
    if not os.path.isfile(path):
        pytest.skip(f"the upstream SonataFlow CRD ({path}) is not beside this checkout")
    with open(path, encoding="utf-8") as fh:
        upstream = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    kube, group, own = operator, m.GROUP, None
    if crds.source() != "upstream":
        group = "strict.sonataflow.test"
        own = copy.deepcopy(crds.sanitize(upstream))
        own["spec"]["group"] = group
        own["metadata"] = {"name": f"{own['spec']['names']['plural']}.{group}"}
        kube.handle.install_crds([own])
    docs = [d for d in yaml.safe_load_all(helm(kube, helm_bin, chart_repo, "template", "greeting", chart_repo.archive,
                                               "-n", "default")) if d]
    (flow,) = [d for d in docs if d["kind"] == "SonataFlow"]
    flow["apiVersion"] = f"{group}/{m.VERSION}"
    flow["metadata"]["namespace"] = "default"
    bad = copy.deepcopy(flow)
    bad["spec"]["podTemplate"]["container"]["imagee"] = "typo"
    try:
        for doc, ok in ((flow, True), (bad, False)):
            res = kube.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                               "--field-manager=strict-check", "-f", "-", stdin=json.dumps(doc), check=False)
            assert (res.returncode == 0) == ok, res.stderr
        assert ".spec.podTemplate.container.imagee: field not declared in schema" in res.stderr, res.stderr
    finally:
        if own:
            kube.kubectl("delete", "crd", own["metadata"]["name"], "--wait=false", check=False)


def test_kubelet_messages_and_inherited_persistence():
    """No cluster: the kubelet's message for a missing key, and persistence from
    the platform (schema the workflow name, namespace the workflow's)."""
    flow = {"metadata": {"name": "wf", "namespace": "ns1", "uid": "u"}, "spec": {"flow": {}}}
    platform = {"metadata": {"name": "p", "namespace": "ns1"}, "spec": {"persistence": {"postgresql": {
        "secretRef": {"name": "db", "userKey": "u"}, "serviceRef": {"name": "pg", "databaseName": "d"}}}}}
    env = {e["name"]: e for e in m.persistence_env(flow, platform)}
    assert env["QUARKUS_DATASOURCE_JDBC_URL"]["value"] == "jdbc:postgresql://pg.ns1:5432/d?currentSchema=wf"
    assert env["QUARKUS_DATASOURCE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "db", "key": "POSTGRESQL_PASSWORD"}
    spec = {"containers": [{"name": "workflow", "env": list(env.values())}]}
    assert m.config_error(spec, "ns1", lambda kind, name: {"u"}) == "couldn't find key POSTGRESQL_PASSWORD in Secret ns1/db"
    assert m.config_error(spec, "ns1", lambda kind, name: None) == 'secret "db" not found'
    assert m.persistence_env(dict(flow, spec={"persistence": {}}), platform) == [], "the workflow's own block wins"

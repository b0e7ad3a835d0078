"""OLM installs, the operator simulators' fault switches and the infra roles'
failure paths, on the openshift flavour (kubernetes flavour for manifests).

The happy paths (converge, idempotence, check mode, verify, removal) are the
molecule scenarios site and site_openshift.
"""
import json
import os
import time
import uuid

import pytest
import yaml
from ansible_run import REPO, play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

from testcluster import crds
from testcluster.sim.base import FAULTS_CONFIGMAP, FAULTS_NAMESPACE

OLM_MODULE = "rhdh.orchestrator.olm_operator"


def olm(**params):
    return [{"name": "olm", OLM_MODULE: params}]


def set_fault(cluster, key, value):
    patch = json.dumps({"data": {key: value}})
    if cluster.kubectl("get", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, check=False).returncode:
        cluster.kubectl("create", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE)
    cluster.kubectl("patch", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, "--type=merge", "-p", patch)


def clear_fault(cluster, key):
    cluster.kubectl("patch", "configmap", FAULTS_CONFIGMAP, "-n", FAULTS_NAMESPACE, "--type=json",
                    "-p", json.dumps([{"op": "remove", "path": f"/data/{key}"}]), check=False)


@pytest.fixture
def olm_namespace(openshift):
    ns = f"op-{uuid.uuid4().hex[:6]}"
    yield ns
    openshift.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_failed_csv_fails_fast_with_its_message(openshift, olm_namespace):
    set_fault(openshift, f"subscription.{olm_namespace}.serverless-operator", "csv-failed")
    try:
        started = time.monotonic()
        res = play(openshift, tasks=olm(package="serverless-operator", namespace=olm_namespace, channel="stable",
                                        wait_timeout=120))
        took = time.monotonic() - started
    finally:
        clear_fault(openshift, f"subscription.{olm_namespace}.serverless-operator")
    out = flat(res.stdout)
    assert res.returncode != 0
    assert f"ClusterServiceVersion {olm_namespace}/serverless-operator.v1.36.0 Failed" in out, out
    assert "InstallComponentFailed" in out and "simulated fault" in out
    assert took < 60, f"a Failed CSV must end the wait at once, not after the timeout ({took:.0f}s)"


def test_manual_install_plan_waits_unless_approval_is_asked(openshift, olm_namespace):
    params = dict(package="serverless-operator", namespace=olm_namespace, channel="stable",
                  install_plan_approval="Manual", wait_timeout=60)
    res = play(openshift, tasks=olm(**params))
    assert res.returncode != 0
    assert "waits for manual approval" in flat(res.stdout), res.stdout
    plans = openshift.json("get", "installplans", "-n", olm_namespace)["items"]
    assert [p["spec"]["approved"] for p in plans] == [False]
    assert not openshift.json("get", "csv", "-n", olm_namespace)["items"], "nothing installs before approval"

    res = play(openshift, tasks=olm(approve_install_plan=True, crds=["knativeservings.operator.knative.dev"],
                                    **params), extra_args=["-v"], check=True)
    assert "approved InstallPlan" in res.stdout
    sub = openshift.json("get", "subscriptions.operators.coreos.com", "serverless-operator", "-n", olm_namespace)
    assert sub["status"]["installedCSV"] == "serverless-operator.v1.36.0"
    assert openshift.json("get", "installplans", "-n", olm_namespace)["items"][0]["spec"]["approved"] is True


def test_unknown_package_fails_at_once_naming_the_subscription(openshift, olm_namespace):
    """OLM's ConstraintsNotSatisfiable is final: no point waiting out the timeout."""
    started = time.monotonic()
    res = play(openshift, tasks=olm(package="no-such-operator", namespace=olm_namespace, wait_timeout=120))
    out = flat(res.stdout)
    assert res.returncode != 0
    assert f"Subscription {olm_namespace}/no-such-operator" in out, out
    assert "ResolutionFailed (ConstraintsNotSatisfiable)" in out, out
    assert "no operators found in package no-such-operator" in out
    assert time.monotonic() - started < 60


def test_package_rename_replaces_the_old_subscription_and_keeps_the_platform(openshift, olm_namespace):
    ns = olm_namespace
    play(openshift, tasks=olm(package="logic-operator-rhel8", namespace=ns, channel="alpha",
                              crds=["sonataflowplatforms.sonataflow.org"]), check=True)
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "sonataflow.org/v1alpha08", "kind": "SonataFlowPlatform",
        "metadata": {"name": "sonataflow-platform", "namespace": ns}, "spec": {}}))
    before = openshift.json("get", "sonataflowplatform", "sonataflow-platform", "-n", ns)

    res = play(openshift, tasks=olm(package="logic-operator", namespace=ns, channel="stable",
                                    replaces=["logic-operator-rhel8"]), extra_args=["-v"], check=True)
    assert f"deleted Subscription {ns}/logic-operator-rhel8" in res.stdout
    assert f"deleted ClusterServiceVersion {ns}/logic-operator-rhel8.v1.36.0" in res.stdout
    subs = [s["metadata"]["name"] for s in openshift.json("get", "subscriptions.operators.coreos.com", "-n", ns)["items"]]
    csvs = [c["metadata"]["name"] for c in openshift.json("get", "csv", "-n", ns)["items"]]
    assert subs == ["logic-operator"] and csvs == ["logic-operator.v1.38.0"]
    after = openshift.json("get", "sonataflowplatform", "sonataflow-platform", "-n", ns)
    assert after["metadata"]["uid"] == before["metadata"]["uid"], "the platform must not be recreated"
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


def test_check_mode_installs_nothing(openshift, olm_namespace):
    res = play(openshift, tasks=olm(package="serverless-operator", namespace=olm_namespace), extra_args=["--check"],
               check=True)
    assert "changed=1" in res.stdout
    assert openshift.kubectl("get", "namespace", olm_namespace, check=False).returncode != 0


SERVERLESS = "rhdh.orchestrator.serverless"


def test_operator_removed_first_leaves_the_cr_stuck(openshift, olm_namespace):
    """Why removal order matters: the Knative finalizer needs its operator (the real one)."""
    ns = olm_namespace
    play(openshift, tasks=olm(package="serverless-operator", namespace=ns,
                              crds=["knativeservings.operator.knative.dev"]), check=True)
    openshift.kubectl("create", "namespace", "knative-serving", check=False)
    try:
        openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "operator.knative.dev/v1beta1", "kind": "KnativeServing",
            "metadata": {"name": "stuck", "namespace": "knative-serving"},
            "spec": {"ingress": {"kourier": {"enabled": True}}}}))
        openshift.kubectl("wait", "--for=condition=Ready", "knativeserving/stuck", "-n", "knative-serving",
                          "--timeout=90s")
        play(openshift, tasks=olm(state="absent", package="serverless-operator", namespace=ns), check=True)
        openshift.kubectl("wait", "--for=delete", "deployment/knative-openshift", "-n", ns, "--timeout=30s")
        openshift.kubectl("delete", "knativeserving", "stuck", "-n", "knative-serving", "--wait=false")
        time.sleep(3)
        cr = openshift.json("get", "knativeserving", "stuck", "-n", "knative-serving")
        assert cr["metadata"].get("deletionTimestamp") and cr["metadata"]["finalizers"]
        # The operator back: the finalizer runs and the CR goes.
        play(openshift, tasks=olm(package="serverless-operator", namespace=ns), check=True)
        openshift.kubectl("wait", "--for=delete", "knativeserving/stuck", "-n", "knative-serving", "--timeout=60s")
    finally:
        openshift.kubectl("delete", "namespace", "knative-serving", "--wait=false", check=False)


@pytest.mark.parametrize("role, variables, expected", [
    ("serverless", {"serverless_state": "gone"}, "serverless_state must be one of: present, absent"),
    ("serverless", {"serverless_wait_timeout": "soon"}, "serverless_wait_timeout"),
    ("serverless", {"serverless_kafka_broker_enabled": True},
     "serverless_kafka_bootstrap_servers is required when serverless_kafka_broker_enabled is true"),
    ("sonataflow", {"sonataflow_operator_install_plan_approval": "Sometimes"},
     "sonataflow_operator_install_plan_approval must be one of: Automatic, Manual"),
    ("sonataflow", {"sonataflow_namespace": "Not_A_Label"},
     "sonataflow_namespace must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'Not_A_Label')"),
    ("sonataflow", {"sonataflow_broker_name": "b"},
     "sonataflow_broker_name and sonataflow_broker_namespace go together: set both or neither"),
])
def test_bad_input_fails_before_any_change(openshift, role, variables, expected):
    def state():
        return {line for kind in ("namespaces", "subscriptions.operators.coreos.com", "knativeservings", "sonataflowplatforms")
                for line in openshift.kubectl("get", kind, "-A", "-o", "name").stdout.split()}
    before = state()
    res = play(openshift, roles=[{"role": f"rhdh.orchestrator.{role}", "vars": variables}])
    assert res.returncode != 0
    assert expected in flat(res.stdout), res.stdout
    # Nothing new (an earlier test's namespace may still be going away).
    assert not state() - before


def test_manifest_with_wrong_or_missing_checksum_is_refused(kube):
    with open(os.path.join(kube.handle.dir, "manifests.json"), encoding="utf-8") as fh:
        knative = json.load(fh)["knative-operator"]
    res = play(kube, roles=[{"role": SERVERLESS, "vars": {
        "serverless_k8s_operator_manifest_url": knative["url"],
        "serverless_k8s_operator_manifest_checksum": "sha256:" + "0" * 64}}])
    assert res.returncode != 0
    assert "The checksum for" in flat(res.stdout) and "did not match" in flat(res.stdout), res.stdout
    res = play(kube, roles=[{"role": SERVERLESS, "vars": {"serverless_k8s_operator_manifest_file": knative["path"]}}])
    assert res.returncode != 0
    assert "a release manifest needs a URL or a local file, and its checksum" in flat(res.stdout), res.stdout
    assert kube.kubectl("get", "deployment", "knative-operator", "-n", "knative-operator", check=False).returncode != 0


def _serverless_vars():
    with open(os.path.join(REPO, "roles", "serverless", "vars", "main.yml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_rendered_crs_pass_strict_validation_against_upstream_crds(openshift, tmp_path):
    """The SonataFlowPlatform, KnativeServing and KnativeEventing the roles
    render, with every optional block switched on, against the upstream CRDs
    (server-side dry run with --validate=strict: unknown fields are errors)."""
    if crds.source() != "upstream":
        pytest.skip("the upstream CRDs (../shared/crds) are not beside this checkout")
    names = ["sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org",
             "knativeservings.operator.knative.dev", "knativeeventings.operator.knative.dev",
             "brokers.eventing.knative.dev"]
    openshift.handle.install_crds(crds.load(names, "upstream"))
    out = tmp_path / "rendered.json"
    tasks = [
        {"name": "render", "ansible.builtin.copy": {"dest": str(out), "mode": "0600", "content": (
            "{{ ((lookup('ansible.builtin.template', roles + '/sonataflow/templates/platform.yml.j2')"
            " | ansible.builtin.from_yaml_all | list)"
            " + (lookup('ansible.builtin.template', roles + '/serverless/templates/knative.yml.j2')"
            " | ansible.builtin.from_yaml_all | list)) | to_json }}")},
         "vars": {
             "roles": os.path.join(REPO, "roles"), "__preflight_platform": "openshift",
             "__sonataflow_managed_by": "rhdh.orchestrator", "__serverless_managed_by": "rhdh.orchestrator",
             "__serverless_foreign": [],
             "__serverless_instances": [
                 # The role's Kourier ingress, as serverless/vars/main.yml writes it.
                 {"kind": "KnativeServing", "name": "knative-serving", "namespace": "knative-serving",
                  "spec": dict(_serverless_vars()["__serverless_ingress_specs"]["kourier"],
                               **{"high-availability": {"replicas": 2}})},
                 {"kind": "KnativeEventing", "name": "knative-eventing", "namespace": "knative-eventing",
                  "spec": {"defaultBrokerClass": "Kafka"}}],
             "sonataflow_namespace": "strict-wf", "sonataflow_platform_name": "sonataflow-platform",
             "sonataflow_broker_name": "kafka-broker", "sonataflow_broker_namespace": "knative-eventing",
             "sonataflow_monitoring_enabled": True, "sonataflow_cluster_platform_enabled": True,
             "sonataflow_cluster_platform_name": "strict-cluster-platform",
             "sonataflow_data_index_enabled": True, "sonataflow_jobs_service_enabled": True,
             "sonataflow_data_index_image": "example.test/di:1", "sonataflow_jobs_service_image": "example.test/js:1",
             "sonataflow_data_index_resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
             "sonataflow_jobs_service_resources": {"limits": {"cpu": "200m", "memory": "1Gi"}},
             "sonataflow_postgres_secret_name": "s", "sonataflow_postgres_user_key": "u",
             "sonataflow_postgres_password_key": "p", "sonataflow_postgres_service_name": "db",
             "sonataflow_postgres_service_namespace": "dbns", "sonataflow_postgres_port": 5432,
             "sonataflow_postgres_database": "sonataflow", "sonataflow_network_policies": True,
             "sonataflow_rhdh_namespace": "rhdh", "sonataflow_knative_namespaces": ["knative-eventing"],
             "sonataflow_operator_namespace": "openshift-serverless-logic",
             "sonataflow_k8s_operator_namespace": "x", "sonataflow_monitoring_namespace": "mon"}}]
    play(openshift, tasks=tasks, check=True)
    docs = json.loads(out.read_text())
    kinds = sorted(d["kind"] for d in docs)
    assert {"SonataFlowPlatform", "SonataFlowClusterPlatform", "KnativeServing", "KnativeEventing"} <= set(kinds)
    for doc in docs:
        if doc["kind"] == "Namespace":
            continue
        if doc["metadata"].get("namespace"):
            openshift.kubectl("create", "namespace", doc["metadata"]["namespace"], check=False)
        res = openshift.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                                "--field-manager=strict-check", "-f", "-", stdin=json.dumps(doc), check=False)
        assert res.returncode == 0, f"{doc['kind']}: {res.stderr}"
    # The check can fail: a misspelt field is refused.
    bad = dict(docs[[d["kind"] for d in docs].index("SonataFlowPlatform")])
    bad["spec"] = dict(bad["spec"], dataIndex={"enabled": True})
    res = openshift.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                            "--field-manager=strict-check", "-f", "-", stdin=json.dumps(bad), check=False)
    assert res.returncode != 0 and ".spec.dataIndex: field not declared in schema" in res.stderr, res.stderr
    for ns in ("knative-serving", "knative-eventing", "strict-wf"):
        openshift.kubectl("delete", "namespace", ns, "--wait=false", check=False)

"""The serverless role under the real Knative Operator, and what it must not take.

KnativeServing and KnativeEventing are reconciled by upstream's operator
(knative.dev/operator, run by the test cluster while its Deployment is
Available; sim/knative_operator.py), so the facts below are checked against
upstream code, not against a simulator written from the same guess:

- the operator's Deployment lives in namespace knative-operator;
- with no spec.ingress it installs Istio's ingress, which never gets Ready here;
- OpenShift Serverless takes its instances only in knative-serving/knative-eventing;
- a Kafka Broker needs the Kafka broker control plane;
- a namespace, Subscription or Knative instance that was there before stays
  as it was, through install and removal.
"""
import json
import os
import time

import pytest
from ansible_run import play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

from testcluster import crds

SERVERLESS = "rhdh.orchestrator.serverless"
OLM_MODULE = "rhdh.orchestrator.olm_operator"
MANAGED = "app.kubernetes.io/managed-by"


def _manifest(kube, name):
    with open(os.path.join(kube.handle.dir, "manifests.json"), encoding="utf-8") as fh:
        entry = json.load(fh)[name]
    return entry["url"], "sha256:" + entry["sha256"]


def _k8s_vars(kube, **extra):
    url, checksum = _manifest(kube, "knative-operator")
    return dict({"serverless_k8s_operator_manifest_url": url,
                 "serverless_k8s_operator_manifest_checksum": checksum}, **extra)


def _user_namespace(cluster, name):
    """A namespace someone made before the collection, with data in it."""
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "configmap", "team-settings", "-n", name, "--from-literal=owner=team-a")
    cluster.kubectl("create", "secret", "generic", "team-token", "-n", name, "--from-literal=token=s3cr3t")


def _assert_untouched(cluster, name):
    ns = cluster.json("get", "namespace", name)
    assert MANAGED not in (ns["metadata"].get("labels") or {}), ns["metadata"]
    assert ns["status"]["phase"] == "Active"
    assert cluster.json("get", "configmap", "team-settings", "-n", name)["data"] == {"owner": "team-a"}
    assert cluster.json("get", "secret", "team-token", "-n", name)["data"]


def _operator_pids(cluster):
    """PIDs of the real Knative Operator processes started for this cluster."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"/knative-operator") and f"--kubeconfig={cluster.kubeconfig}".encode() in argv:
            pids.append(int(pid))
    return pids


def test_real_operator_ingress_ownership_and_removal_on_kubernetes(kube):
    _user_namespace(kube, "knative-serving")
    try:
        res = play(kube, roles=[{"role": SERVERLESS, "vars": _k8s_vars(kube)}], check=True)
        # The operator's Deployment is in knative-operator (upstream since v1.14).
        assert kube.json("get", "deployment", "knative-operator", "-n", "knative-operator")
        serving = kube.json("get", "knativeserving", "knative-serving", "-n", "knative-serving")
        assert serving["spec"]["ingress"] == {"kourier": {"enabled": True}}
        assert serving["spec"]["config"]["network"]["ingress-class"] == "kourier.ingress.networking.knative.dev"
        # Reconciled by upstream's code: its version, finalizer and Kourier controller.
        assert serving["status"]["version"].startswith("1.15"), serving["status"]
        assert "knativeservings.operator.knative.dev" in serving["metadata"]["finalizers"]
        assert kube.json("get", "deployment", "net-kourier-controller", "-n", "knative-serving")
        _assert_untouched(kube, "knative-serving")
        eventing_ns = kube.json("get", "namespace", "knative-eventing")
        assert eventing_ns["metadata"]["labels"][MANAGED] == "rhdh.orchestrator"

        # The operator runs in a network namespace that has nothing but lo.
        pids = _operator_pids(kube)
        assert pids, "no Knative Operator process runs for this cluster"
        for pid in pids:
            with open(f"/proc/{pid}/net/dev", encoding="ascii") as fh:
                interfaces = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
            assert interfaces == ["lo"], interfaces

        res = play(kube, roles=[{"role": SERVERLESS, "vars": _k8s_vars(kube)}], check=True)
        assert "changed=0" in res.stdout, res.stdout

        # Without spec.ingress upstream installs Istio's ingress, which never
        # gets Ready without Istio: why the role sets Kourier.
        kube.kubectl("create", "namespace", "istio-default")
        kube.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "operator.knative.dev/v1beta1", "kind": "KnativeServing",
            "metadata": {"name": "no-ingress", "namespace": "istio-default"}, "spec": {}}))
        kube.kubectl("wait", "--for=condition=Ready=False", "knativeserving/no-ingress", "-n", "istio-default",
                     "--timeout=60s")
        kube.kubectl("wait", "--for=jsonpath={.status.conditions[?(@.type=='InstallSucceeded')].reason}=Error",
                     "knativeserving/no-ingress", "-n", "istio-default", "--timeout=60s")
        ready = {c["type"]: c for c in kube.json("get", "knativeserving", "no-ingress", "-n",
                                                 "istio-default")["status"]["conditions"]}["Ready"]
        assert "please install istio or disable the istio ingress plugin" in ready["message"], ready
        kube.kubectl("delete", "knativeserving", "no-ingress", "-n", "istio-default", "--timeout=60s")

        # Removal: ours go (instances first, while the operator runs), the
        # user's namespace and everything in it stays.
        play(kube, roles=[{"role": SERVERLESS, "vars": _k8s_vars(kube, serverless_state="absent")}], check=True)
        assert kube.kubectl("get", "knativeserving", "-A", "-o", "name").stdout.strip() == ""
        _assert_untouched(kube, "knative-serving")
        assert kube.kubectl("get", "namespace", "knative-eventing", check=False).returncode
        assert kube.kubectl("get", "deployment", "knative-operator", "-n", "knative-operator",
                            check=False).returncode
    finally:
        kube.kubectl("delete", "knativeserving,knativeeventing", "--all", "-A", "--timeout=60s", check=False)
        for ns in ("knative-serving", "istio-default"):
            kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_openshift_takes_knative_instances_only_in_their_namespaces(openshift):
    res = play(openshift, roles=[{"role": SERVERLESS, "vars": {"serverless_knative_serving_namespace": "my-serving"}}])
    out = flat(res.stdout)
    assert res.returncode != 0
    assert "serverless_knative_serving_namespace must be knative-serving on OpenShift" in out, out
    assert "serverless_knative_eventing_namespace" not in out.split("Invalid input:")[1], out
    assert openshift.kubectl("get", "subscriptions.operators.coreos.com", "-n", "openshift-serverless", "-o", "name",
                             check=False).stdout.strip() == ""
    # What the test cluster holds for OpenShift Serverless's admission rule.
    openshift.handle.install_crds(crds.load(["knativeservings.operator.knative.dev"]))
    openshift.kubectl("create", "namespace", "my-serving", check=False)
    try:
        res = openshift.kubectl("apply", "-f", "-", check=False, stdin=json.dumps({
            "apiVersion": "operator.knative.dev/v1beta1", "kind": "KnativeServing",
            "metadata": {"name": "knative-serving", "namespace": "my-serving"}}))
        assert res.returncode != 0 and "only supported in namespace knative-serving" in res.stderr, res.stderr
    finally:
        openshift.kubectl("delete", "namespace", "my-serving", "--wait=false", check=False)


def test_kafka_broker_needs_its_control_plane(kube, namespace):
    # The role: on Kubernetes the control-plane manifests are required.
    res = play(kube, roles=[{"role": SERVERLESS, "vars": _k8s_vars(
        kube, serverless_kafka_broker_enabled=True, serverless_kafka_bootstrap_servers="kafka:9092")}])
    out = flat(res.stdout)
    assert res.returncode != 0
    assert ("serverless_k8s_kafka_manifests entries eventing-kafka-controller, eventing-kafka-broker need a url "
            "or a file and a checksum") in out, out
    assert kube.kubectl("get", "namespace", "knative-operator", check=False).returncode

    # The cluster: a Kafka Broker with no control plane is reconciled by nobody,
    # while a channel-based one is (once KnativeEventing is Ready).
    kube.handle.install_crds(crds.load(["brokers.eventing.knative.dev"]))
    kube.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
        "metadata": {"name": "kafka", "namespace": namespace,
                     "annotations": {"eventing.knative.dev/broker.class": "Kafka"}}}))
    kube.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
        "metadata": {"name": "mt", "namespace": namespace}}))
    kube.kubectl("wait", "--for=jsonpath={.status.observedGeneration}=1", "broker/mt", "-n", namespace,
                 "--timeout=20s")
    assert not kube.json("get", "broker", "kafka", "-n", namespace).get("status")


def test_preexisting_serverless_subscription_and_instances_are_left_alone(openshift):
    """Someone runs OpenShift Serverless for other applications: their
    Subscription, namespace and KnativeEventing survive our install and removal,
    and the operator stays because their instance still needs it."""
    theirs = {"name": "serverless-operator", "source": "redhat-operators",
              "sourceNamespace": "openshift-marketplace", "channel": "stable", "installPlanApproval": "Automatic"}
    _user_namespace(openshift, "openshift-serverless")
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
         "metadata": {"name": "their-group", "namespace": "openshift-serverless"}, "spec": {}},
        {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
         "metadata": {"name": "serverless-operator", "namespace": "openshift-serverless",
                      "labels": {"team": "platform"}},
         "spec": theirs}]}))
    _user_namespace(openshift, "knative-eventing")
    openshift.handle.install_crds(crds.load(["knativeeventings.operator.knative.dev"]))
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "operator.knative.dev/v1beta1", "kind": "KnativeEventing",
        "metadata": {"name": "knative-eventing", "namespace": "knative-eventing", "labels": {"team": "platform"}}}))
    try:
        # Their operator runs (the OLM simulator installs their Subscription).
        deadline = time.monotonic() + 90
        while openshift.kubectl("wait", "--for=condition=Available", "deployment/knative-openshift",
                                "-n", "openshift-serverless", "--timeout=30s", check=False).returncode:
            assert time.monotonic() < deadline, "their serverless-operator never got installed"
            time.sleep(1)
        ours = {"serverless_operator_channel": "stable", "serverless_wait_timeout": 120}
        res = play(openshift, roles=[{"role": SERVERLESS, "vars": ours}])
        out = flat(res.stdout)
        assert res.returncode == 0, out
        assert "KnativeEventing knative-eventing/knative-eventing exists and is not managed by" in out
        sub = openshift.json("get", "subscriptions.operators.coreos.com", "serverless-operator", "-n", "openshift-serverless")
        assert sub["metadata"]["labels"] == {"team": "platform"} and sub["spec"] == theirs
        assert [g["metadata"]["name"] for g in openshift.json("get", "operatorgroup", "-n",
                                                              "openshift-serverless")["items"]] == ["their-group"]
        assert openshift.json("get", "knativeserving", "knative-serving", "-n", "knative-serving")

        res = play(openshift, roles=[{"role": SERVERLESS, "vars": {"serverless_state": "absent"}}])
        out = flat(res.stdout)
        assert res.returncode == 0, out
        assert "The Knative operator stays: KnativeEventing knative-eventing/knative-eventing still use it" in out
        assert openshift.kubectl("get", "knativeserving", "-A", "-o", "name").stdout.strip() == ""
        their_eventing = openshift.json("get", "knativeeventing", "knative-eventing", "-n", "knative-eventing")
        assert their_eventing["metadata"]["labels"] == {"team": "platform"}
        sub = openshift.json("get", "subscriptions.operators.coreos.com", "serverless-operator", "-n", "openshift-serverless")
        assert sub["spec"] == theirs and sub["status"]["installedCSV"]
        assert openshift.json("get", "csv", sub["status"]["installedCSV"], "-n", "openshift-serverless")
        _assert_untouched(openshift, "openshift-serverless")
        _assert_untouched(openshift, "knative-eventing")
    finally:
        openshift.kubectl("delete", "knativeeventing,knativeserving", "--all", "-A", "--timeout=60s", check=False)
        openshift.kubectl("delete", "subscriptions.operators.coreos.com,csv,operatorgroup", "--all", "-n", "openshift-serverless",
                          check=False)
        for ns in ("openshift-serverless", "knative-eventing", "knative-serving"):
            openshift.kubectl("delete", "namespace", ns, "--wait=false", check=False)


@pytest.mark.parametrize("variables, expected", [
    ({"serverless_knative_ingress": "kourier", "serverless_knative_serving_spec": {"ingress": {"istio": {}}}},
     "serverless_knative_ingress must be none when serverless_knative_serving_spec.ingress is given"),
    ({"serverless_knative_ingress": "gloo"}, "serverless_knative_ingress"),
])
def test_ingress_input_errors(kube, variables, expected):
    res = play(kube, roles=[{"role": SERVERLESS, "vars": _k8s_vars(kube, **variables)}])
    assert res.returncode != 0
    assert expected in flat(res.stdout), res.stdout

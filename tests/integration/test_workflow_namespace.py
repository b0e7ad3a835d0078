"""The workflow_namespace role: extra namespaces that run workflows outside the
platform namespace (labels, NetworkPolicies, the database Secret copy, the
cluster platform), and taking back exactly what it added.

Everything is named per test run, so the tests share a cluster with others.
"""
import base64
import json
import uuid

import pytest
from ansible_run import play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

from testcluster import crds

ROLE = "rhdh.orchestrator.workflow_namespace"
SECRET = "sonataflow-psql-postgresql"
WF_LABEL = "rhdh.redhat.com/workflow-namespace"
ARGO_LABEL = "argocd.argoproj.io/managed-by"
MARKER = {"app.kubernetes.io/managed-by": "rhdh.orchestrator"}
ADDED = "orchestrator.rhdh.redhat.com/added-labels"
POLICIES = ["allow-infra-ns-to-workflow-ns", "allow-intra-network", "allow-monitoring-to-sonataflow-and-workflows",
            "allow-rhdh-and-knative-to-workflows"]


def role(platform="kubernetes", **variables):
    """The role; platform=None lets preflight detect it (about 3 s a run)."""
    defaults = {"workflow_namespace_wait_timeout": 60}
    if platform:
        defaults["__preflight_platform"] = platform
    return [{"role": ROLE, "vars": dict(defaults, **variables)}]


def apply(cluster, *docs):
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(docs)}))


def namespace_doc(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def secret_doc(name, namespace, password, labels=None):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "type": "Opaque", "stringData": {"postgres-username": "postgres", "postgres-password": password}}


def exists(cluster, *args):
    return cluster.kubectl("get", *args, check=False).returncode == 0


def sources(policy):
    """The namespaces a policy admits, by name or by label."""
    out = []
    for peer in policy["spec"]["ingress"][0]["from"]:
        if "namespaceSelector" in peer:
            labels = peer["namespaceSelector"]["matchLabels"]
            out.append(labels.get("kubernetes.io/metadata.name") or "label:" + ",".join(sorted(labels)))
        else:
            out.append("pods:" + json.dumps(peer["podSelector"]))
    return out


@pytest.fixture
def setting(kube):
    """A platform namespace with the database Secret, a SonataFlowPlatform and a
    Succeed SonataFlowClusterPlatform (the simulator, with an operator
    Deployment), an RHDH namespace, and a user's namespace with a label and a ConfigMap."""
    uid = uuid.uuid4().hex[:6]
    names = {"platform": f"wfp-{uid}", "rhdh": f"wfr-{uid}", "new": f"wf-new-{uid}", "old": f"wf-old-{uid}",
             "cp": f"cp-{uid}", "password": "first-" + uuid.uuid4().hex}
    kube.handle.install_crds(crds.load(["sonataflowplatforms.sonataflow.org", "sonataflowclusterplatforms.sonataflow.org"]))
    apply(kube, namespace_doc(names["platform"]), namespace_doc(names["rhdh"]),
          namespace_doc(names["old"], {"team": "a"}))
    labels = {"app": "sim-sonataflow-operator"}
    apply(kube,
          secret_doc(SECRET, names["platform"], names["password"]),
          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "user-cm", "namespace": names["old"]},
           "data": {"k": "v"}},
          {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "sonataflow-operator-controller-manager", "namespace": names["platform"]},
           "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
               "metadata": {"labels": labels}, "spec": {"containers": [{"name": "manager", "image": "op:1"}]}}}},
          {"apiVersion": "sonataflow.org/v1alpha08", "kind": "SonataFlowPlatform",
           "metadata": {"name": "sonataflow-platform", "namespace": names["platform"]}, "spec": {}},
          {"apiVersion": "sonataflow.org/v1alpha08", "kind": "SonataFlowClusterPlatform",
           "metadata": {"name": names["cp"]},
           "spec": {"platformRef": {"name": "sonataflow-platform", "namespace": names["platform"]}}})
    yield names
    kube.kubectl("delete", "sonataflowclusterplatform", names["cp"], "--wait=false", check=False)
    for key in ("platform", "rhdh", "new", "old"):
        kube.kubectl("delete", "namespace", names[key], "--wait=false", check=False)


def test_converge_rerun_check_password_change_and_removal(kube, setting):
    n = setting
    base = {"workflow_namespace_platform_namespace": n["platform"], "workflow_namespace_rhdh_namespace": n["rhdh"],
            "workflow_namespace_cluster_platform": n["cp"], "orchestrator_gitops_enabled": True,
            "gitops_argocd_namespace": "argo-" + n["cp"]}
    both = dict(base, workflow_namespace_namespaces=[n["new"], n["old"]])

    res = play(kube, roles=role(**both), extra_args=["--diff"], check=True)
    assert n["password"] not in res.stdout
    new, old = kube.json("get", "namespace", n["new"]), kube.json("get", "namespace", n["old"])
    wanted = {WF_LABEL: "", ARGO_LABEL: "argo-" + n["cp"]}
    assert {k: new["metadata"]["labels"][k] for k in list(wanted) + list(MARKER)} == dict(wanted, **MARKER)
    assert {k: v for k, v in old["metadata"]["labels"].items() if k != "kubernetes.io/metadata.name"} == dict(
        wanted, team="a"), "the user's namespace gets the labels, and is not marked as the collection's"
    assert old["metadata"]["annotations"][ADDED] == f"{ARGO_LABEL},{WF_LABEL}"
    source = kube.json("get", "secret", SECRET, "-n", n["platform"])
    for ns in (n["new"], n["old"]):
        pols = {p["metadata"]["name"]: p for p in kube.json("get", "networkpolicy", "-n", ns)["items"]}
        assert sorted(pols) == POLICIES
        assert sources(pols["allow-rhdh-and-knative-to-workflows"]) == [
            n["rhdh"], n["platform"], "knative-eventing", "knative-serving"]
        assert sources(pols["allow-infra-ns-to-workflow-ns"]) == [
            "knative-eventing", "knative-serving", "sonataflow-operator-system"]
        assert sources(pols["allow-monitoring-to-sonataflow-and-workflows"]) == ["openshift-user-workload-monitoring"]
        assert sources(pols["allow-intra-network"]) == ["pods:{}"]
        copy = kube.json("get", "secret", SECRET, "-n", ns)
        assert copy["data"] == source["data"] and copy["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "rhdh.orchestrator"
    rhdh = kube.json("get", "networkpolicy", "allow-external-workflows-to-rhdh", "-n", n["rhdh"])
    assert sources(rhdh) == [f"label:{WF_LABEL}"]

    res = play(kube, roles=role(**both), check=True)
    assert "changed=0" in res.stdout, res.stdout
    res = play(kube, roles=role(**both), extra_args=["--check", "--diff"], check=True)
    assert "changed=0" in res.stdout, res.stdout

    # The source's password changes: every copy follows, in place.
    uids = {ns: kube.json("get", "secret", SECRET, "-n", ns)["metadata"]["uid"] for ns in (n["new"], n["old"])}
    second = "second-" + uuid.uuid4().hex
    kube.kubectl("patch", "secret", SECRET, "-n", n["platform"], "--type=merge",
                 "-p", json.dumps({"stringData": {"postgres-password": second}}))
    res = play(kube, roles=role(**both), extra_args=["--diff", "-v"], check=True)
    assert "changed=1" in res.stdout and second not in res.stdout and n["password"] not in res.stdout
    assert base64.b64encode(second.encode()).decode() not in res.stdout
    for ns, uid in uids.items():
        copy = kube.json("get", "secret", SECRET, "-n", ns)
        assert base64.b64decode(copy["data"]["postgres-password"]).decode() == second
        assert copy["metadata"]["uid"] == uid, "updated in place, not recreated"

    # Removing the user's namespace first: the RHDH policy stays for the other one.
    play(kube, roles=role(workflow_namespace_state="absent", **dict(base, workflow_namespace_namespaces=[n["old"]])),
         check=True)
    old = kube.json("get", "namespace", n["old"])
    assert {k: v for k, v in old["metadata"]["labels"].items() if k != "kubernetes.io/metadata.name"} == {"team": "a"}
    assert ADDED not in (old["metadata"].get("annotations") or {})
    assert kube.kubectl("get", "networkpolicy,secret,configmap", "-n", n["old"], "-o", "name").stdout.split() == [
        "configmap/kube-root-ca.crt", "configmap/user-cm"]
    assert exists(kube, "networkpolicy", "allow-external-workflows-to-rhdh", "-n", n["rhdh"])

    # The last one: the created namespace goes (nothing but ours in it), and the RHDH policy.
    last = dict(base, workflow_namespace_namespaces=[n["new"]], workflow_namespace_state="absent")
    play(kube, roles=role(**last), check=True)
    assert not exists(kube, "namespace", n["new"])
    assert not exists(kube, "networkpolicy", "allow-external-workflows-to-rhdh", "-n", n["rhdh"])
    assert exists(kube, "secret", SECRET, "-n", n["platform"])


def test_bad_input_fails_before_any_change(kube):
    uid = uuid.uuid4().hex[:6]
    res = play(kube, roles=role(workflow_namespace_namespaces=["Bad_Name", f"dup-{uid}", f"dup-{uid}", f"plat-{uid}"],
                                workflow_namespace_platform_namespace=f"plat-{uid}", workflow_namespace_wait_timeout=0,
                                workflow_namespace_monitoring_namespace="No"))
    out = flat(res.stdout)
    assert res.returncode != 0
    for message in ("workflow_namespace_namespaces entries must be namespace names (DNS labels); not: Bad_Name",
                    f"workflow_namespace_namespaces lists dup-{uid} more than once",
                    f"workflow_namespace_namespaces must not list the platform namespace plat-{uid}",
                    "workflow_namespace_wait_timeout must be a positive number of seconds (got '0')",
                    "workflow_namespace_monitoring_namespace must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'No')"):
        assert message in out, out
    assert not exists(kube, "namespace", f"dup-{uid}")


def test_missing_cluster_platform_and_a_users_secret_stop_it_and_take_over(openshift):
    """On OpenShift: a missing cluster platform and a Secret of the copy's name
    that the user made stop the run before any change, each with what to set;
    with the switch the copy replaces the user's data (and removal keeps it),
    the operator namespace is OpenShift's, and without an RHDH namespace there
    is no policy there."""
    uid = uuid.uuid4().hex[:6]
    plat, wf = f"wfp-{uid}", f"wf-{uid}"
    apply(openshift, namespace_doc(plat), namespace_doc(wf))
    apply(openshift, secret_doc(SECRET, plat, "source-" + uid), secret_doc(SECRET, wf, "theirs-" + uid))
    try:
        base = {"workflow_namespace_platform_namespace": plat, "workflow_namespace_namespaces": [wf],
                "workflow_namespace_rhdh_namespace": f"no-rhdh-{uid}"}
        res = play(openshift, roles=role("openshift", workflow_namespace_cluster_platform=f"missing-{uid}", **base))
        out = flat(res.stdout)
        assert res.returncode != 0
        for message in (f"SonataFlowClusterPlatform missing-{uid} (workflow_namespace_cluster_platform) does not exist",
                        "Set sonataflow_cluster_platform_enabled: true",
                        f"Secret {SECRET} already exists in {wf} and was not made by the collection",
                        "Set workflow_namespace_postgres_secret_take_over to true"):
            assert message in out, out
        assert WF_LABEL not in openshift.json("get", "namespace", wf)["metadata"]["labels"]
        assert openshift.kubectl("get", "networkpolicy", "-n", wf, "-o", "name").stdout.strip() == ""

        base["workflow_namespace_cluster_platform"] = ""
        res = play(openshift, roles=role(platform=None, workflow_namespace_postgres_secret_take_over=True, **base),
                   check=True)
        assert f"not made: namespace no-rhdh-{uid} does not exist" in flat(res.stdout), res.stdout
        copy = openshift.json("get", "secret", SECRET, "-n", wf)
        assert base64.b64decode(copy["data"]["postgres-password"]).decode() == "source-" + uid
        assert "app.kubernetes.io/managed-by" not in copy["metadata"].get("labels", {})
        infra = openshift.json("get", "networkpolicy", "allow-infra-ns-to-workflow-ns", "-n", wf)
        assert sources(infra)[-1] == "openshift-serverless-logic"
        play(openshift, roles=role("openshift", workflow_namespace_state="absent", **base), check=True)
        assert exists(openshift, "secret", SECRET, "-n", wf), "a Secret the user made is kept"
        assert exists(openshift, "namespace", wf)
        assert openshift.kubectl("get", "networkpolicy", "-n", wf, "-o", "name").stdout.strip() == ""
    finally:
        for ns in (plat, wf):
            openshift.kubectl("delete", "namespace", ns, "--wait=false", check=False)

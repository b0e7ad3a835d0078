"""The status report (plugins/module_utils/status.py and its filter): what is read, and how it is judged."""
import copy
import importlib.util
import os
import sys

import pytest
from ansible.errors import AnsibleFilterError

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
_PKG = "ansible_collections.rhdh.orchestrator.plugins."


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(_PKG + name, os.path.join(_ROOT, "plugins", *parts))
    module = importlib.util.module_from_spec(spec)
    sys.modules[_PKG + name] = module
    spec.loader.exec_module(module)
    return module


for _dep in ("releases", "rollout", "kube"):
    _load("module_utils." + _dep, "module_utils", _dep + ".py")
st = _load("module_utils.status", "module_utils", "status.py")
FILTERS = _load("filter.status", "filter", "status.py").FilterModule().filters()

SETTINGS = {
    "postgres_deploy": True, "postgres_namespace": "wf", "postgres_service_name": "db", "postgres_service_namespace": "wf",
    "postgres_image": "docker.io/library/postgres:15",
    "serverless_operator_namespace": "openshift-serverless", "serverless_operator_package": "serverless-operator",
    "serverless_k8s_operator_namespace": "knative-operator", "serverless_k8s_operator_deployment": "knative-operator",
    "serverless_knative_serving_name": "knative-serving", "serverless_knative_serving_namespace": "knative-serving",
    "serverless_knative_eventing_name": "knative-eventing", "serverless_knative_eventing_namespace": "knative-eventing",
    "sonataflow_rhdh_version": "1.10", "sonataflow_operator_namespace": "openshift-serverless-logic",
    "sonataflow_operator_package": "logic-operator", "sonataflow_k8s_operator_namespace": "sonataflow-operator-system",
    "sonataflow_k8s_operator_deployment": "sonataflow-operator-controller-manager", "sonataflow_namespace": "wf",
    "sonataflow_platform_name": "sonataflow-platform", "sonataflow_data_index_enabled": True,
    "sonataflow_jobs_service_enabled": "false", "sonataflow_cluster_platform_enabled": True,
    "sonataflow_cluster_platform_name": "cluster-platform",
    "rhdh_version": "1.10", "rhdh_install": True, "rhdh_namespace": "rhdh", "rhdh_name": "dev",
    "rhdh_operator_namespace": "rhdh-operator", "rhdh_operator_package": "rhdh", "rhdh_k8s_operator_namespace": "rhdh-operator",
    "rhdh_k8s_operator_deployment": "rhdh-operator", "rhdh_deployment_kind": "StatefulSet",
    "workflow_namespace_namespaces": ["extra"], "gitops_namespace": "rhdh", "gitops_app_project_name": "argocd-app-project",
    "gitops_app_project_namespace": "rhdh", "gitops_tekton_enabled": True, "gitops_pipeline_name": "workflow-deployment",
    "workflows_list": [{"name": "greeting"}, {"name": "other", "namespace": "extra"}], "workflows_namespace": "wf",
}


def settings(**over):
    out = copy.deepcopy(SETTINGS)
    out.update(over)
    return out


def objects(checks):
    return [(c["component"], c["kind"], c["name"], c["namespace"]) for c in checks]


def test_checks_follow_the_settings_and_the_platform():
    k8s = objects(st.checks(settings(platform="kubernetes")))
    assert k8s == [
        ("postgres", "StatefulSet", "db", "wf"), ("postgres", "Service", "db", "wf"),
        ("serverless", "Deployment", "knative-operator", "knative-operator"),
        ("serverless", "KnativeServing", "knative-serving", "knative-serving"),
        ("serverless", "KnativeEventing", "knative-eventing", "knative-eventing"),
        ("sonataflow", "Deployment", "sonataflow-operator-controller-manager", "sonataflow-operator-system"),
        ("sonataflow", "SonataFlowPlatform", "sonataflow-platform", "wf"),
        ("sonataflow", "Deployment", "sonataflow-platform-data-index-service", "wf"),  # jobs service off ("false")
        ("sonataflow", "SonataFlowClusterPlatform", "cluster-platform", None),
        ("rhdh", "Deployment", "rhdh-operator", "rhdh-operator"),
        ("rhdh", "CustomResourceDefinition", "backstages.rhdh.redhat.com", None),
        ("rhdh", "Backstage", "dev", "rhdh"), ("rhdh", "StatefulSet", "backstage-dev", "rhdh"),
        ("workflow_namespace", "Namespace", "extra", None),
        ("gitops", "AppProject", "argocd-app-project", "rhdh"), ("gitops", "Pipeline", "workflow-deployment", "rhdh"),
        ("workflows", "SonataFlow", "greeting", "wf"), ("workflows", "SonataFlow", "other", "extra"),
    ]
    checks = st.checks(settings(platform="openshift", components=["serverless", "rhdh"], rhdh_install=False,
                                rhdh_version="1.8"))
    assert objects(checks) == [
        ("serverless", "Subscription", None, "openshift-serverless"),
        ("serverless", "ClusterServiceVersion", None, "openshift-serverless"),
        ("serverless", "KnativeServing", "knative-serving", "knative-serving"),
        ("serverless", "KnativeEventing", "knative-eventing", "knative-eventing"),
        ("rhdh", "CustomResourceDefinition", "backstages.rhdh.redhat.com", None),
        ("rhdh", "Backstage", "dev", "rhdh"), ("rhdh", "Deployment", "backstage-dev", "rhdh"),
    ]
    assert checks[5]["api_version"] == "rhdh.redhat.com/v1alpha4"  # the release's Backstage API
    assert objects(st.checks(settings(components=["postgres"], postgres_deploy="no"))) == [("postgres", "Service", "db", "wf")]


def deployment(name, ns, image="quay.io/x/op:1.0", replicas=1, ready=1, kind="Deployment"):
    return {"kind": kind, "metadata": {"name": name, "namespace": ns, "generation": 2},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": {"observedGeneration": 2, "replicas": replicas, "updatedReplicas": ready, "readyReplicas": ready,
                       "availableReplicas": ready, "currentReplicas": ready, "currentRevision": "r1", "updateRevision": "r1"}}


def cr(kind, name, ns, ctype, status="True", version=None):
    out = {"kind": kind, "metadata": {"name": name, "namespace": ns},
           "status": {"conditions": [{"type": ctype, "status": status, "reason": "R", "message": "m"}]}}
    if version:
        out["status"]["version"] = version
    return out


def found(*items, served=True):
    return {"api_found": served, "resources": list(items)}


def rows_of(report):
    return dict(((r["component"], r["object"]), r) for r in report["rows"])


def test_openshift_stack_ready_and_on_the_matrix_then_off_it():
    s = settings(platform="openshift", components=["sonataflow", "rhdh"], sonataflow_cluster_platform_enabled=False,
                 sonataflow_jobs_service_enabled=True, rhdh_deployment_kind="Deployment")
    checks = st.checks(s)
    sub = {"kind": "Subscription", "metadata": {"name": "mine", "namespace": "ns"}, "spec": {"name": "logic-operator"},
           "status": {"installedCSV": "logic-operator.v1.38.0"}}
    other = {"metadata": {"name": "x", "namespace": "ns"}, "spec": {"name": "unrelated"}}
    csv = {"metadata": {"name": "logic-operator.v1.38.0"}, "status": {"phase": "Succeeded"}}
    rsub = {"metadata": {"name": "rhdh", "namespace": "rhdh-operator"}, "spec": {"name": "rhdh"},
            "status": {"installedCSV": "rhdh-operator.v1.10.2"}}
    rcsv = {"metadata": {"name": "rhdh-operator.v1.10.2"}, "status": {"phase": "Succeeded"}}
    crd = {"spec": {"versions": [{"name": "v1alpha4", "served": True}, {"name": "v1alpha5", "served": True}]}}
    results = [found(other, sub), found(csv), found(cr("SonataFlowPlatform", "sonataflow-platform", "wf", "Succeed", version="1.38.0")),
               found(deployment("sonataflow-platform-data-index-service", "wf")),
               found(deployment("sonataflow-platform-jobs-service", "wf")),
               found(rsub), found(rcsv), found(crd), found(cr("Backstage", "dev", "rhdh", "Deployed")),
               found(deployment("backstage-dev", "rhdh", image="quay.io/rhdh/hub:1.10"))]
    report = st.report(checks, results, s)
    assert report["ok"] and report["failed"] == [], report["table"]
    rows = rows_of(report)
    assert rows[("sonataflow", "Subscription/mine")]["version"] == "logic-operator.v1.38.0"
    assert rows[("sonataflow", "Subscription/mine")]["expected"] == "logic-operator.v1.38.0"
    assert rows[("rhdh", "Subscription/rhdh")]["expected"] == "RHDH 1.10 (fast-1.10)"
    assert rows[("rhdh", "CustomResourceDefinition/backstages.rhdh.redhat.com")]["version"] == "v1alpha4, v1alpha5"
    assert rows[("sonataflow", "SonataFlowPlatform/sonataflow-platform")]["version"] == "1.38.0"
    assert report["table"][0].split() == list(st.COLUMNS)
    assert len({line.index("yes") for line in report["table"][1:]}) == 1  # aligned

    # Release 1.8 asked for: the 1.10 operator and the logic operator package are off the matrix, the CRD is not.
    s18 = dict(s, rhdh_version="1.8", sonataflow_rhdh_version="1.8")
    report = st.report(st.checks(s18), results, s18)
    assert report["failed"] == ["sonataflow", "rhdh"]
    rows = rows_of(report)
    assert rows[("rhdh", "Subscription/rhdh")]["ready"] and not rows[("rhdh", "Subscription/rhdh")]["ok"]
    assert "release 1.10), orchestrator_rhdh_version is 1.8" in rows[("rhdh", "Subscription/rhdh")]["note"]
    assert rows[("rhdh", "CustomResourceDefinition/backstages.rhdh.redhat.com")]["ok"]
    assert "release 1.8 goes with logic-operator-rhel8" in rows[("sonataflow", "Subscription/mine")]["note"]
    # A CRD without the release's API version, and OLM trouble.
    results[7] = found({"spec": {"versions": [{"name": "v1alpha3", "served": True}, {"name": "v1alpha5", "served": False}]}})
    results[0] = found(dict(sub, status={"installedCSV": "logic-operator.v1.38.0",
                                         "conditions": [{"type": "ResolutionFailed", "status": "True", "message": "no"}]}))
    results[6] = found(dict(rcsv, status={"phase": "Failed", "message": "install strategy failed"}))
    rows = rows_of(st.report(checks, results, s))
    assert rows[("rhdh", "CustomResourceDefinition/backstages.rhdh.redhat.com")]["note"] == (
        "the Backstage CRD serves v1alpha3, release 1.10 writes v1alpha5")
    assert rows[("sonataflow", "Subscription/mine")]["note"] == "ResolutionFailed: no"
    assert rows[("rhdh", "Subscription/rhdh")]["note"] == "CSV rhdh-operator.v1.10.2 is Failed: install strategy failed"


def test_not_ready_missing_and_not_installed():
    s = settings(platform="kubernetes", components=["postgres", "serverless", "sonataflow", "rhdh", "workflow_namespace", "workflows"],
                 sonataflow_cluster_platform_enabled=False)
    checks = st.checks(s)
    results = [found(deployment("db", "wf", image="docker.io/library/postgres:16", replicas=0, ready=0, kind="StatefulSet")),
               found(),  # Service missing
               found(deployment("knative-operator", "knative-operator")),
               found(cr("KnativeServing", "knative-serving", "knative-serving", "Ready", "False", version="1.15.2")),
               found(served=False),
               found(), found(served=False), found(), found(), found(), found(), found(),  # sonataflow, rhdh: nothing
               found(),  # the extra workflow namespace
               found(cr("SonataFlow", "greeting", "wf", "Running")), found(served=True)]
    report = st.report(checks, results, s)
    rows = rows_of(report)
    assert report["failed"] == ["postgres", "serverless", "sonataflow", "rhdh", "workflow_namespace", "workflows"]
    pg = rows[("postgres", "StatefulSet/db")]
    assert (pg["ready"], pg["version"], pg["expected"]) == (False, "16", "15")
    assert pg["note"] == "scaled to 0 replicas; runs docker.io/library/postgres:16, postgres_image is docker.io/library/postgres:15"
    assert rows[("postgres", "Service/db")]["note"] == "missing"
    assert rows[("serverless", "KnativeServing/knative-serving")]["note"] == "Ready is not True: Ready=False (R: m)"
    assert rows[("serverless", "KnativeEventing/knative-eventing")]["note"] == (
        "the API operator.knative.dev/v1beta1 KnativeEventing is not served")
    assert rows[("sonataflow", "-")]["note"] == "not installed"
    assert rows[("sonataflow", "-")]["namespace"] == "sonataflow-operator-system, wf"
    assert rows[("rhdh", "-")]["note"] == "not installed"
    assert (rows[("workflow_namespace", "-")]["namespace"], rows[("workflow_namespace", "-")]["note"]) == ("extra", "not installed")
    assert rows[("workflows", "SonataFlow/greeting")]["ok"] and not rows[("workflows", "SonataFlow/other")]["ok"]
    assert any(line.split()[:4] == ["rhdh", "rhdh-operator,", "rhdh", "-"] for line in report["table"])


def test_filters_take_lazy_containers_and_name_bad_input():
    class Lazy(dict):
        pass
    s = Lazy(settings(platform="kubernetes", components=["postgres"]))
    checks = FILTERS["status_checks"](s)
    report = FILTERS["status_report"]([found(deployment("db", "wf", image="docker.io/library/postgres:15", kind="StatefulSet")),
                                       found({"metadata": {"name": "db"}})], checks, s)
    assert report["ok"] and [r["ready"] for r in report["rows"]] == [True, True]
    with pytest.raises(AnsibleFilterError, match="orchestrator_rhdh_version"):
        FILTERS["status_checks"](settings(rhdh_version="2.0"))
    with pytest.raises(AnsibleFilterError, match="status_checks: 'postgres_namespace'"):
        FILTERS["status_checks"](dict((k, v) for k, v in SETTINGS.items() if k != "postgres_namespace"))

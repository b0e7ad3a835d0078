"""rhdh.orchestrator.auth_secret against the local cluster.

Each test drives the module through ansible-playbook, as users do, and checks
the Secret on the cluster, not only what the module says.
"""
import base64
import json
import os
import tempfile

import pytest
from ansible_run import REPO, play  # pylint: disable=import-error

from testcluster import crds

SECRET = "backstage-backend-auth-secret"


def run(kube, check=False, diff=False, verbose=False, expect_ok=True, **params):
    """Run the module once; (its result, the finished ansible-playbook)."""
    with tempfile.NamedTemporaryFile(suffix=".json", dir=os.path.join(REPO, ".build")) as fh:
        task = {"rhdh.orchestrator.auth_secret": params, "register": "out"}
        keep = {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": fh.name, "mode": "0600"},
                "check_mode": False, "diff": False}
        args = (["--check"] if check else []) + (["--diff"] if diff else []) + (["-vvv"] if verbose else [])
        res = play(kube, tasks=[task, keep], extra_args=args)
        if not expect_ok:
            return None, res
        assert res.returncode == 0, res.stdout + res.stderr
        with open(fh.name, encoding="utf-8") as result:
            return json.loads(result.read()), res


def secret(kube, ns, name=SECRET):
    obj = kube.json("get", "secret", "-n", ns, name)
    return obj, {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}


def test_create_then_unchanged_and_backend_secret_kept(kube, namespace):
    out, _res = run(kube, namespace=namespace, github_token="ghp_test_one")
    assert out["changed"]
    assert out["keys"] == {"BACKEND_SECRET": "created", "GITHUB_TOKEN": "created",
                           "K8S_CLUSTER_TOKEN": "created", "K8S_CLUSTER_URL": "created",
                           "K8S_CLUSTER_CA_DATA": "created"}
    first, values = secret(kube, namespace)
    assert len(values["BACKEND_SECRET"]) >= 32 and values["BACKEND_SECRET"].isalnum()
    assert values["GITHUB_TOKEN"] == "ghp_test_one"
    # The token is the dedicated ServiceAccount's, filled by the token controller.
    _out, token = secret(kube, namespace, "orchestrator-k8s-reader-token")
    assert values["K8S_CLUSTER_TOKEN"] == token["token"] != ""
    assert values["K8S_CLUSTER_URL"].startswith("https://127.0.0.1:")
    # The cluster CA travels like the token, base64 PEM as the plugin's caData takes it.
    assert base64.b64decode(values["K8S_CLUSTER_CA_DATA"]).startswith(b"-----BEGIN CERTIFICATE-----")
    # Least privilege: the ClusterRole only reads.
    role = kube.json("get", "clusterrole", "rhdh-orchestrator-k8s-reader")
    assert {v for rule in role["rules"] for v in rule["verbs"]} == {"get", "list", "watch"}
    binding = kube.json("get", "clusterrolebinding", f"rhdh-orchestrator-k8s-reader-{namespace}-orchestrator-k8s-reader")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "orchestrator-k8s-reader",
                                    "namespace": namespace}]

    out, _res = run(kube, namespace=namespace, github_token="ghp_test_one")
    assert not out["changed"] and out["actions"] == []
    assert set(out["keys"].values()) == {"unchanged"}
    second, again = secret(kube, namespace)
    assert again["BACKEND_SECRET"] == values["BACKEND_SECRET"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_emptied_value_removes_its_key_in_place(kube, namespace):
    run(kube, namespace=namespace, github_token="ghp_x", github_client_id="cid", github_client_secret="csec",
        cluster_token=False)
    before, values = secret(kube, namespace)
    out, _res = run(kube, namespace=namespace, github_client_id="", github_client_secret="", cluster_token=False)
    assert out["changed"] and out["removed_keys"] == ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"]
    after, now = secret(kube, namespace)
    assert set(now) == {"BACKEND_SECRET", "GITHUB_TOKEN"}, "a parameter left out keeps its key"
    assert now["BACKEND_SECRET"] == values["BACKEND_SECRET"]
    assert after["metadata"]["uid"] == before["metadata"]["uid"], "patched in place, not recreated"


def test_user_keys_are_kept_and_rotate_replaces_backend_secret(kube, namespace):
    kube.kubectl("create", "secret", "generic", SECRET, "-n", namespace,
                 "--from-literal=BACKEND_SECRET=short23charactersxxxxxx", "--from-literal=MY_OWN_KEY=mine")
    out, res = run(kube, namespace=namespace, cluster_token=False)
    assert not out["changed"] and out["keys"] == {"BACKEND_SECRET": "unchanged", "MY_OWN_KEY": "unchanged"}
    assert "shorter than 32 characters" in " ".join((res.stdout + res.stderr).split())
    out, _res = run(kube, namespace=namespace, cluster_token=False, rotate=True)
    assert out["keys"]["BACKEND_SECRET"] == "updated"
    _out, values = secret(kube, namespace)
    assert values["MY_OWN_KEY"] == "mine"
    assert len(values["BACKEND_SECRET"]) >= 32 and values["BACKEND_SECRET"] != "short23charactersxxxxxx"


def test_check_mode_changes_nothing(kube, namespace):
    out, _res = run(kube, check=True, diff=True, namespace=namespace, github_token="ghp_check")
    assert out["changed"] and "created Secret" in " ".join(out["actions"])
    assert kube.kubectl("get", "secret", "-n", namespace, SECRET, check=False).returncode != 0
    assert kube.kubectl("get", "serviceaccount", "-n", namespace, "orchestrator-k8s-reader",
                        check=False).returncode != 0

    run(kube, namespace=namespace, github_token="ghp_check")
    before, values = secret(kube, namespace)
    out, _res = run(kube, check=True, diff=True, namespace=namespace, github_token="ghp_changed", rotate=True)
    assert out["changed"] and out["keys"]["GITHUB_TOKEN"] == "updated"
    after, now = secret(kube, namespace)
    assert now == values and after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_no_value_in_verbose_output(kube, namespace):
    params = dict(namespace=namespace, github_token="ghp_LEAKCHECK_token", github_client_secret="LEAKCHECK_oauth",
                  notifications_email_hostname="smtp.example.test", notifications_email_password="LEAKCHECK_mail")
    _out, first = run(kube, diff=True, verbose=True, **params)
    _out, values = secret(kube, namespace)
    # second run: unchanged, also verbose; then a change, also verbose
    _out, second = run(kube, diff=True, verbose=True, **params)
    changed = dict(params)
    changed["github_token"] = "ghp_LEAKCHECK_other"
    _out, third = run(kube, diff=True, verbose=True, **changed)
    text = "\n".join(r.stdout + r.stderr for r in (first, second, third))
    for key, value in values.items():
        if key != "NOTIFICATIONS_EMAIL_HOSTNAME":
            assert value not in text, f"the value of {key} appears in the output"
    assert "ghp_LEAKCHECK_other" not in text
    assert "LEAKCHECK" not in text.replace("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "")


def test_argocd_keys_discovered_from_the_instance(openshift, namespace_os):
    if openshift.kubectl("get", "crd", "argocds.argoproj.io", check=False).returncode != 0:
        openshift.handle.install_crds(crds.load(["argocds.argoproj.io"]))
    gitops = namespace_os
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD", "metadata": {"name": "argocd", "namespace": gitops},
         "spec": {}},
        {"apiVersion": "route.openshift.io/v1", "kind": "Route",
         "metadata": {"name": "argocd-server", "namespace": gitops,
                      "labels": {"app.kubernetes.io/managed-by": "argocd"}},
         "spec": {"host": "argocd.apps.example.test", "to": {"kind": "Service", "name": "argocd-server"}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "argocd-cluster", "namespace": gitops},
         "stringData": {"admin.password": "argo-admin-pw"}}]}))
    out, _res = run(openshift, namespace=gitops, cluster_token=False, argocd_namespace=gitops)
    assert out["argocd_instance"] == "argocd"
    _out, values = secret(openshift, gitops)
    assert values["ARGOCD_URL"] == "https://argocd.apps.example.test"
    assert values["ARGOCD_USERNAME"] == "admin" and values["ARGOCD_PASSWORD"] == "argo-admin-pw"
    # A given value wins over the discovered one.
    run(openshift, namespace=gitops, cluster_token=False, argocd_namespace=gitops, argocd_username="ops")
    assert secret(openshift, gitops)[1]["ARGOCD_USERNAME"] == "ops"
    # A named instance that is not there is an error naming it.
    _out, res = run(openshift, expect_ok=False, namespace=gitops, cluster_token=False, argocd_namespace=gitops,
                    argocd_instance="nope")
    assert res.returncode != 0 and "ArgoCD instance nope not found" in res.stdout


@pytest.mark.parametrize("params, expected", [
    ({"backend_secret": "too-short"}, "backend_secret must be at least 32 characters"),
    ({"argocd_instance": "argocd"}, "argocd_instance needs argocd_namespace"),
    ({"namespace": "no-such-ns-here"}, "Namespace no-such-ns-here (parameter namespace) does not exist"),
])
def test_bad_input_is_named_and_changes_nothing(kube, namespace, params, expected):
    params = dict({"namespace": namespace}, **params)
    _out, res = run(kube, expect_ok=False, **params)
    assert res.returncode != 0 and expected in " ".join(res.stdout.split()), res.stdout
    assert kube.kubectl("get", "secret", "-n", namespace, SECRET, check=False).returncode != 0


def test_absent_removes_what_it_made(kube, namespace):
    run(kube, namespace=namespace)
    out, _res = run(kube, namespace=namespace, state="absent")
    assert out["changed"]
    for kind, name in (("secret", SECRET), ("secret", "orchestrator-k8s-reader-token"),
                       ("serviceaccount", "orchestrator-k8s-reader")):
        assert kube.kubectl("get", kind, "-n", namespace, name, check=False).returncode != 0
    assert kube.kubectl("get", "clusterrolebinding",
                        f"rhdh-orchestrator-k8s-reader-{namespace}-orchestrator-k8s-reader",
                        check=False).returncode != 0
    out, _res = run(kube, namespace=namespace, state="absent")
    assert not out["changed"]

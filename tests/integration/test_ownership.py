"""Removal deletes only what the collection created; install takes nothing over.

A namespace that already holds the user's ConfigMap and Secret must come out of
the rhdh, sonataflow and postgres roles (install and removal) unlabelled, with
its data; the objects of an operator release manifest that existed before are
left as they are and kept; CRDs are never deleted; check mode changes nothing.
"""
import base64
import hashlib
import json
import os
import tempfile
import uuid

import pytest
import yaml
from ansible_run import REPO, play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

NS_MARK = ("app.kubernetes.io/managed-by", "rhdh.orchestrator")
MANIFEST_MARK = ("orchestrator.rhdh.redhat.com/installed-by", "rhdh.orchestrator")
USER_LABELS = {"team": "mine"}


def suffix():
    return uuid.uuid4().hex[:6]


def manifest_vars(kube, key, prefix):
    with open(os.path.join(kube.handle.dir, "manifests.json"), encoding="utf-8") as fh:
        entry = json.load(fh)[key]
    return {f"{prefix}_k8s_operator_manifest_url": entry["url"],
            f"{prefix}_k8s_operator_manifest_checksum": "sha256:" + entry["sha256"]}


def gone(kube, *namespaces, wait=True):
    for ns in namespaces:
        kube.kubectl("delete", "namespace", ns, "--ignore-not-found", f"--wait={str(wait).lower()}", "--timeout=180s")


def seed(kube, ns):
    """A namespace of the user's, with a label, a ConfigMap and a Secret, made before the collection runs."""
    gone(kube, ns)
    kube.kubectl("create", "namespace", ns)
    kube.kubectl("label", "namespace", ns, *[f"{k}={v}" for k, v in USER_LABELS.items()])
    kube.kubectl("create", "configmap", "user-data", "-n", ns, "--from-literal=answer=42")
    kube.kubectl("create", "secret", "generic", "user-secret", "-n", ns, "--from-literal=token=s3cret")


def assert_untouched(kube, ns):
    obj = kube.json("get", "namespace", ns)
    assert not obj["metadata"].get("deletionTimestamp"), f"namespace {ns} is being deleted"
    labels = {k: v for k, v in (obj["metadata"].get("labels") or {}).items() if k != "kubernetes.io/metadata.name"}
    assert labels == USER_LABELS, f"namespace {ns} was relabelled: {labels}"
    assert kube.json("get", "configmap", "user-data", "-n", ns)["data"] == {"answer": "42"}
    data = kube.json("get", "secret", "user-secret", "-n", ns)["data"]
    assert {k: base64.b64decode(v).decode() for k, v in data.items()} == {"token": "s3cret"}


def exists(kube, *args):
    return kube.kubectl("get", *args, check=False).returncode == 0


def run(kube, module, params, check=False, diff=False, expect_ok=True):
    """Run one module of the collection; (its result, the finished ansible-playbook)."""
    with tempfile.NamedTemporaryFile(suffix=".json", dir=os.path.join(REPO, ".build")) as fh:
        task = {f"rhdh.orchestrator.{module}": params, "register": "out", "ignore_errors": not expect_ok}
        keep = {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": fh.name, "mode": "0600"},
                "check_mode": False, "diff": False}
        args = (["--check"] if check else []) + (["--diff"] if diff else [])
        res = play(kube, tasks=[task, keep], extra_args=args)
        assert res.returncode == 0, res.stdout + res.stderr
        with open(fh.name, encoding="utf-8") as result:
            return json.loads(result.read()), res


# ---- roles ----------------------------------------------------------------------------------------

def test_rhdh_role_keeps_a_preexisting_rhdh_namespace_and_operator_namespace(kube):
    """The RHDH namespace and the operator's namespace (rhdh-operator, a document
    of the release manifest, deleted on removal when it is not the RHDH
    namespace) both existed with the user's data: neither is labelled nor deleted."""
    rhdh_ns = f"own-rhdh-{suffix()}"
    seed(kube, "rhdh-operator")
    seed(kube, rhdh_ns)
    variables = dict(rhdh_namespace=rhdh_ns, rhdh_wait_timeout=120, **manifest_vars(kube, "rhdh-operator", "rhdh"))
    try:
        res = play(kube, roles=[{"role": "rhdh.orchestrator.rhdh", "vars": variables}])
        assert res.returncode == 0, res.stdout[-4000:]
        for ns in ("rhdh-operator", rhdh_ns):
            assert_untouched(kube, ns)
        assert "RHDH operator: Namespace rhdh-operator existed before the collection" in flat(res.stdout)
        operator = kube.json("get", "deployment", "rhdh-operator", "-n", "rhdh-operator")
        assert operator["metadata"]["labels"][MANIFEST_MARK[0]] == MANIFEST_MARK[1]

        res = play(kube, roles=[{"role": "rhdh.orchestrator.rhdh", "vars": dict(variables, rhdh_state="absent")}])
        assert res.returncode == 0, res.stdout[-4000:]
        for ns in ("rhdh-operator", rhdh_ns):
            assert_untouched(kube, ns)
        # What the collection created of the manifest is gone; the CRD stays.
        assert not exists(kube, "deployment", "rhdh-operator", "-n", "rhdh-operator")
        assert not exists(kube, "configmap", "rhdh-default-config", "-n", "rhdh-operator")
        assert exists(kube, "crd", "backstages.rhdh.redhat.com")
    finally:
        gone(kube, rhdh_ns, wait=False)
        gone(kube, "rhdh-operator")


def test_sonataflow_role_keeps_a_preexisting_workflow_namespace_and_operator_namespace(kube):
    wf_ns = f"own-wf-{suffix()}"
    seed(kube, "sonataflow-operator-system")
    seed(kube, wf_ns)
    variables = dict(sonataflow_namespace=wf_ns, sonataflow_wait_timeout=120,
                     **manifest_vars(kube, "sonataflow-operator", "sonataflow"))
    try:
        res = play(kube, roles=[{"role": "rhdh.orchestrator.sonataflow", "vars": variables}])
        assert res.returncode == 0, res.stdout[-4000:]
        for ns in ("sonataflow-operator-system", wf_ns):
            assert_untouched(kube, ns)
        assert "Namespace sonataflow-operator-system existed before the collection" in flat(res.stdout)
        assert exists(kube, "sonataflowplatform", "sonataflow-platform", "-n", wf_ns)

        res = play(kube, roles=[{"role": "rhdh.orchestrator.sonataflow",
                                 "vars": dict(variables, sonataflow_state="absent")}])
        assert res.returncode == 0, res.stdout[-4000:]
        for ns in ("sonataflow-operator-system", wf_ns):
            assert_untouched(kube, ns)
        assert not exists(kube, "deployment", "sonataflow-operator-controller-manager",
                          "-n", "sonataflow-operator-system")
        assert exists(kube, "crd", "sonataflowplatforms.sonataflow.org")
    finally:
        gone(kube, wf_ns, wait=False)
        gone(kube, "sonataflow-operator-system")


def test_postgres_role_keeps_a_preexisting_namespace_and_marks_the_one_it_creates(kube):
    theirs, ours = f"own-pg-{suffix()}", f"own-pg-new-{suffix()}"
    seed(kube, theirs)

    def both(**more):
        return [{"name": f"postgres in {ns}", "ansible.builtin.include_role": {"name": "rhdh.orchestrator.postgres"},
                 "vars": dict(postgres_namespace=ns, postgres_wait_timeout=120, **more)} for ns in (theirs, ours)]
    try:
        res = play(kube, tasks=both())
        assert res.returncode == 0, res.stdout[-4000:]
        assert_untouched(kube, theirs)
        created = kube.json("get", "namespace", ours)["metadata"]["labels"]
        assert created.get(NS_MARK[0]) == NS_MARK[1]
        res = play(kube, tasks=both(postgres_state="absent"))
        assert res.returncode == 0, res.stdout[-4000:]
        assert_untouched(kube, theirs)
        assert not exists(kube, "statefulset", "sonataflow-psql-postgresql", "-n", theirs)
    finally:
        gone(kube, theirs, ours, wait=False)


def test_operator_absent_deletes_nothing_when_the_operator_deployment_was_there_before(kube, tmp_path):
    """operator_install from a manifest whose Deployment the user runs already:
    install leaves it as it is; removal deletes nothing of the manifest, not
    even what the collection created beside it."""
    ns = f"own-op-{suffix()}"
    seed(kube, ns)
    docs = manifest_docs(ns, image="op:1")
    user_dep = docs[-1]
    user_dep = dict(user_dep, metadata=dict(user_dep["metadata"], labels=dict(USER_LABELS)),
                    spec=dict(user_dep["spec"], template={"metadata": {"labels": {"app": "op"}}, "spec": {
                        "containers": [{"name": "manager", "image": "mine:7"}]}}))
    kube.kubectl("apply", "-f", "-", stdin=json.dumps(user_dep))
    path = tmp_path / "operator.yaml"
    path.write_text(yaml.safe_dump_all([d for d in docs if d["kind"] != "CustomResourceDefinition"]))
    variables = {"operator_install_method": "manifest", "operator_install_label": "Own operator",
                 "operator_install_manifest_file": str(path),
                 "operator_install_manifest_checksum": "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(),
                 "operator_install_deployment": "op", "operator_install_deployment_namespace": ns,
                 "operator_install_delete_namespace": True, "operator_install_wait_timeout": 60}
    try:
        res = play(kube, roles=[{"role": "rhdh.orchestrator.operator_install", "vars": variables}])
        assert res.returncode == 0, res.stdout[-4000:]
        dep = kube.json("get", "deployment", "op", "-n", ns)
        assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "mine:7"
        assert MANIFEST_MARK[0] not in dep["metadata"]["labels"]
        assert exists(kube, "serviceaccount", "op", "-n", ns)
        res = play(kube, roles=[{"role": "rhdh.orchestrator.operator_install",
                                 "vars": dict(variables, operator_install_state="absent")}])
        assert res.returncode == 0, res.stdout[-4000:]
        assert (f"Own operator: Deployment {ns}/op existed before the collection installed the manifest"
                in flat(res.stdout)), res.stdout[-3000:]
        assert_untouched(kube, ns)
        assert exists(kube, "deployment", "op", "-n", ns) and exists(kube, "serviceaccount", "op", "-n", ns)
    finally:
        gone(kube, ns, wait=False)


# ---- the modules ----------------------------------------------------------------------------------

CRD_NAME = "widgets.ownership.test"


def manifest_docs(ns, image="op:1"):
    labels = {"app": "op"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": CRD_NAME},
         "spec": {"group": "ownership.test", "scope": "Namespaced",
                  "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                  "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                      "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "op", "namespace": ns}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "op", "namespace": ns},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [{"name": "manager", "image": image}]}}}},
    ]


@pytest.fixture(scope="module")
def user_namespace(kube):
    """The user's namespace with their ConfigMap, Secret and their own Deployment `pre`."""
    ns = f"own-mf-{suffix()}"
    seed(kube, ns)
    kube.kubectl("create", "deployment", "pre", "-n", ns, "--image=mine:1")
    yield ns
    gone(kube, ns, wait=False)
    kube.kubectl("delete", "crd", CRD_NAME, "--ignore-not-found")


def pre_doc(ns, image="op:1"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pre", "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pre"}},
                     "template": {"metadata": {"labels": {"app": "pre"}},
                                  "spec": {"containers": [{"name": "mine", "image": image}]}}}}


def test_manifest_module_takes_nothing_over_and_removes_only_its_own(kube, user_namespace):
    ns = user_namespace
    kube.kubectl("delete", "crd", CRD_NAME, "--ignore-not-found")
    docs = manifest_docs(ns) + [pre_doc(ns)]
    mine = [f"CustomResourceDefinition {CRD_NAME}", f"ServiceAccount {ns}/op", f"Deployment {ns}/op"]
    theirs = [f"Namespace {ns}", f"Deployment {ns}/pre"]

    # Check mode: what would happen, nothing sent.
    out, _res = run(kube, "manifest", {"definitions": docs}, check=True, diff=True)
    assert out["changed"] and out["created"] == mine and out["preexisting"] == theirs and out["updated"] == []
    assert not exists(kube, "crd", CRD_NAME) and not exists(kube, "serviceaccount", "op", "-n", ns)

    out, _res = run(kube, "manifest", {"definitions": docs})
    assert out["changed"] and out["created"] == mine and out["preexisting"] == theirs
    assert_untouched(kube, ns)
    pre = kube.json("get", "deployment", "pre", "-n", ns)
    assert pre["spec"]["template"]["spec"]["containers"][0]["image"] == "mine:1"
    assert MANIFEST_MARK[0] not in (pre["metadata"].get("labels") or {})
    for kind, name in (("crd", CRD_NAME), ("serviceaccount", "op"), ("deployment", "op")):
        obj = kube.json("get", kind, name, "-n", ns)
        assert obj["metadata"]["labels"][MANIFEST_MARK[0]] == MANIFEST_MARK[1]

    # Again: nothing changes, in check mode or not.
    for check in (True, False):
        out, _res = run(kube, "manifest", {"definitions": docs}, check=check)
        assert not out["changed"] and out["created"] == out["updated"] == [], out

    # A new release in check mode: the change is reported (server-side dry run), not made.
    newer = manifest_docs(ns, image="op:2") + [pre_doc(ns)]
    out, _res = run(kube, "manifest", {"definitions": newer}, check=True, diff=True)
    assert out["changed"] and out["updated"] == [f"Deployment {ns}/op"] and out["created"] == []
    assert kube.json("get", "deployment", "op", "-n", ns)["spec"]["template"]["spec"]["containers"][0][
        "image"] == "op:1"

    # Removal in check mode deletes nothing.
    absent = {"definitions": docs, "state": "absent", "delete_namespaces": True, "wait_timeout": 60}
    out, _res = run(kube, "manifest", absent, check=True)
    assert out["deleted"] == [f"Deployment {ns}/op", f"ServiceAccount {ns}/op"]
    assert exists(kube, "deployment", "op", "-n", ns)

    # Removal: only what carries the label, in reverse order; CRDs and the user's objects stay.
    out, _res = run(kube, "manifest", absent)
    assert out["changed"] and out["deleted"] == [f"Deployment {ns}/op", f"ServiceAccount {ns}/op"]
    assert out["kept"] == [f"Deployment {ns}/pre", f"CustomResourceDefinition {CRD_NAME}", f"Namespace {ns}"]
    assert out["kept_reasons"][f"CustomResourceDefinition {CRD_NAME}"] == (
        "kind CustomResourceDefinition is kept (keep_kinds)")
    assert out["kept_reasons"][f"Namespace {ns}"].startswith("pre-existing")
    assert not exists(kube, "deployment", "op", "-n", ns) and not exists(kube, "serviceaccount", "op", "-n", ns)
    assert exists(kube, "deployment", "pre", "-n", ns) and exists(kube, "crd", CRD_NAME)
    assert_untouched(kube, ns)


def test_namespace_module_creates_marks_and_deletes_only_its_own(kube, user_namespace):
    ours = f"own-ns-{suffix()}"
    names = [ours, user_namespace]
    try:
        out, _res = run(kube, "namespace", {"names": names, "labels": {"tier": "wf"}}, check=True)
        assert out["changed"] and out["created"] == [ours] and out["preexisting"] == [user_namespace]
        assert not exists(kube, "namespace", ours)

        out, _res = run(kube, "namespace", {"names": names, "labels": {"tier": "wf"}})
        assert out["created"] == [ours] and out["existing"] == out["preexisting"] == [user_namespace]
        labels = kube.json("get", "namespace", ours)["metadata"]["labels"]
        assert labels[NS_MARK[0]] == NS_MARK[1] and labels["tier"] == "wf"
        assert_untouched(kube, user_namespace)
        out, _res = run(kube, "namespace", {"names": names, "labels": {"tier": "wf"}})
        assert not out["changed"] and out["existing"] == names

        out, _res = run(kube, "namespace", {"names": names, "state": "absent"}, check=True)
        assert out["changed"] and out["deleted"] == [ours]
        assert not kube.json("get", "namespace", ours)["metadata"].get("deletionTimestamp")

        # Content with a finalizer holds the namespace: the timeout names it.
        kube.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "held", "namespace": ours, "finalizers": ["ownership.test/hold"]}}))
        out, res = run(kube, "namespace", {"names": names, "state": "absent", "wait_timeout": 8}, expect_ok=False)
        assert out["failed"], out
        assert f"Namespace {ours} is still there (phase Terminating" in out["msg"]
        assert "ownership.test/hold" in out["msg"], out["msg"]
        kube.kubectl("patch", "configmap", "held", "-n", ours, "--type=merge", "-p",
                     json.dumps({"metadata": {"finalizers": None}}))

        out, _res = run(kube, "namespace", {"names": names, "state": "absent", "wait_timeout": 60})
        assert out["deleted"] == [] or out["deleted"] == [ours]
        assert not exists(kube, "namespace", ours)
        assert out["kept"] == [{"name": user_namespace, "reason": (
            "pre-existing: it does not carry app.kubernetes.io/managed-by=rhdh.orchestrator, "
            "so the collection did not create it")}]
        assert_untouched(kube, user_namespace)
    finally:
        kube.kubectl("patch", "configmap", "held", "-n", ours, "--type=merge", "-p",
                     json.dumps({"metadata": {"finalizers": None}}), check=False)
        gone(kube, ours, wait=False)

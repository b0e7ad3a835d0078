"""OLM as it behaves upstream, through the olm_operator module against the OLM
simulator (openshift flavour): Manual upgrades that wait, approval that never
goes past a pinned CSV, retried and final CSV failures, install modes,
resolution failures, and Subscriptions that belong to someone else.

Each test runs its module calls in one playbook where it can (ansible start-up
is most of the time) and dumps the registered results as JSON.
"""
import json
import os
import time
import uuid

import pytest
from ansible_run import play  # pylint: disable=import-error
from test_operators import clear_fault, set_fault  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

MODULE = "rhdh.orchestrator.olm_operator"
PKG = "serverless-operator"
V1, V2 = "serverless-operator.v1.35.0", "serverless-operator.v1.36.0"
SERVING = "knativeservings.operator.knative.dev"
PLATFORMS = "sonataflowplatforms.sonataflow.org"
OURS = {"app.kubernetes.io/managed-by": "rhdh.orchestrator"}


class Run:
    """The registered results of a playbook's calls, its output (flattened) and how long it took."""

    def __init__(self, results, out, took):
        self.results, self.out, self.took = results, out, took

    @property
    def one(self):
        assert len(self.results) == 1
        return self.results[0]


def run(cluster, tmp_path, *calls, extra_args=()):
    """Each params dict is one olm_operator call (errors ignored, so later calls
    still run); returns a Run."""
    dump = tmp_path / f"results-{uuid.uuid4().hex[:6]}.json"
    names = [f"r{i}" for i in range(len(calls))]
    tasks = [{"name": f"olm {i}", MODULE: params, "register": name, "ignore_errors": True}
             for i, (name, params) in enumerate(zip(names, calls))]
    tasks.append({"name": "dump", "ansible.builtin.copy": {
        "dest": str(dump), "mode": "0600", "content": "{{ [" + ", ".join(names) + "] | to_json }}"}})
    started = time.monotonic()
    res = play(cluster, tasks=tasks, extra_args=extra_args)
    took = time.monotonic() - started
    assert os.path.exists(dump), res.stdout + res.stderr
    return Run(json.loads(dump.read_text()), flat(res.stdout + res.stderr), took)


def serverless(namespace, **more):
    params = {"package": PKG, "namespace": namespace, "channel": "stable", "wait_timeout": 60}
    params.update(more)
    return params


def wait_for(what, check, timeout=40):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def sub_status(cluster, namespace, name=PKG):
    return cluster.json("get", "subscriptions.operators.coreos.com", name, "-n", namespace).get("status") or {}


def csv_phase(cluster, namespace, name):
    res = cluster.kubectl("get", "csv", name, "-n", namespace, "-o", "jsonpath={.status.phase}", check=False)
    return res.stdout if res.returncode == 0 else None


@pytest.fixture
def ns(openshift):
    name = f"olm-{uuid.uuid4().hex[:6]}"
    yield name
    openshift.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_manual_upgrade_waits_and_approval_never_passes_the_pin(openshift, ns, tmp_path):
    pinned = serverless(ns, starting_csv=V1, install_plan_approval="Manual", approve_install_plan=True)
    both = run(openshift, tmp_path, pinned, pinned)
    first, again = both.results
    assert not first.get("failed"), first
    # The pinned plan was approved and installed; the upgrade plan OLM then made waits.
    assert first["installed_csv"] == V1 and first["csv_phase"] == "Succeeded" and first["pending_upgrade"] == V2
    status = sub_status(openshift, ns)
    plans = {p["metadata"]["name"]: p for p in openshift.json("get", "installplans", "-n", ns)["items"]}
    upgrade = plans[status["installPlanRef"]["name"]]
    assert status["state"] == "UpgradePending" and status["installedCSV"] == V1 and status["currentCSV"] == V2
    assert upgrade["spec"]["clusterServiceVersionNames"] == [V2] and upgrade["spec"]["approved"] is False
    assert status["installplan"]["name"] == upgrade["metadata"]["name"]
    pending = [c for c in status["conditions"] if c["type"] == "InstallPlanPending"]
    assert pending and pending[0]["reason"] == "RequiresApproval"
    assert csv_phase(openshift, ns, V1) == "Succeeded" and csv_phase(openshift, ns, V2) is None
    assert f"InstallPlan {ns}/{upgrade['metadata']['name']} for the upgrade to {V2} waits for manual approval" \
        in both.out
    # A rerun changes nothing and names the pending upgrade again.
    assert again["changed"] is False and not again.get("failed") and again["pending_upgrade"] == V2
    assert again["actions"] == []

    # Without the pin the upgrade is what was asked: approved and waited for.
    unpinned = run(openshift, tmp_path, serverless(ns, install_plan_approval="Manual", approve_install_plan=True)).one
    assert not unpinned.get("failed"), unpinned
    assert unpinned["installed_csv"] == V2 and unpinned["pending_upgrade"] == ""
    assert f"approved InstallPlan {ns}/{upgrade['metadata']['name']} for {V2}" in unpinned["actions"]
    wait_for("the replaced CSV to go", lambda: csv_phase(openshift, ns, V1) is None)


def test_retried_csv_failure_waits_for_the_timeout_and_a_final_one_fails_at_once(openshift, ns, tmp_path):
    key = f"subscription.{ns}.{PKG}"
    set_fault(openshift, key, "csv-install-check-failed")
    try:
        attempt = run(openshift, tmp_path, serverless(ns, wait_timeout=4))
        retried = attempt.one
        assert retried.get("failed") and attempt.took >= 4
        assert retried["msg"].startswith(f"Operator {PKG} in {ns}: timed out after 4s: "), retried["msg"]
        assert f"ClusterServiceVersion {ns}/{V2} Failed: InstallCheckFailed: install failed: deployment " \
            "knative-openshift not ready before timeout" in retried["msg"]
        # OLM retries it: once the cause is gone the CSV recovers and the same call succeeds.
        clear_fault(openshift, key)
        recovered = run(openshift, tmp_path, serverless(ns)).one
        assert not recovered.get("failed") and recovered["csv_phase"] == "Succeeded", recovered
        set_fault(openshift, key, "csv-failed")
        attempt = run(openshift, tmp_path, serverless(ns, wait_timeout=60))
    finally:
        clear_fault(openshift, key)
    final = attempt.one
    assert final.get("failed") and "timed out" not in final["msg"] and attempt.took < 30
    assert f"ClusterServiceVersion {ns}/{V2} Failed: InstallComponentFailed: install strategy failed" in final["msg"]


def test_operator_group_with_target_namespaces(openshift, ns, tmp_path):
    openshift.kubectl("create", "namespace", ns)
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
        "metadata": {"name": "own-only", "namespace": ns}, "spec": {"targetNamespaces": [ns]}}))
    attempt = run(openshift, tmp_path, serverless(ns))
    refused = attempt.one
    assert refused.get("failed") and attempt.took < 30
    assert f"OperatorGroup {ns}/own-only makes the operators of namespace {ns} watch {ns} (OwnNamespace)" \
        in refused["msg"]
    assert "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace" in refused["msg"]
    assert openshift.json("get", "subscriptions.operators.coreos.com", "-n", ns)["items"] == [], "nothing is created"

    # OLM itself fails the CSV the same way, and retries it once the group selects all namespaces.
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
        "metadata": {"name": PKG, "namespace": ns},
        "spec": {"name": PKG, "channel": "stable", "source": "redhat-operators",
                 "sourceNamespace": "openshift-marketplace"}}))
    failed = wait_for("the CSV to fail", lambda: (openshift.json("get", "csv", V2, "-n", ns).get("status") or {})
                      if csv_phase(openshift, ns, V2) == "Failed" else None)
    assert failed["reason"] == "UnsupportedOperatorGroup"
    assert failed["message"] == "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace"
    openshift.kubectl("patch", "operatorgroup", "own-only", "-n", ns, "--type=json",
                      "-p", json.dumps([{"op": "remove", "path": "/spec/targetNamespaces"}]))
    wait_for("the CSV to recover", lambda: csv_phase(openshift, ns, V2) == "Succeeded")


def test_wrong_starting_csv_fails_at_once_with_olms_resolution_failure(openshift, ns, tmp_path):
    attempt = run(openshift, tmp_path, serverless(ns, starting_csv="serverless-operator.v9.9.9"))
    res = attempt.one
    assert res.get("failed") and attempt.took < 30 and "timed out" not in res["msg"]
    message = ("constraints not satisfiable: no operators found with name serverless-operator.v9.9.9 in channel "
               f"stable of package {PKG} in the catalog referenced by subscription {PKG}, subscription {PKG} exists")
    assert f"Subscription {ns}/{PKG} cannot be resolved: ResolutionFailed (ConstraintsNotSatisfiable): {message}" \
        in res["msg"]
    cond = [c for c in sub_status(openshift, ns)["conditions"] if c["type"] == "ResolutionFailed"][0]
    assert (cond["status"], cond["reason"], cond["message"]) == ("True", "ConstraintsNotSatisfiable", message)


def test_foreign_subscription_is_used_never_changed_and_never_removed(openshift, ns, tmp_path):
    other = f"{ns}-x"
    openshift.kubectl("create", "namespace", ns)
    foreign = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
               "metadata": {"name": "my-serverless", "namespace": ns, "labels": {"team": "platform"}},
               "spec": {"name": PKG, "channel": "stable", "source": "redhat-operators",
                        "sourceNamespace": "openshift-marketplace", "installPlanApproval": "Automatic"}}
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
        "metadata": {"name": "theirs", "namespace": ns}, "spec": {}}))
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps(foreign))
    wait_for("their install", lambda: csv_phase(openshift, ns, V2) == "Succeeded")
    before = openshift.json("get", "subscriptions.operators.coreos.com", "my-serverless", "-n", ns)
    try:
        calls = run(
            openshift, tmp_path,
            serverless(ns, install_plan_approval="Manual", approve_install_plan=True),   # same namespace
            serverless(other),                                                            # anywhere in the cluster
            serverless(ns, state="absent", delete_namespace=True, crds=[SERVING]))
        present, elsewhere, absent = calls.results
        for res in (present, elsewhere):
            assert not res.get("failed"), res
            assert res["preexisting"] is True and res["changed"] is False and res["actions"] == []
            assert res["subscription"] == {"namespace": ns, "name": "my-serverless"}
            assert res["installed_csv"] == V2
        assert "installPlanApproval: asked 'Manual', has 'Automatic'" in calls.out
        assert openshift.kubectl("get", "namespace", other, check=False).returncode != 0, "nothing is created"
        assert not absent.get("failed") and absent["changed"] is False, absent
        theirs = f"Subscription {ns}/my-serverless and its CSV {V2}: not managed"
        assert any(k.startswith(theirs) for k in absent["kept"])
        assert any(k.startswith(f"Namespace {ns}: not created by rhdh.orchestrator") for k in absent["kept"])
        after = openshift.json("get", "subscriptions.operators.coreos.com", "my-serverless", "-n", ns)
        assert after["spec"] == before["spec"] and after["metadata"]["labels"] == {"team": "platform"}
        assert after["metadata"]["generation"] == before["metadata"]["generation"]
        assert csv_phase(openshift, ns, V2) == "Succeeded"
        assert openshift.kubectl("get", "operatorgroup", "theirs", "-n", ns, check=False).returncode == 0
        assert not openshift.json("get", "namespace", ns)["metadata"].get("deletionTimestamp")
    finally:
        # Nothing of theirs may outlive the test: other tests would find it.
        openshift.kubectl("delete", "subscriptions.operators.coreos.com", "my-serverless", "-n", ns, "--wait=true", check=False)
        openshift.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_shared_operator_is_kept_unless_remove_shared(openshift, ns, tmp_path):
    users = f"{ns}-cr"
    logic = {"package": "logic-operator", "namespace": ns, "channel": "stable", "crds": [PLATFORMS]}
    installed = run(openshift, tmp_path, logic).one
    assert not installed.get("failed"), installed
    assert openshift.json("get", "namespace", ns)["metadata"]["labels"].items() >= OURS.items()
    openshift.kubectl("create", "namespace", users)
    openshift.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "sonataflow.org/v1alpha08", "kind": "SonataFlowPlatform",
        "metadata": {"name": "theirs", "namespace": users}, "spec": {}}))
    try:
        absent = dict(logic, state="absent", delete_namespace=True)
        kept, removed = run(openshift, tmp_path, absent, dict(absent, remove_shared=True)).results
        assert not kept.get("failed") and kept["changed"] is False and kept["actions"] == [], kept
        assert f"SonataFlowPlatform {users}/theirs" in kept["kept"][0] and "remove_shared" in kept["kept"][0]
        assert not removed.get("failed") and removed["kept"] == [], removed
        assert removed["actions"][:2] == [f"deleted Subscription {ns}/logic-operator",
                                          f"deleted ClusterServiceVersion {ns}/logic-operator.v1.38.0"]
        assert f"deleted Namespace {ns}" in removed["actions"]
        assert openshift.kubectl("get", "sonataflowplatform", "theirs", "-n", users, check=False).returncode == 0
    finally:
        openshift.kubectl("delete", "namespace", users, "--wait=false", check=False)

"""The olm_operator module's decisions (plugins/module_utils/olm.py) against an
in-memory API, and the OLM simulator's resolution rules (sim/olm.py)."""
import copy
import importlib.util
import itertools
import os

import pytest

from testcluster.sim import olm as sim

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "olm.py")
_SPEC = importlib.util.spec_from_file_location("olm_logic", _PATH)
olm = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(olm)

NS = "openshift-serverless"
PKG = "serverless-operator"
V1, V2 = "serverless-operator.v1.35.0", "serverless-operator.v1.36.0"
OURS = {olm.MANAGED_BY: olm.OURS}


# ---- an in-memory API -----------------------------------------------------------
def _merge(into, patch):
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _selected(labels, selector):
    for part in filter(None, (selector or "").split(",")):
        key, value = (part.split("=", 1) + [""])[:2]
        if (value and labels.get(key) != value) or (not value and key not in labels):
            return False
    return True


class FakeKube:
    """get/list/create/merge_patch/delete/events/crd_established over dicts; writes are recorded."""

    def __init__(self, *objects, check_mode=False):
        self.objects = {}
        self.check_mode = check_mode
        self.writes = []
        self.established = set()
        self.event_lines = {}
        for obj in objects:
            self.put(obj)

    @staticmethod
    def key(kind, namespace, name):
        return kind, namespace or "", name

    def put(self, obj):
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})
        meta = obj["metadata"]
        self.objects[self.key(obj["kind"], meta.get("namespace"), meta["name"])] = obj

    def obj(self, kind, name, namespace=None):
        return self.objects.get(self.key(kind, namespace, name))

    def get(self, api_version, kind, name, namespace=None):
        found = self.obj(kind, name, namespace)
        return copy.deepcopy(found) if found else None

    def list(self, api_version, kind, namespace=None, label_selector=None):
        return [copy.deepcopy(o) for key, o in sorted(self.objects.items())
                if key[0] == kind and (namespace is None or key[1] == namespace)
                and _selected(o["metadata"].get("labels") or {}, label_selector)]

    def create(self, body):
        self.writes.append(("create", body["kind"], body["metadata"].get("namespace"), body["metadata"]["name"]))
        if not self.check_mode:
            self.put(body)
        return body

    def merge_patch(self, api_version, kind, name, namespace, patch):
        self.writes.append(("patch", kind, namespace, name, copy.deepcopy(patch)))
        if not self.check_mode:
            _merge(self.objects[self.key(kind, namespace, name)], patch)
        return patch

    def delete(self, api_version, kind, name, namespace=None):
        if self.obj(kind, name, namespace) is None:
            return False
        self.writes.append(("delete", kind, namespace, name))
        if not self.check_mode:
            del self.objects[self.key(kind, namespace, name)]
        return True

    def events(self, obj):
        return self.event_lines.get(obj["metadata"]["name"], [])

    def crd_established(self, name):
        if name in self.established:
            return True, {}
        return None, "CustomResourceDefinition {0} not Established".format(name)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


# ---- objects ---------------------------------------------------------------------
def namespace(name=NS, labels=None):
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def group(name="og", ns=NS, labels=None, **spec):
    return {"kind": "OperatorGroup", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": spec}


def subscription(name=PKG, ns=NS, labels=None, installed="", current="", plan="", state="AtLatestKnown",
                 conditions=None, **spec):
    body = {"name": PKG, "source": "redhat-operators", "sourceNamespace": "openshift-marketplace",
            "installPlanApproval": "Automatic", "channel": "stable"}
    body.update(spec)
    status = {"state": state, "installedCSV": installed, "currentCSV": current or installed,
              "conditions": conditions or []}
    if plan:
        status["installPlanRef"] = {"name": plan, "namespace": ns}
    return {"kind": "Subscription", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": body, "status": status}


def plan(name, csvs, approved, ns=NS):
    return {"kind": "InstallPlan", "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterServiceVersionNames": csvs, "approved": approved,
                     "approval": "Automatic" if approved else "Manual"}}


def csv(name, phase="Succeeded", reason="InstallSucceeded", message="", ns=NS):
    return {"kind": "ClusterServiceVersion",
            "metadata": {"name": name, "namespace": ns, "labels": {"operators.coreos.com/{0}.{1}".format(PKG, ns): ""}},
            "status": {"phase": phase, "reason": reason, "message": message}}


def params(**more):
    out = {"state": "present", "name": None, "package": PKG, "namespace": NS, "channel": "stable",
           "source": "redhat-operators", "source_namespace": "openshift-marketplace",
           "install_plan_approval": "Automatic", "approve_install_plan": False, "starting_csv": None,
           "config": None, "operator_group": None, "install_modes": ["AllNamespaces"], "adopt": False,
           "remove_shared": False, "create_namespace": True, "crds": [], "replaces": [], "wait": True,
           "wait_timeout": 30, "delete_namespace": False}
    out.update(more)
    return out


def operator(kube, **more):
    """The logic on kube with a fake clock (op.clock); its warnings are in op.warnings."""
    clock = Clock()
    return olm.OlmOperator(kube, params(**more), check_mode=kube.check_mode, clock=clock, sleep=clock.sleep)


def installed_cluster(*extra, **sub):
    return FakeKube(namespace(labels=OURS), group(labels=OURS), csv(sub.get("installed", V2)),
                    subscription(labels=OURS, **dict({"installed": V2}, **sub)), *extra)


# ---- pure rules --------------------------------------------------------------------
def test_a_plan_is_approvable_only_when_it_installs_the_pin():
    upgrade = plan("install-b", [V2], False)
    assert olm.plan_approvable(upgrade, None)
    assert olm.plan_approvable(upgrade, "")
    assert not olm.plan_approvable(upgrade, V1)
    assert olm.plan_approvable(plan("install-a", [V1], False), V1)


def test_spec_patch_sets_what_differs_and_drops_optional_keys_not_asked():
    want = {"name": PKG, "channel": "stable", "installPlanApproval": "Manual"}
    have = {"name": PKG, "channel": "fast", "installPlanApproval": "Manual", "startingCSV": V1}
    assert olm.spec_patch(want, have) == {"channel": "stable", "startingCSV": None}
    assert olm.spec_patch(want, dict(want)) == {}
    assert olm.spec_differences(want, have) == ["channel: asked 'stable', has 'fast'",
                                                "startingCSV: asked None, has '{0}'".format(V1)]


def test_operator_group_targets_as_olm_computes_them():
    assert olm.operator_group_targets(group(), lambda s: []) == [""]
    assert olm.operator_group_targets(group(selector={}), lambda s: []) == [""]
    assert olm.operator_group_targets(group(targetNamespaces=["b", "a", "b"]), lambda s: []) == ["a", "b"]
    seen = []
    og = group(selector={"matchLabels": {"team": "x"}, "matchExpressions": [
        {"key": "env", "operator": "In", "values": ["dev", "qa"]}, {"key": "tmp", "operator": "DoesNotExist"}]})
    assert olm.operator_group_targets(og, lambda s: seen.append(s) or ["n1"]) == ["n1"]
    assert seen == ["team=x,env in (dev,qa),!tmp"]
    og["status"] = {"namespaces": ["n2"]}
    assert olm.operator_group_targets(og, lambda s: ["n1"]) == ["n2"]


@pytest.mark.parametrize("targets, mode", [([""], "AllNamespaces"), ([NS], "OwnNamespace"), (["x"], "SingleNamespace"),
                                           (["x", "y"], "MultiNamespace"), ([], "no namespace")])
def test_install_mode_names(targets, mode):
    assert olm.install_mode_of(NS, targets) == mode


def _subsets(items, most=None):
    return [list(c) for n in range((most or len(items)) + 1) for c in itertools.combinations(items, n)]


def test_install_mode_rule_matches_the_simulator_and_allows_only_listed_modes():
    """Every set of supported modes against every target set of up to three namespaces."""
    for modes in _subsets(olm.INSTALL_MODES):
        for targets in _subsets(["", NS, "a", "b"], 3):
            why = olm.unsupported_reason(modes, NS, targets)
            assert why == sim.install_mode_error(modes, NS, targets)
            if why is None:
                assert olm.install_mode_of(NS, targets) in modes
            if modes == ["AllNamespaces"]:
                assert (why is None) == (targets == [""])


def test_csv_failures_are_classified_as_olm_retries_them():
    for reason in ("InstallCheckFailed", "NoOperatorGroup", "TooManyOperatorGroups", "UnsupportedOperatorGroup"):
        assert olm.csv_failure(csv(V1, "Failed", reason, "m")) == (True, reason, "m")
    assert olm.csv_failure(csv(V1, "Failed", "InstallComponentFailed", "m"))[0] is False
    assert olm.csv_failure(csv(V1)) is None


# ---- install and wait --------------------------------------------------------------
def test_a_new_install_labels_what_it_creates_and_the_group_selects_all_namespaces():
    kube = FakeKube()
    op = operator(kube, wait=False, operator_group="serverless-operator-group")
    res = op.present()
    assert [w[:4] for w in kube.writes] == [("create", "Namespace", None, NS),
                                            ("create", "OperatorGroup", NS, "serverless-operator-group"),
                                            ("create", "Subscription", NS, PKG)]
    for kind, name in (("Namespace", NS), ("OperatorGroup", "serverless-operator-group"), ("Subscription", PKG)):
        assert kube.obj(kind, name, None if kind == "Namespace" else NS)["metadata"]["labels"] == OURS
    assert kube.obj("OperatorGroup", "serverless-operator-group", NS)["spec"] == {}
    assert res["preexisting"] is False and res["subscription"] == {"namespace": NS, "name": PKG}


def test_check_mode_creates_nothing_and_reports_it():
    kube = FakeKube(check_mode=True)
    op = operator(kube)
    res = op.present()
    assert res["actions"] == ["created Namespace {0}".format(NS), "created OperatorGroup {0}/{0}".format(NS),
                              "created Subscription {0}/{1}".format(NS, PKG)]
    assert kube.objects == {}


def test_an_installed_operator_is_ok_without_any_write():
    kube = installed_cluster()
    op = operator(kube)
    res = op.present()
    assert res["installed_csv"] == V2 and res["csv_phase"] == "Succeeded" and res["pending_upgrade"] == ""
    assert res["actions"] == [] and kube.writes == [] and op.warnings == []


def test_manual_upgrade_waiting_is_healthy_and_named():
    kube = installed_cluster(plan("install-up", [V2], False), installed=V1, current=V2, plan="install-up",
                             state="UpgradePending", installPlanApproval="Manual")
    op = operator(kube, install_plan_approval="Manual")
    res = op.present()
    assert res["installed_csv"] == V1 and res["pending_upgrade"] == V2
    assert res["actions"] == [] and kube.writes == []
    assert len(op.warnings) == 1 and V2 in op.warnings[0]
    assert "InstallPlan {0}/install-up".format(NS) in op.warnings[0]
    assert "{0} stays installed".format(V1) in op.warnings[0]


def test_approval_never_goes_past_the_pin():
    kube = installed_cluster(plan("install-up", [V2], False), installed=V1, current=V2, plan="install-up",
                             state="UpgradePending", installPlanApproval="Manual", startingCSV=V1)
    op = operator(kube, install_plan_approval="Manual", approve_install_plan=True, starting_csv=V1)
    res = op.present()
    assert res["pending_upgrade"] == V2 and kube.writes == []
    assert "does not install starting_csv {0}".format(V1) in op.warnings[0]


def test_without_a_pin_the_upgrade_is_approved_and_waited_for():
    kube = installed_cluster(plan("install-up", [V2], False), installed=V1, current=V2, plan="install-up",
                             state="UpgradePending", installPlanApproval="Manual")
    op = operator(kube, install_plan_approval="Manual", approve_install_plan=True)
    calls = []

    def probe():
        calls.append(op.clock())
        if len(calls) == 3:  # OLM installs the upgrade
            kube.put(csv(V2))
            upgraded = {"status": {"installedCSV": V2, "state": "AtLatestKnown"}}
            _merge(kube.objects[("Subscription", NS, PKG)], upgraded)
        return op.probe()

    res = op.wait(probe, 30)
    assert kube.obj("InstallPlan", "install-up", NS)["spec"]["approved"] is True
    assert res["installed_csv"] == V2 and "pending_upgrade" not in res
    assert op.actions == ["approved InstallPlan {0}/install-up for {1}".format(NS, V2)]


def test_the_first_plan_is_approved_when_it_installs_the_pin():
    kube = FakeKube(namespace(labels=OURS), group(labels=OURS), plan("install-a", [V1], False),
                    subscription(labels=OURS, current=V1, plan="install-a", state="UpgradePending",
                                 installPlanApproval="Manual", startingCSV=V1))
    op = operator(kube, install_plan_approval="Manual", approve_install_plan=True, starting_csv=V1)
    done, msg = op.probe()
    assert done is None and msg == "approved InstallPlan {0}/install-a".format(NS)
    assert kube.obj("InstallPlan", "install-a", NS)["spec"]["approved"] is True


def test_an_unapproved_first_plan_fails_saying_why():
    kube = FakeKube(namespace(labels=OURS), group(labels=OURS), plan("install-a", [V1], False),
                    subscription(labels=OURS, current=V1, plan="install-a", state="UpgradePending",
                                 installPlanApproval="Manual"))
    op = operator(kube, install_plan_approval="Manual")
    with pytest.raises(olm.OlmError, match="waits for manual approval.*set approve_install_plan"):
        op.present()


def test_automatic_upgrade_in_progress_is_waited_for():
    kube = installed_cluster(plan("install-up", [V2], True), installed=V1, current=V2, plan="install-up",
                             state="UpgradePending")
    op = operator(kube)
    done, msg = op.probe()
    assert done is None and "upgrading from {0} to {1}".format(V1, V2) in msg


def test_a_retriable_csv_failure_waits_and_is_reported_at_the_timeout():
    kube = installed_cluster()
    kube.put(csv(V2, "Failed", "InstallCheckFailed", "install failed: deployment x not ready before timeout"))
    op = operator(kube, wait_timeout=20)
    with pytest.raises(olm.OlmError) as err:
        op.present()
    assert op.clock() >= 20
    assert err.value.msg.startswith("timed out after 20s: ")
    assert "ClusterServiceVersion {0}/{1} Failed: InstallCheckFailed: install failed".format(NS, V2) in err.value.msg


def test_a_final_csv_failure_ends_the_wait_at_once_with_events():
    kube = installed_cluster()
    kube.put(csv(V2, "Failed", "InstallComponentFailed", "install strategy failed: boom"))
    kube.event_lines[V2] = ["Warning InstallComponentFailed: boom"]
    op = operator(kube, wait_timeout=20)
    with pytest.raises(olm.OlmError) as err:
        op.present()
    assert op.clock() == 0
    assert "InstallComponentFailed: install strategy failed: boom; events: Warning" in err.value.msg


RESOLUTION = "constraints not satisfiable: no operators found with name x in channel stable of package {0}".format(PKG)


def resolution(reason, message=RESOLUTION, when="2026-01-01T00:00:00Z"):
    return [{"type": "ResolutionFailed", "status": "True", "reason": reason, "message": message,
             "lastTransitionTime": when}]


def test_constraints_not_satisfiable_fails_at_once_with_olms_message():
    kube = FakeKube(namespace(labels=OURS), group(labels=OURS),
                    subscription(labels=OURS, state="", conditions=resolution("ConstraintsNotSatisfiable")))
    op = operator(kube)
    with pytest.raises(olm.OlmError) as err:
        op.present()
    assert op.clock() == 0
    assert "ResolutionFailed (ConstraintsNotSatisfiable): " + RESOLUTION in err.value.msg


def test_error_prevented_resolution_is_retried_until_the_timeout():
    kube = FakeKube(namespace(labels=OURS), group(labels=OURS),
                    subscription(labels=OURS, state="", conditions=resolution("ErrorPreventedResolution", "boom")))
    op = operator(kube, wait_timeout=10)
    with pytest.raises(olm.OlmError, match="timed out after 10s.*ErrorPreventedResolution.*boom"):
        op.present()
    assert op.clock() >= 10


def test_a_resolution_failure_from_before_a_spec_change_is_not_trusted_at_once():
    kube = installed_cluster(channel="nope", conditions=resolution("ConstraintsNotSatisfiable"))
    op = operator(kube)
    calls = []

    def probe():
        calls.append(op.clock())
        if op.clock() >= 3:  # OLM resolved the fixed Subscription
            _merge(kube.objects[("Subscription", NS, PKG)], {"status": {"conditions": []}})
        return op.probe()

    op.update_subscription(kube.get("", "Subscription", PKG, NS))
    res = op.wait(probe, 30)
    assert res["installed_csv"] == V2 and op.clock() >= olm.RESOLUTION_SETTLE
    assert op.actions == ["updated Subscription {0}/{1}: channel".format(NS, PKG)]


def test_an_operator_group_that_targets_namespaces_fails_before_any_change():
    kube = FakeKube(namespace(), group("narrow", targetNamespaces=[NS]))
    op = operator(kube)
    with pytest.raises(olm.OlmError) as err:
        op.present()
    assert kube.writes == []
    assert "OperatorGroup {0}/narrow".format(NS) in err.value.msg and "(OwnNamespace)" in err.value.msg
    assert "OwnNamespace InstallModeType not supported, cannot configure to watch own namespace" in err.value.msg
    op = operator(kube, install_modes=["OwnNamespace", "AllNamespaces"], wait=False)
    op.present()
    assert kube.obj("Subscription", PKG, NS) is not None


# ---- ownership ---------------------------------------------------------------------
def test_a_foreign_subscription_is_used_as_it_is_and_reported():
    kube = FakeKube(namespace(), group(), csv(V1),
                    subscription(name="theirs", installed=V1, channel="fast", installPlanApproval="Manual"))
    op = operator(kube)
    res = op.present()
    assert kube.writes == [] and res["actions"] == []
    assert res["preexisting"] is True and res["subscription"] == {"namespace": NS, "name": "theirs"}
    assert res["installed_csv"] == V1
    assert "channel: asked 'stable', has 'fast'" in op.warnings[0]
    assert "installPlanApproval: asked 'Automatic', has 'Manual'" in op.warnings[0]


def test_a_foreign_subscription_elsewhere_is_found_and_nothing_is_created():
    kube = FakeKube(namespace("theirs-ns"), group(ns="theirs-ns"), csv(V2, ns="theirs-ns"),
                    subscription(ns="theirs-ns", installed=V2))
    op = operator(kube)
    res = op.present()
    assert kube.writes == [] and res["subscription"] == {"namespace": "theirs-ns", "name": PKG}
    assert res["preexisting"] is True and res["installed_csv"] == V2


def test_our_subscription_elsewhere_is_not_taken_for_this_namespace():
    kube = FakeKube(namespace("other", labels=OURS), subscription(ns="other", labels=OURS, installed=V2))
    op = operator(kube, wait=False)
    res = op.present()
    assert res["subscription"] == {"namespace": NS, "name": PKG}
    assert ("create", "Subscription", NS, PKG) in [w[:4] for w in kube.writes]


def test_adopt_patches_the_spec_but_never_adds_the_label():
    kube = FakeKube(namespace(), group(), csv(V2), subscription(installed=V2, channel="fast",
                                                                labels={"team": "platform"}))
    op = operator(kube, adopt=True)
    res = op.present()
    sub = kube.obj("Subscription", PKG, NS)
    assert sub["spec"]["channel"] == "stable" and sub["metadata"]["labels"] == {"team": "platform"}
    assert res["preexisting"] is True and op.clock() >= olm.RESOLUTION_SETTLE
    assert res["actions"] == ["updated Subscription {0}/{1} (adopted, not managed by {2}): channel".format(
        NS, PKG, olm.OURS)]


def test_replacing_a_foreign_subscription_needs_adopt():
    kube = FakeKube(namespace(), group(), subscription(name="logic-operator-rhel8", installed="x"))
    op = operator(kube, package="logic-operator", replaces=["logic-operator-rhel8"])
    with pytest.raises(olm.OlmError, match="not managed by rhdh.orchestrator"):
        op.present()
    assert kube.writes == []


# ---- absent ------------------------------------------------------------------------
def test_absent_keeps_a_foreign_subscription_its_csv_and_namespace():
    kube = FakeKube(namespace(), group(), csv(V2), subscription(installed=V2))
    op = operator(kube, state="absent", delete_namespace=True)
    res = op.absent()
    assert kube.writes == [] and res["actions"] == []
    assert any("not managed by rhdh.orchestrator" in k for k in res["kept"])
    assert any(k.startswith("Namespace {0}: not created by".format(NS)) for k in res["kept"])
    assert len(op.warnings) == len(res["kept"])


def test_absent_removes_ours_with_its_group_and_namespace():
    kube = installed_cluster()
    kube.put(csv(V1))  # an old CSV still carrying the package label
    op = operator(kube, state="absent", delete_namespace=True)
    res = op.absent()
    assert res["kept"] == []
    assert res["actions"] == ["deleted Subscription {0}/{1}".format(NS, PKG),
                              "deleted ClusterServiceVersion {0}/{1}".format(NS, V1),
                              "deleted ClusterServiceVersion {0}/{1}".format(NS, V2),
                              "deleted OperatorGroup {0}/og".format(NS), "deleted Namespace {0}".format(NS)]
    assert kube.objects == {}


def test_absent_in_check_mode_deletes_nothing_but_reports_everything():
    kube = installed_cluster()
    kube.check_mode = True
    op = operator(kube, state="absent", delete_namespace=True)
    res = op.absent()
    assert len(res["actions"]) == 4 and res["actions"][-1] == "deleted Namespace {0}".format(NS)
    assert len(kube.objects) == 4


SERVING = "knativeservings.operator.knative.dev"


def shared_cluster():
    crd = {"kind": "CustomResourceDefinition", "metadata": {"name": SERVING},
           "spec": {"group": "operator.knative.dev", "names": {"kind": "KnativeServing"},
                    "versions": [{"name": "v1beta1", "served": True, "storage": True}]}}
    serving = {"kind": "KnativeServing", "metadata": {"name": "knative-serving", "namespace": "knative-serving"}}
    return installed_cluster(crd, serving)


def test_absent_keeps_a_shared_operator_and_names_what_uses_it():
    kube = shared_cluster()
    op = operator(kube, state="absent", crds=[SERVING], delete_namespace=True)
    res = op.absent()
    assert res["actions"] == []
    assert "KnativeServing knative-serving/knative-serving" in res["kept"][0] and "remove_shared" in res["kept"][0]
    assert kube.obj("Subscription", PKG, NS) and kube.obj("OperatorGroup", "og", NS) and kube.obj("Namespace", NS)


def test_remove_shared_removes_it_anyway():
    kube = shared_cluster()
    op = operator(kube, state="absent", crds=[SERVING], remove_shared=True)
    res = op.absent()
    assert "deleted Subscription {0}/{1}".format(NS, PKG) in res["actions"]
    assert kube.obj("KnativeServing", "knative-serving", "knative-serving"), "the CR itself is not touched"


def test_absent_keeps_the_group_that_another_subscription_needs():
    kube = installed_cluster(subscription(name="other", labels={}, package="other"))
    kube.objects[("Subscription", NS, "other")]["spec"]["name"] = "other"
    op = operator(kube, state="absent", delete_namespace=True)
    res = op.absent()
    assert "deleted Subscription {0}/{1}".format(NS, PKG) in res["actions"]
    assert kube.obj("OperatorGroup", "og", NS) and kube.obj("Namespace", NS)
    assert any("still holds Subscription other" in k for k in res["kept"])


# ---- the simulator's resolution -------------------------------------------------------
SOURCES = {sim.SOURCE}
SPEC = {"name": PKG, "source": "redhat-operators", "sourceNamespace": "openshift-marketplace", "channel": "stable"}


def test_sim_installs_the_pin_then_upgrades_one_step_at_a_time_to_the_head():
    assert sim.resolve(dict(SPEC, startingCSV=V1), "s", "", SOURCES) == (V1, "stable", None)
    assert sim.resolve(dict(SPEC, startingCSV=V1), "s", V1, SOURCES) == (V2, "stable", None)
    assert sim.resolve(SPEC, "s", V2, SOURCES) == (None, "stable", None)
    logic = dict(SPEC, name="logic-operator", startingCSV="logic-operator.v1.37.2")
    assert sim.resolve(logic, "s", "logic-operator.v1.37.2", SOURCES)[0] == "logic-operator.v1.38.0"


def test_sim_keeps_every_csv_the_roles_pin_resolvable():
    for package, channel, pin in (("logic-operator-rhel8", "alpha", "logic-operator-rhel8.v1.36.0"),
                                  ("logic-operator", "stable", "logic-operator.v1.37.2"),
                                  ("logic-operator", "stable", "logic-operator.v1.38.0")):
        spec = dict(SPEC, name=package, channel=channel, startingCSV=pin)
        assert sim.resolve(spec, "s", "", SOURCES) == (pin, channel, None)
    for minor in range(5, 11):
        spec = dict(SPEC, name="rhdh", channel="fast-1.{0}".format(minor))
        assert sim.resolve(spec, "s", "", SOURCES)[0].startswith("rhdh-operator.v1.{0}.".format(minor))


def test_sim_switching_rhdh_channel_upgrades_across_releases():
    spec = dict(SPEC, name="rhdh", channel="fast-1.10")
    assert sim.resolve(spec, "s", "rhdh-operator.v1.9.1", SOURCES)[0] == "rhdh-operator.v1.10.0"


@pytest.mark.parametrize("change, why", [
    ({"startingCSV": "serverless-operator.v9.9.9"}, "no operators found with name serverless-operator.v9.9.9 in "
     "channel stable of package serverless-operator in the catalog referenced by subscription s"),
    ({"channel": "candidate"}, "no operators found in channel candidate of package serverless-operator in the "
     "catalog referenced by subscription s"),
    ({"name": "nope"}, "no operators found in package nope in the catalog referenced by subscription s"),
    ({"source": "gone"}, "no operators found from catalog gone in namespace openshift-marketplace referenced by "
     "subscription s"),
])
def test_sim_resolution_failures_use_upstreams_words(change, why):
    assert sim.resolve(dict(SPEC, **change), "s", "", SOURCES) == (None, None, why)


def test_sim_set_condition_keeps_order_and_transition_time():
    conds = sim.set_condition([], "A", "True", "R", "m")
    conds = sim.set_condition(conds, "B", "False", "S")
    first = conds[0]["lastTransitionTime"]
    again = sim.set_condition(conds, "A", "True", "R", "other message")
    assert [c["type"] for c in again] == ["A", "B"] and again[0]["lastTransitionTime"] == first

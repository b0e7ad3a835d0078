"""Ownership rules of the namespace and manifest modules (plugins/module_utils/ownership.py),
against a fake API that records every call."""
import copy
import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "ownership.py")
_SPEC = importlib.util.spec_from_file_location("ownership", _PATH)
own = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(own)

MARK_NS = {"app.kubernetes.io/managed-by": "rhdh.orchestrator"}
MARK_MANIFEST = {"orchestrator.rhdh.redhat.com/installed-by": "rhdh.orchestrator"}


def merge(base, over):
    """JSON merge patch: None deletes the key."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class FakeApi:
    """Objects by (apiVersion, kind, name, namespace). An object with finalizers
    is only marked deleted; anything else goes at once."""

    def __init__(self, *objects):
        self.objects = {}
        self.calls = []
        for obj in objects:
            self.objects[self.key(obj)] = merge({"metadata": {"resourceVersion": "1", "uid": "u-" + obj["metadata"]["name"]}}, obj)

    @staticmethod
    def key(obj):
        meta = obj["metadata"]
        return (obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))

    def writes(self):
        return [c for c in self.calls if c[0] != "get" and not (c[0] == "apply" and c[2])]

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", kind, name))
        obj = self.objects.get((api_version, kind, name, namespace))
        return copy.deepcopy(obj)

    def create(self, body):
        self.calls.append(("create", own.ref(body)))
        self.objects[self.key(body)] = merge(body, {"metadata": {"resourceVersion": "1"}})
        return copy.deepcopy(self.objects[self.key(body)])

    def merge_patch(self, api_version, kind, name, namespace, patch):
        self.calls.append(("merge_patch", kind, name, patch))
        key = (api_version, kind, name, namespace)
        self.objects[key] = merge(self.objects[key], patch)
        return copy.deepcopy(self.objects[key])

    def apply(self, body, field_manager, dry_run=False):
        self.calls.append(("apply", own.ref(body), dry_run, field_manager))
        live = self.objects.get(self.key(body), {"metadata": {"resourceVersion": "0"}})
        new = merge(live, body)
        if own.comparable(new) != own.comparable(live):
            new["metadata"]["resourceVersion"] = str(int(live["metadata"]["resourceVersion"]) + 1)
        new["metadata"]["managedFields"] = [{"manager": field_manager}]
        if not dry_run:
            self.objects[self.key(body)] = new
        return copy.deepcopy(new)

    def delete(self, api_version, kind, name, namespace=None):
        self.calls.append(("delete", kind, name))
        key = (api_version, kind, name, namespace)
        if key not in self.objects:
            return False
        if self.objects[key]["metadata"].get("finalizers"):
            self.objects[key]["metadata"]["deletionTimestamp"] = "now"
        else:
            del self.objects[key]
        return True


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def waiter(api):
    clock = Clock()
    return own.Waiter(api, clock=clock, sleep=clock.sleep)


def ns(name, labels=None, **extra):
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    if labels is not None:
        obj["metadata"]["labels"] = labels
    return merge(obj, extra)


# ---- namespaces ---------------------------------------------------------------------------------

def test_missing_namespace_is_created_with_the_marker_and_labels():
    api = FakeApi()
    res = own.Namespaces(api).present(["wf"], {"rhdh.redhat.com/workflow-namespace": ""})
    assert res["created"] == ["wf"] and res["existing"] == [] and res["preexisting"] == []
    assert api.objects[("v1", "Namespace", "wf", None)]["metadata"]["labels"] == dict(
        MARK_NS, **{"rhdh.redhat.com/workflow-namespace": ""})


def test_preexisting_namespace_is_not_touched_not_even_labelled():
    api = FakeApi(ns("knative-serving", {"team": "platform"}))
    res = own.Namespaces(api).present(["knative-serving"], {"rhdh.redhat.com/workflow-namespace": ""})
    assert res["created"] == [] and res["updated"] == []
    assert res["existing"] == res["preexisting"] == ["knative-serving"]
    assert api.writes() == []
    assert api.objects[("v1", "Namespace", "knative-serving", None)]["metadata"]["labels"] == {"team": "platform"}


def test_our_namespace_gets_missing_labels_only():
    api = FakeApi(ns("wf", dict(MARK_NS)), ns("rhdh", dict(MARK_NS, a="1")))
    namespaces = own.Namespaces(api)
    res = namespaces.present(["wf", "rhdh", "wf"], {"a": "1"})
    assert res["existing"] == ["wf", "rhdh"] and res["preexisting"] == []
    assert res["updated"] == ["wf"]
    assert api.writes() == [("merge_patch", "Namespace", "wf", {"metadata": {"labels": {"a": "1"}}})]
    assert namespaces.diff[0]["after"] == {"labels": dict(MARK_NS, a="1")}


def test_a_namespace_an_operator_manifest_created_counts_as_ours():
    api = FakeApi(ns("rhdh-operator", dict(MARK_MANIFEST)))
    res = own.Namespaces(api).present(["rhdh-operator"])
    assert res["preexisting"] == [] and res["existing"] == ["rhdh-operator"]
    res = own.Namespaces(api, waiter=waiter(api)).absent(["rhdh-operator"])
    assert res["deleted"] == ["rhdh-operator"]


def test_check_mode_creates_nothing_and_tells_what_it_would_do():
    api = FakeApi(ns("theirs"), ns("ours", dict(MARK_NS)))
    res = own.Namespaces(api, check_mode=True).present(["new", "theirs", "ours"], {"x": "y"})
    assert res["created"] == ["new"] and res["preexisting"] == ["theirs"] and res["updated"] == ["ours"]
    assert api.writes() == []
    res = own.Namespaces(api, check_mode=True, waiter=waiter(api)).absent(["new", "theirs", "ours"])
    assert res["deleted"] == ["ours"] and [k["name"] for k in res["kept"]] == ["theirs"]
    assert api.writes() == []


def test_absent_deletes_only_ours_and_keeps_preexisting_with_the_reason():
    api = FakeApi(ns("theirs", {"team": "x"}), ns("ours", dict(MARK_NS)))
    res = own.Namespaces(api, waiter=waiter(api)).absent(["theirs", "ours", "gone"])
    assert res["deleted"] == ["ours"]
    assert res["kept"] == [{"name": "theirs", "reason": (
        "pre-existing: it does not carry app.kubernetes.io/managed-by=rhdh.orchestrator, "
        "so the collection did not create it")}]
    assert ("v1", "Namespace", "theirs", None) in api.objects
    assert ("v1", "Namespace", "ours", None) not in api.objects
    assert [c for c in api.calls if c[0] == "delete"] == [("delete", "Namespace", "ours")]


def test_absent_timeout_names_what_holds_the_namespace():
    stuck = ns("ours", dict(MARK_NS), spec={"finalizers": ["kubernetes"]}, status={
        "phase": "Terminating",
        "conditions": [
            {"type": "NamespaceDeletionDiscoveryFailure", "status": "False", "reason": "ResourcesDiscovered"},
            {"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
             "message": "Some resources are remaining: knativeservings.operator.knative.dev has 1 resource instances"},
            {"type": "NamespaceFinalizersRemaining", "status": "True", "reason": "SomeFinalizersRemain",
             "message": "Some content in the namespace has finalizers remaining: knative-serving in 1 resource instances"}]})
    stuck["metadata"]["finalizers"] = ["kubernetes"]
    api = FakeApi(stuck)
    with pytest.raises(own.OwnershipError) as err:
        own.Namespaces(api, waiter=waiter(api)).absent(["ours"], wait_timeout=5)
    text = str(err.value)
    assert text.startswith("timed out after 5s waiting for deletion: Namespace ours is still there (phase Terminating")
    assert "knativeservings.operator.knative.dev has 1 resource instances" in text
    assert "finalizers remaining: knative-serving" in text
    assert "NamespaceDeletionDiscoveryFailure" not in text


def test_present_waits_for_a_terminating_namespace_then_creates_it():
    api = FakeApi(ns("wf", dict(MARK_NS), status={"phase": "Terminating"}))
    api.objects[("v1", "Namespace", "wf", None)]["metadata"]["deletionTimestamp"] = "now"

    class Gone(own.Waiter):
        def gone(self, keys, timeout):
            del api.objects[keys[0]]

    res = own.Namespaces(api, waiter=Gone(api)).present(["wf"])
    assert res["created"] == ["wf"]
    assert api.objects[("v1", "Namespace", "wf", None)]["metadata"]["labels"] == MARK_NS


def test_label_existing_adds_records_and_unlabel_takes_back_exactly_that():
    """Pre-existing namespaces are labelled only with label_existing; the keys the
    module added are recorded and state=unlabeled removes those and nothing else."""
    wf = {"rhdh.redhat.com/workflow-namespace": "", "argocd.argoproj.io/managed-by": "gitops"}
    api = FakeApi(ns("theirs", {"team": "a", "rhdh.redhat.com/workflow-namespace": ""}), ns("ours", dict(MARK_NS)))
    check = own.Namespaces(api, check_mode=True).present(["new", "theirs", "ours"], wf, label_existing=True)
    assert api.writes() == [] and check["created"] == ["new"] and check["updated"] == ["theirs", "ours"]
    res = own.Namespaces(api).present(["new", "theirs", "ours"], wf, label_existing=True)
    assert res["labels_added"] == {"new": sorted(wf), "theirs": ["argocd.argoproj.io/managed-by"], "ours": sorted(wf)}
    assert res["preexisting"] == ["theirs"] and res["updated"] == ["theirs", "ours"]
    theirs = api.objects[("v1", "Namespace", "theirs", None)]["metadata"]
    assert theirs["labels"] == dict(wf, team="a")
    # The user's own workflow label was there before: not recorded, so not taken back.
    assert theirs["annotations"] == {own.ADDED_LABELS_ANNOTATION: "argocd.argoproj.io/managed-by"}
    assert api.objects[("v1", "Namespace", "new", None)]["metadata"]["annotations"] == {
        own.ADDED_LABELS_ANNOTATION: "argocd.argoproj.io/managed-by,rhdh.redhat.com/workflow-namespace"}
    # Rerun: nothing to do. A recorded label may change value (another ArgoCD namespace).
    api.calls.clear()
    assert own.Namespaces(api).present(["new", "theirs", "ours"], wf, label_existing=True)["updated"] == []
    assert api.writes() == []
    res = own.Namespaces(api).present(["theirs"], dict(wf, **{"argocd.argoproj.io/managed-by": "other"}),
                                      label_existing=True)
    assert res["labels_added"] == {"theirs": ["argocd.argoproj.io/managed-by"]}
    # unlabeled: only the keys asked for, only if recorded; check mode writes nothing.
    api.calls.clear()
    res = own.Namespaces(api, check_mode=True).unlabel(["theirs", "gone"], ["argocd.argoproj.io/managed-by"])
    assert res["labels_removed"] == {"theirs": ["argocd.argoproj.io/managed-by"]} and api.writes() == []
    res = own.Namespaces(api).unlabel(["theirs", "new", "ours"], ["argocd.argoproj.io/managed-by"])
    assert res["updated"] == ["theirs", "new", "ours"]
    assert api.objects[("v1", "Namespace", "theirs", None)]["metadata"] == dict(
        theirs, labels={"team": "a", "rhdh.redhat.com/workflow-namespace": ""}, annotations={}, resourceVersion="1")
    res = own.Namespaces(api).unlabel(["new", "theirs"])
    assert res["labels_removed"] == {"new": ["rhdh.redhat.com/workflow-namespace"]}
    assert api.objects[("v1", "Namespace", "new", None)]["metadata"]["labels"] == MARK_NS


def test_label_existing_never_overwrites_a_users_label_and_fails_before_any_write():
    api = FakeApi(ns("a"), ns("b", {"argocd.argoproj.io/managed-by": "their-argocd"}))
    with pytest.raises(own.OwnershipError) as err:
        own.Namespaces(api).present(["new", "a", "b"], {"argocd.argoproj.io/managed-by": "gitops"}, label_existing=True)
    assert str(err.value) == ("labels set by someone else are not overwritten: "
                              "argocd.argoproj.io/managed-by=their-argocd on Namespace b (wanted gitops)")
    assert api.writes() == []
    # Without label_existing the old behaviour holds: pre-existing ones untouched, no record.
    res = own.Namespaces(api).present(["a", "b"], {"x": "1"})
    assert res["updated"] == [] and res["labels_added"] == {} and api.writes() == []


# ---- manifests ----------------------------------------------------------------------------------

def crd(name="widgets.example.test", labels=None):
    obj = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": name}, "spec": {"group": "example.test"}}
    if labels:
        obj["metadata"]["labels"] = labels
    return obj


def deployment(image="op:1", labels=None, namespace="op-system"):
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "op", "namespace": namespace},
           "spec": {"template": {"spec": {"containers": [{"name": "manager", "image": image}]}}}}
    if labels:
        obj["metadata"]["labels"] = labels
    return obj


def docs(image="op:1"):
    return [ns("op-system"), crd(), {"apiVersion": "v1", "kind": "ServiceAccount",
                                     "metadata": {"name": "op", "namespace": "op-system"}}, deployment(image)]


def test_manifest_creates_missing_objects_with_the_marker():
    api = FakeApi()
    man = own.Manifest(api)
    res = man.present(docs())
    assert res["created"] == ["Namespace op-system", "CustomResourceDefinition widgets.example.test",
                              "ServiceAccount op-system/op", "Deployment op-system/op"]
    assert all(own.carries(obj, MARK_MANIFEST) for obj in api.objects.values())
    assert {c[3] for c in api.calls if c[0] == "apply"} == {"rhdh.orchestrator"}


def test_manifest_rerun_changes_nothing_and_a_new_release_updates_only_what_differs():
    api = FakeApi()
    own.Manifest(api).present(docs())
    again = own.Manifest(api).present(docs())
    assert again["created"] == again["updated"] == again["preexisting"] == []
    newer = own.Manifest(api)
    res = newer.present(docs(image="op:2"))
    assert res["updated"] == ["Deployment op-system/op"]
    assert newer.diff[0]["before"]["spec"] != newer.diff[0]["after"]["spec"]
    assert "managedFields" not in newer.diff[0]["after"]["metadata"]


def test_manifest_leaves_preexisting_namespace_and_deployment_untouched():
    api = FakeApi(ns("op-system", {"team": "x"}), deployment("mine:7", {"team": "x"}))
    man = own.Manifest(api)
    res = man.present(docs())
    assert res["preexisting"] == ["Namespace op-system", "Deployment op-system/op"]
    assert res["created"] == ["CustomResourceDefinition widgets.example.test", "ServiceAccount op-system/op"]
    assert [c[1] for c in api.calls if c[0] == "apply"] == res["created"]
    live = api.objects[("apps/v1", "Deployment", "op", "op-system")]
    assert live["metadata"]["labels"] == {"team": "x"}
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "mine:7"
    assert "pre-existing" in man.reasons["Deployment op-system/op"]


def test_take_over_applies_over_preexisting_objects_without_marking_them():
    api = FakeApi(deployment("mine:7", {"team": "x"}))
    res = own.Manifest(api, take_over=True).present([deployment("op:1")])
    assert res["preexisting"] == res["updated"] == ["Deployment op-system/op"]
    live = api.objects[("apps/v1", "Deployment", "op", "op-system")]
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "op:1"
    assert not own.carries(live, MARK_MANIFEST)
    res = own.Manifest(api, waiter=waiter(api)).absent([deployment("op:1")])
    assert res["deleted"] == [] and res["kept"] == ["Deployment op-system/op"]


def test_manifest_check_mode_sends_no_write_and_reports_true_changes():
    api = FakeApi()
    own.Manifest(api).present(docs())
    api.calls.clear()
    res = own.Manifest(api, check_mode=True).present(docs(image="op:2") + [crd("gadgets.example.test")])
    assert res["updated"] == ["Deployment op-system/op"]
    assert res["created"] == ["CustomResourceDefinition gadgets.example.test"]
    assert api.writes() == []
    assert all(c[2] for c in api.calls if c[0] == "apply")
    assert api.objects[("apps/v1", "Deployment", "op", "op-system")]["spec"]["template"]["spec"][
        "containers"][0]["image"] == "op:1"
    res = own.Manifest(api, check_mode=True).present(docs())
    assert res["updated"] == res["created"] == []


def test_manifest_absent_deletes_only_marked_objects_in_reverse_order_and_keeps_crds():
    api = FakeApi(ns("op-system", {"team": "x"}))
    own.Manifest(api).present(docs())
    api.calls.clear()
    man = own.Manifest(api, waiter=waiter(api))
    res = man.absent(docs(), delete_namespaces=True)
    assert res["deleted"] == ["Deployment op-system/op", "ServiceAccount op-system/op"]
    assert [c[1:] for c in api.calls if c[0] == "delete"] == [("Deployment", "op"), ("ServiceAccount", "op")]
    assert res["kept"] == ["CustomResourceDefinition widgets.example.test", "Namespace op-system"]
    assert man.reasons["Namespace op-system"].startswith("pre-existing")
    assert "keep_kinds" in man.reasons["CustomResourceDefinition widgets.example.test"]
    assert ("v1", "Namespace", "op-system", None) in api.objects


def test_manifest_absent_deletes_our_namespace_only_when_asked():
    api = FakeApi()
    own.Manifest(api).present(docs())
    res = own.Manifest(api, waiter=waiter(api)).absent(docs())
    assert "Namespace op-system" in res["kept"]
    assert ("v1", "Namespace", "op-system", None) in api.objects
    res = own.Manifest(api, waiter=waiter(api)).absent(docs(), delete_namespaces=True)
    assert res["deleted"] == ["Namespace op-system"]


def test_manifest_absent_in_check_mode_deletes_nothing():
    api = FakeApi()
    own.Manifest(api).present(docs())
    api.calls.clear()
    res = own.Manifest(api, check_mode=True, waiter=waiter(api)).absent(docs(), keep_kinds=[])
    assert res["deleted"] == ["Deployment op-system/op", "ServiceAccount op-system/op",
                              "CustomResourceDefinition widgets.example.test"]
    assert api.writes() == []
    assert len(api.objects) == 4


def test_manifest_absent_waits_and_names_what_is_left():
    stuck = deployment(labels=dict(MARK_MANIFEST))
    stuck["metadata"]["finalizers"] = ["example.test/cleanup"]
    api = FakeApi(stuck)
    with pytest.raises(own.OwnershipError) as err:
        own.Manifest(api, waiter=waiter(api)).absent([deployment()], wait_timeout=3)
    assert "Deployment op-system/op is still there (finalizers example.test/cleanup" in str(err.value)


def test_incomplete_documents_are_refused_and_empty_ones_skipped():
    with pytest.raises(own.OwnershipError, match=r"definition 1 \(Deployment\) lacks metadata.name"):
        own.Manifest(FakeApi()).present([{}, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}}])
    assert own.Manifest.check([None, {}, crd()]) == [crd()]


def test_comparable_ignores_what_every_write_changes():
    before = merge(deployment(), {"metadata": {"resourceVersion": "1", "generation": 1, "managedFields": [{}]},
                                  "status": {"replicas": 1}})
    after = merge(deployment(), {"metadata": {"resourceVersion": "2", "generation": 2, "managedFields": [{}, {}]},
                                 "status": {"replicas": 2}})
    assert own.comparable(before) == own.comparable(after)
    assert own.comparable(before) != own.comparable(deployment(image="op:2"))
    assert "status" in before  # the input is not changed


def test_an_object_already_being_deleted_is_waited_for_not_deleted_again():
    api = FakeApi(ns("ours", dict(MARK_NS)), deployment(labels=dict(MARK_MANIFEST)))
    for obj in api.objects.values():
        obj["metadata"]["deletionTimestamp"] = "before"
        obj["metadata"]["finalizers"] = ["x"]
    with pytest.raises(own.OwnershipError):
        own.Namespaces(api, waiter=waiter(api)).absent(["ours"], wait_timeout=2)
    with pytest.raises(own.OwnershipError):
        own.Manifest(api, waiter=waiter(api)).absent([deployment()], wait_timeout=2)
    assert [c for c in api.calls if c[0] == "delete"] == []

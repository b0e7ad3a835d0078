"""The state record of site runs (plugins/module_utils/site_state.py)."""
import importlib.util
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "plugins", "module_utils", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


component_plan = _load("component_plan")
site_state = _load("site_state")

COMPONENTS = [
    {"name": "postgres", "role": "rhdh.orchestrator.postgres", "namespace": "sonataflow-infra"},
    {"name": "serverless", "role": "rhdh.orchestrator.serverless", "namespace": "knative-serving"},
    {"name": "sonataflow", "role": "rhdh.orchestrator.sonataflow", "depends_on": ["postgres", "serverless"]},
    {"name": "rhdh", "role": "rhdh.orchestrator.rhdh", "depends_on": ["sonataflow"], "namespace": "rhdh-operator"},
]


def plan(state="present", targets=None):
    return component_plan.plan(COMPONENTS, state=state, targets=targets or [])


def ok(*names, status="ok"):
    return [{"component": n, "status": status} for n in names]


def names(data):
    return [c["name"] for c in site_state.read(data)["components"]]


def test_install_records_components_in_order_inputs_without_secret_values():
    inputs = {"orchestrator_rhdh_namespace": "dev-hub", "postgres_password": "s3cret", "gitops_git_ssh_private_key": "k",
              "orchestrator_state": "present", "orchestrator_targets": "postgres", "rhdh_state": "present"}
    data = site_state.update({}, plan(), ok("postgres", "serverless", "sonataflow", "rhdh"), inputs, {"namespaces": ["knative-serving"]})
    assert names(data) == ["postgres", "serverless", "sonataflow", "rhdh"]
    assert json.loads(data["inputs"]) == {"orchestrator_rhdh_namespace": "dev-hub"}
    assert json.loads(data["secret-inputs"]) == ["gitops_git_ssh_private_key", "postgres_password"]
    assert "s3cret" not in json.dumps(data)
    assert json.loads(data["preexisting"]) == {"namespaces": ["knative-serving"]}
    assert site_state.removal_order(data) == ["rhdh", "sonataflow", "serverless", "postgres"]


def test_rerun_gives_the_same_data_and_keeps_first_preexisting():
    first = site_state.update({}, plan(), ok("postgres", "serverless"), {"orchestrator_x": 1}, {"namespaces": ["a"]})
    again = site_state.update(first, plan(), ok("postgres", "serverless"), {"orchestrator_x": 1}, {"namespaces": ["b"]})
    assert again == first


def test_failed_install_is_recorded_blocked_is_not_and_removal_drops_only_what_went():
    data = site_state.update({}, plan(), ok("postgres") + ok("serverless", status="failed") + ok("sonataflow", status="blocked"), {}, {})
    assert names(data) == ["postgres", "serverless"]
    assert site_state.read(data)["components"][1]["status"] == "failed"
    removed = site_state.update(data, plan("absent"), ok("serverless") + ok("postgres", status="failed"), {}, {})
    assert names(removed) == ["postgres"]
    assert site_state.update(removed, plan("absent"), ok("postgres"), {}, {}) == {}


def test_a_later_partial_install_keeps_earlier_components_in_install_order():
    data = site_state.update({}, plan(targets=["rhdh"]), ok("rhdh"), {}, {})
    data = site_state.update(data, plan(), ok("postgres"), {}, {})
    assert names(data) == ["postgres", "rhdh"]


def test_drift():
    data = site_state.update({}, plan(), ok("postgres", "serverless"), {"orchestrator_rhdh_namespace": "a"}, {})
    drift = site_state.drift(data, plan(targets=["postgres", "rhdh"]), {"orchestrator_rhdh_namespace": "b", "postgres_password": "x"})
    assert drift["install"] == ["sonataflow", "rhdh"]
    assert drift["keep"] == ["postgres", "serverless"]
    assert drift["left_over"] == []
    assert drift["changed_inputs"] == [{"name": "orchestrator_rhdh_namespace", "recorded": "a", "now": "b"}]
    assert drift["secret_inputs_given"] == ["postgres_password"]
    only = component_plan.plan(COMPONENTS[:1], state="present", targets=[])
    assert site_state.drift(data, only, {})["left_over"] == ["serverless"]


def test_blockers_from_a_timed_out_delete():
    failed = {"msg": '"Backstage" "developer-hub": Timed out waiting on resource', "results": [
        {"result": {"kind": "Backstage", "metadata": {
            "name": "developer-hub", "namespace": "rhdh-operator", "deletionTimestamp": "2026-11-26T01:00:00Z", "finalizers": ["test/hold"]}}},
        {"result": {"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y"}}}]}
    assert site_state.blockers(failed) == [
        "Backstage rhdh-operator/developer-hub: deleting since 2026-11-26T01:00:00Z, held by finalizers test/hold"]
    assert site_state.blockers({"msg": "boom"}) == []

"""Pure parts of the RHDH simulator: the operator's plugin merge and the
installer's resolution, against the real upstream data when it is there."""
import os
from unittest import mock

import pytest
import yaml

from testcluster import upstream
from testcluster.sim import plugin_installer as inst
from testcluster.sim import rhdh, rhdh_model as m

PREFIX = "oci://registry.access.redhat.com/rhdh/red-hat-developer-hub-backstage-plugin-"
BACKEND = PREFIX + "orchestrator-backend:{{inherit}}"
FRONTEND = PREFIX + "orchestrator:{{inherit}}"
SCAFFOLDER = PREFIX + "scaffolder-backend-module-orchestrator:{{inherit}}"

needs_upstream = pytest.mark.skipif(not upstream.available(),
                                    reason=f"upstream data missing at {upstream.data_dir()}")


def plugins(*entries, includes=("dynamic-plugins.default.yaml",)):
    return yaml.safe_dump({"includes": list(includes), "plugins": list(entries)})


def by_package(text):
    return {p["package"]: p for p in yaml.safe_load(text)["plugins"]}


# ---- release detection ------------------------------------------------------
def test_release_from_csv_owner_then_image_tag():
    dep = {"metadata": {"ownerReferences": [{"kind": "ClusterServiceVersion", "name": "rhdh-operator.v1.8.2"}]},
           "spec": {"template": {"spec": {"containers": [{"image": "quay.io/rhdh/rhdh-rhel9-operator:1.10"}]}}}}
    assert m.release_of(dep) == "1.8"
    dep["metadata"] = {}
    assert m.release_of(dep) == "1.10"
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "x/op:latest"
    assert m.release_of(dep) is None


# ---- operator merge ---------------------------------------------------------
BASE = plugins({"package": "a", "disabled": True, "pluginConfig": {"k": 1}, "dependencies": [{"ref": "dep"}],
                "integrity": "sha-a"})


@pytest.mark.parametrize("release", ["1.8", "1.9", "1.10"])
def test_merge_keeps_fields_the_user_did_not_give(release):
    merged = by_package(m.merge_plugins(release, BASE, plugins({"package": "a"}, includes=())))["a"]
    assert merged == {"package": "a", "integrity": "sha-a", "disabled": False, "pluginConfig": {"k": 1},
                      "dependencies": [{"ref": "dep"}]}


def test_empty_dependencies_clear_only_from_1_10():
    user = plugins({"package": "a", "dependencies": []}, includes=())
    assert by_package(m.merge_plugins("1.9", BASE, user))["a"]["dependencies"] == [{"ref": "dep"}]
    assert "dependencies" not in by_package(m.merge_plugins("1.10", BASE, user))["a"]
    assert m.dependency_refs(m.merge_plugins("1.10", BASE, user)) == []


def test_merge_replaces_given_fields_and_appends_new_plugins():
    user = plugins({"package": "a", "pluginConfig": {"x": 2}, "dependencies": [{"ref": "other"}]},
                   {"package": "b", "disabled": True}, includes=())
    merged = by_package(m.merge_plugins("1.9", BASE, user))
    assert merged["a"]["pluginConfig"] == {"x": 2} and merged["a"]["dependencies"] == [{"ref": "other"}]
    assert merged["b"] == {"package": "b", "disabled": True}


def test_1_7_mounts_the_user_configmap_as_is():
    user = plugins({"package": "a"}, includes=())
    assert m.effective_plugins("1.7", BASE, user) == user


def test_dependency_refs_only_of_enabled_plugins(tmp_path):
    text = plugins({"package": "a", "disabled": True, "dependencies": [{"ref": "x"}]},
                   {"package": "b", "dependencies": [{"ref": "sonataflow"}, {"ref": ""}]})
    assert m.dependency_refs(text) == ["sonataflow"]
    (tmp_path / "sonataflow.yaml").write_text("kind: ConfigMap\nmetadata:\n  name: '{{backstage-name}}-x'\n")
    (tmp_path / "tekton.yaml").write_text("kind: ConfigMap\nmetadata:\n  name: t\n")
    files = m.plugin_dep_files(str(tmp_path), ["sonataflow", "nothing"])
    assert [os.path.basename(f) for f in files] == ["sonataflow.yaml"]
    objs = m.plugin_dep_objects(files, "bs", "ns1")
    assert objs[0]["metadata"] == {"name": "bs-x", "namespace": "ns1"}


def test_hash_covers_sorted_data_and_changes_with_it():
    cm = {"data": {"b": "2", "a": "1"}}
    sec = {"data": {"k": "dmFsdWU="}}
    one = m.ext_config_hash([("ConfigMap", cm), ("Secret", sec)])
    assert one == m.ext_config_hash([("ConfigMap", {"data": {"a": "1", "b": "2"}}), ("Secret", sec)])
    assert one != m.ext_config_hash([("ConfigMap", {"data": {"a": "1", "b": "3"}}), ("Secret", sec)])


def test_watched_refs():
    spec = {"application": {"appConfig": {"configMaps": [{"name": "a"}, {"name": "b", "mountPath": "/x"}]},
                            "extraEnvs": {"secrets": [{"name": "s"}]}, "dynamicPluginsConfigMapName": "dp"}}
    assert m.external_refs(spec) == [("ConfigMap", "a", True), ("ConfigMap", "b", False), ("Secret", "s", True),
                                     ("ConfigMap", "dp", True)]


def test_deployment_state():
    assert m.deployment_state({"spec": {"replicas": 1}, "status": {"readyReplicas": 1}}) == ("Deployed", "")
    assert m.deployment_state({"spec": {"replicas": 1}, "status": {}}) == \
        ("DeployInProgress", "no conditions reported yet")
    failing = {"spec": {"replicas": 1}, "status": {"conditions": [
        {"type": "ReplicaFailure", "status": "True", "message": "quota"}]}}
    assert m.deployment_state(failing) == ("DeployFailed", "quota")


# ---- installer ------------------------------------------------------------------
DEFAULTS = yaml.safe_dump({"plugins": [
    {"package": "oci://reg.example/ns/backend@sha256:aaaa", "disabled": True,
     "pluginConfig": {"orchestrator": {"dataIndexService": {"url": "http://default"}}}},
    {"package": "oci://reg.example/ns/scaffolder@sha256:bbbb", "disabled": True,
     "pluginConfig": {"orchestrator": {"dataIndexService": {"url": "http://default"}}}},
    {"package": "@scope/npm-plugin@1.2.3", "disabled": True}]})


def test_installer_conflict_when_url_set_on_one_plugin_only():
    text = plugins({"package": "oci://reg.example/ns/backend:{{inherit}}", "disabled": False,
                    "pluginConfig": {"orchestrator": {"dataIndexService": {"url": "http://mine"}}}},
                   {"package": "oci://reg.example/ns/scaffolder:{{inherit}}", "disabled": False})
    assert inst.check("1.9", text, DEFAULTS) == \
        "Config key 'dataIndexService.url' defined differently for 2 dynamic plugins"


def test_installer_ok_when_set_on_both():
    conf = {"orchestrator": {"dataIndexService": {"url": "http://mine"}}}
    text = plugins({"package": "oci://reg.example/ns/backend:{{inherit}}", "disabled": False, "pluginConfig": conf},
                   {"package": "oci://reg.example/ns/scaffolder:{{inherit}}", "disabled": False, "pluginConfig": conf})
    assert inst.check("1.9", text, DEFAULTS) is None


def test_inherit_needs_1_9_and_an_included_entry():
    text = plugins({"package": "oci://reg.example/ns/other:{{inherit}}"})
    assert "Cannot use {{inherit}}" in inst.check("1.9", text, DEFAULTS)
    old = plugins({"package": "oci://reg.example/ns/backend:{{inherit}}", "disabled": False})
    assert inst.check("1.8", old, DEFAULTS) is None  # 1.8 keys the whole string: a new, separate entry


def test_npm_keys_strip_versions_from_1_9_and_duplicates_fail():
    assert inst.npm_key("@scope/npm-plugin@1.2.3", "1.9") == "@scope/npm-plugin"
    assert inst.npm_key("@scope/npm-plugin@1.2.3", "1.8") == "@scope/npm-plugin@1.2.3"
    assert inst.npm_key("./dynamic-plugins/dist/x", "1.9") == "./dynamic-plugins/dist/x"
    dup = plugins({"package": "@scope/p@1"}, {"package": "@scope/p@2"})
    assert inst.check("1.9", dup, DEFAULTS).startswith("Duplicate plugin configuration for @scope/p@2")
    assert inst.check("1.8", dup, DEFAULTS) is None


def test_wrong_orchestrator_frontend_module_is_flagged():
    conf = {"dynamicPlugins": {"frontend": {inst.ORCHESTRATOR_FRONTEND: {"dynamicRoutes": [
        {"path": "/orchestrator", "module": "OrchestratorPlugin", "importName": "OrchestratorPage"}]}}}}
    assert "OrchestratorPlugin" in inst.check("1.9", plugins({"package": "x", "pluginConfig": conf}), "")
    conf["dynamicPlugins"]["frontend"][inst.ORCHESTRATOR_FRONTEND]["dynamicRoutes"][0]["module"] = "PluginRoot"
    assert inst.check("1.9", plugins({"package": "x", "pluginConfig": conf}), "") is None


def test_crashloop_status_two_steps():
    pod = {"metadata": {"name": "p", "namespace": "n", "uid": "u"}, "status": {"startTime": "t"},
           "spec": {"initContainers": [{"name": "install-dynamic-plugins"}], "containers": [{"name": "b"}]}}
    first = rhdh.crashloop_status(pod, "boom")
    init = first["initContainerStatuses"][0]
    assert init["state"]["terminated"]["exitCode"] == 1 and init["state"]["terminated"]["message"] == "boom"
    pod["status"].update(first)
    second = rhdh.crashloop_status(pod, "boom")
    init = second["initContainerStatuses"][0]
    assert init["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert init["lastState"]["terminated"]["reason"] == "Error"
    assert {c["type"]: c["status"] for c in second["conditions"]}["Initialized"] == "False"
    pod["status"].update(second)
    assert rhdh.crashloop_status(pod, "boom") is None


# ---- against the real upstream data ----------------------------------------------
def _release_plugins(release, user):
    config = os.path.join(upstream.operator_dir(release), "default-config")
    flavours = m.enabled_flavours(config, None) if m.rel(release) >= (1, 10) else []
    text = m.effective_plugins(release, m.default_plugins(release, config, flavours), user)
    with open(os.path.join(upstream.rhdh_dir(release), "dynamic-plugins.default.yaml"), encoding="utf-8") as fh:
        return text, inst.check(release, text, fh.read())


@needs_upstream
def test_upstream_1_9_backend_url_only_on_backend_conflicts():
    user = plugins({"package": BACKEND, "disabled": False,
                    "pluginConfig": {"orchestrator": {"dataIndexService": {"url": "http://mine"}}}},
                   {"package": SCAFFOLDER, "disabled": False}, {"package": FRONTEND, "disabled": False})
    text, problem = _release_plugins("1.9", user)
    assert problem == "Config key 'dataIndexService.url' defined differently for 2 dynamic plugins"
    assert m.dependency_refs(text) == ["sonataflow"]


@needs_upstream
def test_upstream_1_9_defaults_pass_the_installer():
    _text, problem = _release_plugins("1.9", None)
    assert problem is None


@needs_upstream
def test_upstream_1_10_flavour_orchestrator_is_opt_in():
    config = os.path.join(upstream.operator_dir("1.10"), "default-config")
    assert "orchestrator" not in m.enabled_flavours(config, None)
    assert "orchestrator" in m.enabled_flavours(config, [{"name": "orchestrator", "enabled": True}])
    with pytest.raises(ValueError):
        m.enabled_flavours(config, [{"name": "nope", "enabled": True}])
    text = m.default_plugins("1.10", config, ["orchestrator"])
    assert m.dependency_refs(text) == ["sonataflow"]
    _text, problem = _release_plugins("1.10", None)
    assert problem is None


def test_fallback_without_upstream_data_mounts_the_user_configmap():
    ctl = rhdh.RHDH.__new__(rhdh.RHDH)
    ctl.options = {"flavour": "kubernetes"}
    ctl._faults, ctl._frozen_hash = {}, {}  # pylint: disable=protected-access
    ctl.core = mock.Mock()
    ctl.core.read_namespaced_secret.return_value = None
    bs = {"metadata": {"name": "bs", "namespace": "ns", "uid": "u"},
          "spec": {"application": {"dynamicPluginsConfigMapName": "dp", "extraEnvs": {"secrets": [{"name": "s"}]}}}}
    ext = [("Secret", {"metadata": {"name": "s"}, "data": {"A": "eA=="}}, True),
           ("ConfigMap", {"metadata": {"name": "dp"}, "data": {"dynamic-plugins.yaml": "plugins: []"}}, True)]
    objs, _text = ctl._model(bs, rhdh.Release(None, {}), ext, {"uid": "u"})  # pylint: disable=protected-access
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Deployment", "backstage-bs"), ("Secret", "backstage-psql-secret-bs"), ("Service", "backstage-psql-bs"),
        ("StatefulSet", "backstage-psql-bs"), ("Service", "backstage-bs")]
    pod = objs[0]["spec"]["template"]["spec"]
    assert pod["volumes"][0]["configMap"]["name"] == "dp"
    assert pod["containers"][0]["envFrom"] == [{"secretRef": {"name": "s"}},
                                               {"secretRef": {"name": "backstage-psql-secret-bs"}}]


def test_deployment_patch_merges_pod_lists_by_key():
    base = {"spec": {"template": {"spec": {
        "volumes": [{"name": "a", "emptyDir": {}}],
        "initContainers": [{"name": "install-dynamic-plugins", "image": "i",
                            "volumeMounts": [{"name": "a", "mountPath": "/a"}]}]}}}}
    patch = {"spec": {"template": {"spec": {
        "volumes": [{"name": "npmrc", "secret": {"secretName": "s"}}],
        "initContainers": [{"name": "install-dynamic-plugins",
                            "volumeMounts": [{"name": "npmrc", "mountPath": "/n", "readOnly": True}]}]}}}}
    pod = m.merge_patch(base, patch)["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["a", "npmrc"]
    init = pod["initContainers"][0]
    assert init["image"] == "i" and [v["mountPath"] for v in init["volumeMounts"]] == ["/a", "/n"]

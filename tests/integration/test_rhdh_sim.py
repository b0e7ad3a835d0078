"""The RHDH operator simulator against the API, no Ansible: the real upstream
install.yaml of a release, small Backstage CRs, and what the real operator and
plugin installer of that release would make of them."""
import time

import pytest
import yaml

import kube_helpers  # pylint: disable=import-error
from testcluster import crds, upstream
from testcluster.sim import rhdh_model as m

pytestmark = pytest.mark.skipif(not upstream.available(),
                                reason=f"upstream data missing at {upstream.data_dir()} "
                                       "(set ORCHESTRATOR_UPSTREAM_DATA)")

API = "rhdh.redhat.com/v1alpha5"
PREFIX = "oci://registry.access.redhat.com/rhdh/red-hat-developer-hub-backstage-plugin-"
BACKEND = PREFIX + "orchestrator-backend:{{inherit}}"
SCAFFOLDER = PREFIX + "scaffolder-backend-module-orchestrator:{{inherit}}"
FRONTEND = PREFIX + "orchestrator:{{inherit}}"
WIDGETS = PREFIX + "orchestrator-form-widgets:{{inherit}}"


get = kube_helpers.get


def wait_for(what, fn, timeout=40):
    """kube_helpers.wait_for with the longer default the RHDH simulator's rollouts need."""
    return kube_helpers.wait_for(what, fn, timeout)


def install_release(kube, release):
    with open(upstream.install_yaml(release), encoding="utf-8") as fh:
        kube.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-",
                     stdin=fh.read())
    kube.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/backstages.rhdh.redhat.com")

    def running():
        dep = get(kube, "deployment", "rhdh-operator", "-n", "rhdh-operator")
        return dep and m.release_of(dep) == release and dep["status"].get("availableReplicas", 0) >= 1 \
            and dep["status"].get("updatedReplicas", 0) >= 1
    wait_for(f"operator {release} Available", running)


@pytest.fixture(scope="module")
def operator(kube):
    """RHDH operator 1.9 from its real install.yaml, plus the SonataFlow CRDs the
    orchestrator plugin-deps need; removed afterwards unless it was there."""
    # A namespace left Terminating by an earlier run accepts nothing new.
    wait_for("namespace rhdh-operator not Terminating", lambda: (get(kube, "namespace", "rhdh-operator") or {
        "status": {}}).get("status", {}).get("phase") != "Terminating", timeout=90)
    had = get(kube, "deployment", "rhdh-operator", "-n", "rhdh-operator") is not None
    kube.handle.install_crds(crds.load(["sonataflowplatforms.sonataflow.org"]))
    install_release(kube, "1.9")
    yield kube
    if not had:
        # The CRD too: its fields belong to this test's field manager, which
        # would conflict with a later server-side apply of another release.
        kube.kubectl("delete", "crd", "backstages.rhdh.redhat.com", "--wait=false", check=False)
        kube.kubectl("delete", "namespace", "rhdh-operator", "--wait=false", check=False)


def configmap(kube, ns, name, data):
    kube.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-", stdin=yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}))


def plugins_cm(kube, ns, name, entries):
    configmap(kube, ns, name, {"dynamic-plugins.yaml": yaml.safe_dump(
        {"includes": ["dynamic-plugins.default.yaml"], "plugins": entries})})


def backstage(kube, ns, name, spec):
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(
        {"apiVersion": API, "kind": "Backstage", "metadata": {"name": name, "namespace": ns}, "spec": spec}))


def deployed(kube, ns, name):
    bs = get(kube, "backstage", name, "-n", ns) or {}
    return next((c for c in (bs.get("status") or {}).get("conditions") or [] if c["type"] == "Deployed"), None)


def failing_init(kube, ns, name):
    """The installer message of a pod of backstage-<name> in CrashLoopBackOff, else None."""
    pods = get(kube, "pods", "-n", ns, "-l", f"rhdh.redhat.com/app=backstage-{name}") or {"items": []}
    for pod in pods["items"]:
        for st in (pod.get("status") or {}).get("initContainerStatuses") or []:
            if st["name"] == "install-dynamic-plugins" and \
                    (st["state"].get("waiting") or {}).get("reason") == "CrashLoopBackOff":
                conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
                assert conds["Initialized"] == "False" and conds["Ready"] == "False"
                assert st["lastState"]["terminated"]["exitCode"] == 1
                assert st["lastState"]["terminated"]["reason"] == "Error"
                return st["lastState"]["terminated"]["message"]
    return None


def no_db():
    return {"database": {"enableLocalDb": False}}


def test_installer_conflict_on_data_index_url(operator, namespace):
    url = {"orchestrator": {"dataIndexService": {"url": "http://mine"}}}
    plugins_cm(operator, namespace, "dp", [
        {"package": BACKEND, "disabled": False, "pluginConfig": url, "dependencies": [{"ref": "none"}]},
        {"package": SCAFFOLDER, "disabled": False}])
    backstage(operator, namespace, "bs", {**no_db(), "application": {"dynamicPluginsConfigMapName": "dp"}})
    message = wait_for("init container failure", lambda: failing_init(operator, namespace, "bs"))
    assert message == "Config key 'dataIndexService.url' defined differently for 2 dynamic plugins"
    assert deployed(operator, namespace, "bs")["status"] == "False"


def test_plugin_deps_side_stack(operator, namespace):
    plugins_cm(operator, namespace, "dp", [{"package": BACKEND, "disabled": False}])
    backstage(operator, namespace, "bs", {"application": {"dynamicPluginsConfigMapName": "dp"}})
    platform = wait_for("SonataFlowPlatform", lambda: get(operator, "sonataflowplatform", "sonataflow-platform",
                                                          "-n", namespace))
    assert platform["metadata"]["ownerReferences"][0]["kind"] == "Backstage"
    names = {p["metadata"]["name"] for p in get(operator, "networkpolicies", "-n", namespace)["items"]}
    assert "allow-intra-network" in names and len(names) == 4
    job = get(operator, "job", "create-sonataflow-database-bs", "-n", namespace)
    assert job is not None


def test_plugin_deps_ref_without_file(operator, namespace):
    plugins_cm(operator, namespace, "dp", [{"package": BACKEND, "disabled": False,
                                            "dependencies": [{"ref": "no-such-file"}]}])
    backstage(operator, namespace, "bs", {**no_db(), "application": {"dynamicPluginsConfigMapName": "dp"}})
    wait_for("Deployment", lambda: get(operator, "deployment", "backstage-bs", "-n", namespace))
    time.sleep(1.5)
    assert get(operator, "sonataflowplatforms", "-n", namespace)["items"] == []
    assert get(operator, "networkpolicies", "-n", namespace)["items"] == []


def test_wrong_frontend_module_flagged(operator, namespace):
    conf = {"dynamicPlugins": {"frontend": {"red-hat-developer-hub.backstage-plugin-orchestrator": {
        "dynamicRoutes": [{"path": "/orchestrator", "module": "OrchestratorPlugin",
                           "importName": "OrchestratorPage"}]}}}}
    plugins_cm(operator, namespace, "dp", [{"package": FRONTEND, "disabled": False, "pluginConfig": conf}])
    backstage(operator, namespace, "bs", {**no_db(), "application": {"dynamicPluginsConfigMapName": "dp"}})
    message = wait_for("init container failure", lambda: failing_init(operator, namespace, "bs"))
    assert "OrchestratorPlugin" in message and "PluginRoot" in message


def replicasets(kube, ns, name):
    items = get(kube, "replicasets", "-n", ns, "-l", f"rhdh.redhat.com/app=backstage-{name}")["items"]
    return sorted(rs["metadata"]["name"] for rs in items)


def test_config_change_rolls_once_and_real_pod_gets_ready(operator, namespace):
    configmap(operator, namespace, "app-config", {"app-config.yaml": "app:\n  title: one\n"})
    backstage(operator, namespace, "bs", {"application": {"appConfig": {"configMaps": [{"name": "app-config"}]}}})
    cond = wait_for("Deployed True", lambda: (deployed(operator, namespace, "bs") or {}).get("status") == "True"
                    and deployed(operator, namespace, "bs"))
    assert cond["reason"] == "Deployed"
    dep = get(operator, "deployment", "backstage-bs", "-n", namespace)
    pod = dep["spec"]["template"]["spec"]
    backend = next(c for c in pod["containers"] if c["name"] == "backstage-backend")
    assert backend["resources"]["limits"]["ephemeral-storage"] == "5Gi"
    assert any("ephemeral" in v for v in pod["volumes"])
    assert "/opt/app-root/src/app-config.yaml" in backend["args"]
    cm = get(operator, "configmap", "app-config", "-n", namespace)
    assert cm["metadata"]["labels"]["rhdh.redhat.com/ext-config-sync"] == "true"
    first_hash = dep["spec"]["template"]["metadata"]["annotations"]["rhdh.redhat.com/ext-config-hash"]
    before = replicasets(operator, namespace, "bs")
    assert len(before) == 1
    time.sleep(1.5)  # several reconciles: nothing changed, nothing rolls
    assert replicasets(operator, namespace, "bs") == before
    configmap(operator, namespace, "app-config", {"app-config.yaml": "app:\n  title: two\n"})
    wait_for("a new ReplicaSet", lambda: len(replicasets(operator, namespace, "bs")) == 2)
    dep = get(operator, "deployment", "backstage-bs", "-n", namespace)
    assert dep["spec"]["template"]["metadata"]["annotations"]["rhdh.redhat.com/ext-config-hash"] != first_hash
    time.sleep(1.5)
    assert len(replicasets(operator, namespace, "bs")) == 2
    pvcs = get(operator, "pvc", "-n", namespace)["items"]
    assert any(p["metadata"]["name"].endswith("-dynamic-plugins-root") for p in pvcs)
    assert get(operator, "statefulset", "backstage-psql-bs", "-n", namespace) is not None


def test_missing_configmap_is_transient_deploy_failed(operator, namespace):
    backstage(operator, namespace, "bs", {**no_db(), "application": {"extraEnvs": {"configMaps": [{"name": "late"}]}}})
    cond = wait_for("DeployFailed", lambda: (deployed(operator, namespace, "bs") or {}).get("reason") == "DeployFailed"
                    and deployed(operator, namespace, "bs"))
    assert "late" in cond["message"]
    configmap(operator, namespace, "late", {"A": "1"})
    wait_for("Deployed", lambda: (deployed(operator, namespace, "bs") or {}).get("reason") == "Deployed")


def test_1_10_empty_dependencies_clear_them(operator, namespace):
    install_release(operator, "1.10")
    try:
        plugins_cm(operator, namespace, "dp", [{"package": BACKEND, "disabled": False, "dependencies": []}])
        backstage(operator, namespace, "bs", {**no_db(), "flavours": [{"name": "orchestrator", "enabled": True}],
                                              "application": {"dynamicPluginsConfigMapName": "dp"}})
        wait_for("Deployment", lambda: get(operator, "deployment", "backstage-bs", "-n", namespace))
        own = get(operator, "configmap", "backstage-dynamic-plugins-bs", "-n", namespace)
        assert m.dependency_refs(own["data"]["dynamic-plugins.yaml"]) == []
        time.sleep(1.5)
        assert get(operator, "sonataflowplatforms", "-n", namespace)["items"] == []
    finally:
        install_release(operator, "1.9")

"""The rhdh role on each supported RHDH release, against the simulator driven by
that release's real operator data and plugin defaults (../shared/upstream):
one Backstage whose plugin installer accepts the role's plugins, no side stack
from the operator's plugin-deps, one rollout per config change, and a config
that breaks the new pod fails the wait naming the installer's message."""
import json
import os

import pytest
from ansible_run import play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

from testcluster import crds, upstream
from testcluster.sim import plugin_installer

pytestmark = pytest.mark.skipif(not upstream.available(),
                                reason="needs the real upstream data in ../shared/upstream (see docs/testing.md)")

BACKEND = "oci://registry.access.redhat.com/rhdh/red-hat-developer-hub-backstage-plugin-orchestrator-backend:{{inherit}}"


def release_vars(kube, version, namespace, **more):
    with open(os.path.join(kube.handle.dir, "manifests.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)["rhdh-operator-" + version]
    variables = {"rhdh_version": version, "rhdh_namespace": namespace, "rhdh_wait_timeout": 90,
                 "rhdh_k8s_operator_manifest_url": manifest["url"],
                 "rhdh_k8s_operator_manifest_checksum": "sha256:" + manifest["sha256"],
                 "rhdh_npm_registry": "https://npm.example.test/"}
    variables.update(more)
    return [{"role": "rhdh.orchestrator.rhdh", "vars": variables}]


@pytest.fixture(scope="module")
def collection_platform(kube):
    """The SonataFlowPlatform the collection's sonataflow role manages, in its own namespace."""
    kube.handle.install_crds(crds.load(["sonataflowplatforms.sonataflow.org"]))
    kube.kubectl("create", "namespace", "releases-workflows", check=False)
    kube.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "sonataflow.org/v1alpha08", "kind": "SonataFlowPlatform",
        "metadata": {"name": "sonataflow-platform", "namespace": "releases-workflows"}, "spec": {}}))
    yield "releases-workflows/sonataflow-platform"
    kube.kubectl("delete", "namespace", "releases-workflows", "--wait=false", check=False)


def replica_sets(kube, namespace):
    return sorted(rs["metadata"]["name"] for rs in kube.json("get", "replicasets", "-n", namespace)["items"]
                  if rs["metadata"]["name"].startswith("backstage-backstage-"))


@pytest.mark.parametrize("version", ["1.7", "1.8", "1.9", "1.10"])
def test_release_converges_without_side_stack(kube, namespace, collection_platform, version):
    # A Backstage CRD cannot go back to older versions (storedVersions): each release starts without it.
    kube.kubectl("delete", "crd", "backstages.rhdh.redhat.com", "--ignore-not-found", "--wait=true")
    # 1.9 and later can run Backstage as a StatefulSet: 1.9 does here.
    kind = "StatefulSet" if version == "1.9" else "Deployment"
    res = play(kube, roles=release_vars(kube, version, namespace, rhdh_deployment_kind=kind))
    try:
        assert res.returncode == 0, res.stdout[-4000:]
        workload = kube.json("get", kind.lower(), "backstage-backstage", "-n", namespace)
        assert workload["status"]["readyReplicas"] == workload["status"]["updatedReplicas"] == 1
        # Read at the version the role wrote: older ones prune the newer fields.
        api = {"1.7": "v1alpha3", "1.8": "v1alpha4"}.get(version, "v1alpha5")
        backstage = kube.json("get", f"backstages.{api}.rhdh.redhat.com", "backstage", "-n", namespace)
        assert [c["status"] for c in backstage["status"]["conditions"] if c["type"] == "Deployed"] == ["True"]
        # The operator applied no plugin-deps: no SonataFlowPlatform, Job or NetworkPolicy in the RHDH namespace.
        assert kube.json("get", "networkpolicies", "-n", namespace)["items"] == []
        assert kube.json("get", "jobs", "-n", namespace)["items"] == []
        platforms = kube.json("get", "sonataflowplatforms", "-A")["items"]
        assert [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in platforms] == [collection_platform]
        plugins = kube.json("get", "configmap", "dynamic-plugins-rhdh", "-n", namespace)["data"]["dynamic-plugins.yaml"]
        # The frontend keeps RHDH's own routes, tabs and mount points: the role gives it no pluginConfig.
        assert "OrchestratorPlugin" not in plugins and "module:" not in plugins
        # What RHDH's installer makes of it (1.7 mounts our ConfigMap as is; later ones the operator's merge).
        if version != "1.7":
            plugins = kube.json("get", "configmap", "backstage-dynamic-plugins-backstage",
                                "-n", namespace)["data"]["dynamic-plugins.yaml"]
        with open(os.path.join(upstream.rhdh_dir(version), "dynamic-plugins.default.yaml"), encoding="utf-8") as fh:
            resolved = plugin_installer.resolve(version, plugins, fh.read())
        frontend = next(p for p in resolved.values() if not p.get("disabled")
                        and "dynamicPlugins" in (p.get("pluginConfig") or {})
                        and plugin_installer.ORCHESTRATOR_FRONTEND in p["pluginConfig"]["dynamicPlugins"]["frontend"])
        config = frontend["pluginConfig"]["dynamicPlugins"]["frontend"][plugin_installer.ORCHESTRATOR_FRONTEND]
        assert config["dynamicRoutes"][0]["path"] == "/orchestrator"
        assert [t["mountPoint"] for t in config["entityTabs"]] == ["entity.page.workflows"]
        assert [m["importName"] for m in config["mountPoints"]] == ["OrchestratorCatalogTab"]
        if version == "1.7":
            spec = backstage["spec"]
            pod = spec["deployment"]["patch"]["spec"]["template"]["spec"]
            assert pod["volumes"][0]["secret"]["secretName"] == "dynamic-plugins-npmrc"
            assert pod["initContainers"][0]["env"] == [{"name": "NPM_CONFIG_USERCONFIG",
                                                        "value": "/opt/app-root/src/.npmrc.orchestrator/.npmrc"}]
        else:
            assert backstage["spec"]["application"]["extraFiles"]["secrets"] == [{
                "name": "dynamic-plugins-npmrc", "mountPath": "/opt/app-root/src/.npmrc.dynamic-plugins",
                "containers": ["install-dynamic-plugins"]}]
        assert ("flavours" in backstage["spec"]) == (version == "1.10")
        if version == "1.10":
            rollouts(kube, namespace)
    finally:
        # Removal is exercised once, on the newest release; the older ones go with the CRD and the namespace.
        if version == upstream.RELEASES[-1]:
            play(kube, roles=release_vars(kube, version, namespace, rhdh_state="absent"))


def rollouts(kube, namespace):
    """A rerun changes nothing; a config change rolls Backstage exactly once (the
    operator's config hash: the role restarts nothing); a config RHDH's
    installer refuses fails the wait with the installer's message."""
    first = replica_sets(kube, namespace)
    assert len(first) == 1
    again = play(kube, roles=release_vars(kube, "1.10", namespace))
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
    assert replica_sets(kube, namespace) == first
    res = play(kube, roles=release_vars(kube, "1.10", namespace, rhdh_app_title="Another title"))
    assert res.returncode == 0, res.stdout[-3000:]
    assert len(replica_sets(kube, namespace)) == 2
    # An operator that misses the change (as the real one now and then does) is reminded through the CR.
    fault = f"backstage.{namespace}.backstage"
    kube.kubectl("create", "configmap", "simulator-faults", "-n", "kube-system", check=False)
    kube.kubectl("patch", "configmap", "simulator-faults", "-n", "kube-system", "--type=merge",
                 "-p", json.dumps({"data": {fault: "miss-config-change"}}))
    try:
        res = play(kube, roles=release_vars(kube, "1.10", namespace, rhdh_app_title="Third title",
                                            rhdh_operator_rollout_grace=5))
    finally:
        kube.kubectl("patch", "configmap", "simulator-faults", "-n", "kube-system", "--type=json",
                     "-p", json.dumps([{"op": "remove", "path": f"/data/{fault}"}]), check=False)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "TASK [rhdh.orchestrator.rhdh : Remind the operator of the change it missed]" in res.stdout
    assert len(replica_sets(kube, namespace)) == 3
    # The Data Index URL on the backend alone.
    broken = release_vars(kube, "1.10", namespace, rhdh_wait_timeout=60, rhdh_extra_plugins=[{
        "package": "{{ backend }}", "pluginConfig": {"orchestrator": {"dataIndexService": {"url": "http://elsewhere"}}}}])
    res = play(kube, roles=broken, extra_args=["-e", json.dumps({"backend": BACKEND}).replace(
        "{{inherit}}", "{{ '{{' }}inherit{{ '}}' }}")])
    text = flat(res.stdout)
    assert res.returncode != 0
    assert "init container install-dynamic-plugins" in text, res.stdout[-3000:]
    assert "defined differently for 2 dynamic plugins" in text and "timed out" not in text

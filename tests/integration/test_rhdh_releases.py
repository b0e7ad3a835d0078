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

from testcluster import upstream

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


def replica_sets(kube, namespace):
    return sorted(rs["metadata"]["name"] for rs in kube.json("get", "replicasets", "-n", namespace)["items"]
                  if rs["metadata"]["name"].startswith("backstage-backstage-"))


@pytest.mark.parametrize("version", ["1.7", "1.8", "1.9", "1.10"])
def test_release_converges_without_side_stack(kube, namespace, version):
    # A Backstage CRD cannot go back to older versions (storedVersions): each release starts without it.
    kube.kubectl("delete", "crd", "backstages.rhdh.redhat.com", "--ignore-not-found", "--wait=true")
    res = play(kube, roles=release_vars(kube, version, namespace))
    try:
        assert res.returncode == 0, res.stdout[-4000:]
        # Read at the version the role wrote: older ones prune the newer fields.
        api = {"1.7": "v1alpha3", "1.8": "v1alpha4"}.get(version, "v1alpha5")
        backstage = kube.json("get", f"backstages.{api}.rhdh.redhat.com", "backstage", "-n", namespace)
        assert [c["status"] for c in backstage["status"]["conditions"] if c["type"] == "Deployed"] == ["True"]
        # The operator applied no plugin-deps: no SonataFlowPlatform, Job or NetworkPolicy in the RHDH namespace.
        assert kube.json("get", "networkpolicies", "-n", namespace)["items"] == []
        assert kube.json("get", "jobs", "-n", namespace)["items"] == []
        if kube.kubectl("get", "crd", "sonataflowplatforms.sonataflow.org", check=False).returncode == 0:
            assert kube.json("get", "sonataflowplatforms", "-n", namespace)["items"] == []
        plugins = kube.json("get", "configmap", "dynamic-plugins-rhdh", "-n", namespace)["data"]["dynamic-plugins.yaml"]
        # The frontend keeps RHDH's own routes, tabs and mount points: the role gives it no pluginConfig.
        assert "OrchestratorPlugin" not in plugins and "module:" not in plugins
        if version == "1.7":
            spec = backstage["spec"]
            assert spec["deployment"]["patch"]["spec"]["template"]["spec"]["volumes"][0]["name"] == "dynamic-plugins-npmrc"
        else:
            assert backstage["spec"]["application"]["extraFiles"]["secrets"] == [{
                "name": "dynamic-plugins-npmrc", "mountPath": "/opt/app-root/src/.npmrc.dynamic-plugins",
                "containers": ["install-dynamic-plugins"]}]
        assert ("flavours" in backstage["spec"]) == (version == "1.10")
    finally:
        play(kube, roles=release_vars(kube, version, namespace, rhdh_state="absent"))


def test_one_rollout_per_change_and_a_broken_config_fails_the_wait(kube, namespace):
    kube.kubectl("delete", "crd", "backstages.rhdh.redhat.com", "--ignore-not-found", "--wait=true")
    try:
        assert play(kube, roles=release_vars(kube, "1.10", namespace)).returncode == 0
        first = replica_sets(kube, namespace)
        assert len(first) == 1
        again = play(kube, roles=release_vars(kube, "1.10", namespace))
        assert again.returncode == 0 and "changed=0" in again.stdout
        assert replica_sets(kube, namespace) == first
        # A changed ConfigMap: the operator rolls once, the role restarts nothing and waits for the new pod.
        res = play(kube, roles=release_vars(kube, "1.10", namespace, rhdh_app_title="Another title"))
        assert res.returncode == 0, res.stdout[-3000:]
        assert len(replica_sets(kube, namespace)) == 2
        # The Data Index URL on the backend alone: RHDH's installer refuses it, and the wait says so.
        broken = release_vars(kube, "1.10", namespace, rhdh_wait_timeout=60, rhdh_extra_plugins=[{
            "package": "{{ backend }}",
            "pluginConfig": {"orchestrator": {"dataIndexService": {"url": "http://elsewhere"}}}}])
        res = play(kube, roles=broken, extra_args=["-e", json.dumps({"backend": BACKEND}).replace(
            "{{inherit}}", "{{ '{{' }}inherit{{ '}}' }}")])
        text = flat(res.stdout)
        assert res.returncode != 0
        assert "init container install-dynamic-plugins" in text, res.stdout[-3000:]
        assert "defined differently for 2 dynamic plugins" in text and "timed out" not in text
    finally:
        play(kube, roles=release_vars(kube, "1.10", namespace, rhdh_state="absent"))

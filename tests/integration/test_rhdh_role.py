"""The rhdh role's input checks, failure paths and secrecy, and its Backstage CR
against the real upstream CRDs. Converge, idempotence, check mode and removal
are in molecule/site, site_openshift and existing_rhdh."""
import base64
import copy
import json
import os
import uuid

import pytest
import yaml
from ansible_run import REPO, play  # pylint: disable=import-error
from test_postgres_role import flat  # pylint: disable=import-error

from testcluster import crds, upstream


def role(**variables):
    return [{"role": "rhdh.orchestrator.rhdh", "vars": variables}]


def manifest_vars(kube):
    with open(os.path.join(kube.handle.dir, "manifests.json"), encoding="utf-8") as fh:
        rhdh = json.load(fh)["rhdh-operator"]
    return {"rhdh_k8s_operator_manifest_url": rhdh["url"],
            "rhdh_k8s_operator_manifest_checksum": "sha256:" + rhdh["sha256"]}


@pytest.mark.parametrize("variables, expected", [
    ({"rhdh_name": "Not_A_Name"}, "rhdh_name must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'Not_A_Name')"),
    ({"rhdh_data_index_url": "http://data-index/graphql"}, "rhdh_data_index_url must be http(s)://host without a path"),
    ({"rhdh_host": "https://backstage.example.test"}, "rhdh_host must be a host name without a scheme (got 'https://backstage.example.test')"),
    ({"rhdh_github_client_id": "only-the-id"}, "rhdh_github_client_id and rhdh_github_client_secret go together"),
    ({"rhdh_notifications_email_enabled": True}, "rhdh_notifications_email_enabled needs rhdh_notifications_email_hostname"),
    ({"rhdh_extra_plugins": [{"disabled": False}]}, "rhdh_extra_plugins entries each need a package"),
    ({"rhdh_install": "perhaps"}, "rhdh_install"),
])
def test_bad_input_fails_before_any_change(kube, variables, expected):
    ns = f"rhdh-bad-{uuid.uuid4().hex[:6]}"
    res = play(kube, roles=role(rhdh_namespace=ns, **variables))
    assert res.returncode != 0
    assert expected in flat(res.stdout), res.stdout
    assert kube.kubectl("get", "namespace", ns, check=False).returncode != 0


def test_existing_mode_names_the_missing_backstage(kube, namespace):
    res = play(kube, roles=role(rhdh_install=False, rhdh_namespace=namespace, rhdh_name="nowhere",
                                **manifest_vars(kube)))
    assert res.returncode != 0
    assert (f"Backstage {namespace}/nowhere does not exist" in flat(res.stdout)
            or "backstages.rhdh.redhat.com is not installed" in flat(res.stdout)), res.stdout


def test_deploy_failed_ends_the_wait_at_once_and_no_secret_is_printed(kube, namespace):
    """One run of the whole role with -vvv: the simulated operator reports
    DeployFailed, the wait stops well before its timeout and says why, and no
    value of the auth Secret appears anywhere in the output."""
    kube.kubectl("create", "configmap", "simulator-faults", "-n", "kube-system", check=False)
    kube.kubectl("patch", "configmap", "simulator-faults", "-n", "kube-system", "--type=merge",
                 "-p", json.dumps({"data": {f"backstage.{namespace}.broken": "deploy-failed"}}))
    try:
        res = play(kube, roles=role(rhdh_namespace=namespace, rhdh_name="broken", rhdh_wait_timeout=240,
                                    rhdh_github_token="ghp_rolecheck_value", rhdh_github_client_id="cid-rolecheck",
                                    rhdh_github_client_secret="csecret-rolecheck", **manifest_vars(kube)),
                   extra_args=["-vvv", "--diff"])
    finally:
        kube.kubectl("patch", "configmap", "simulator-faults", "-n", "kube-system", "--type=json",
                     "-p", json.dumps([{"op": "remove", "path": f"/data/backstage.{namespace}.broken"}]), check=False)
    text = flat(res.stdout)
    assert res.returncode != 0
    assert f"Backstage {namespace}/broken Deployed=False" in text, res.stdout[-3000:]
    assert "DeployFailed" in text and "timed out" not in text
    secret = kube.json("get", "secret", "-n", namespace, "backstage-backend-auth-secret")
    values = [base64.b64decode(v).decode() for k, v in secret["data"].items()
              if k not in ("K8S_CLUSTER_URL", "K8S_CLUSTER_CA_DATA")]
    assert len(values) == 5
    for value in values + ["ghp_rolecheck_value", "csecret-rolecheck"]:
        assert value not in res.stdout + res.stderr
    # With id and secret the GitHub provider is configured, under auth:.
    auth = kube.json("get", "configmap", "-n", namespace, "app-config-rhdh-auth")["data"]["app-config-auth.yaml"]
    assert "auth:\n  environment: development\n  providers:\n    github:" in auth


def _render_backstage(kube, tmp_path, **variables):
    out = tmp_path / "backstage.json"
    template = os.path.join(REPO, "roles", "rhdh", "templates", "backstage.yml.j2")
    base = {"rhdh_name": "backstage", "rhdh_namespace": "strict-rhdh", "rhdh_host": "",
            "rhdh_auth_secret_name": "backstage-backend-auth-secret", "rhdh_local_db": True,
            "__rhdh_managed_by": "rhdh.orchestrator", "__rhdh_cm_plugins": "dynamic-plugins-rhdh",
            "__rhdh_app_config_maps": ["app-config-rhdh", "app-config-rhdh-orchestrator"],
            "__preflight_platform": "openshift", "__rhdh_api_version": "v1alpha4",
            "rhdh_orchestrator_flavour": False, "rhdh_deployment_kind": "Deployment",
            "rhdh_npm_registry": "https://npm.example.test/", "__rhdh_npmrc_secret": "dynamic-plugins-npmrc"}
    base.update(variables)
    play(kube, tasks=[{"ansible.builtin.copy": {
        "dest": str(out), "mode": "0600",
        "content": "{{ lookup('ansible.builtin.template', '%s') | from_yaml | to_json }}" % template},
        "vars": base}], check=True)
    return json.loads(out.read_text())


def _renamed(crd, group):
    """The upstream CRD under another group, so checking it never touches the
    cluster's own Backstage CRD."""
    crd = copy.deepcopy(crds.sanitize(crd))
    crd["spec"]["group"] = group
    crd["metadata"] = {"name": f"{crd['spec']['names']['plural']}.{group}"}
    return crd


def test_backstage_cr_passes_strict_validation_against_upstream_crds(openshift, tmp_path):
    """Every version the role writes, against every upstream CRD file serving it
    (main: v1alpha4/v1alpha5, release-1.7: v1alpha3), server-side with
    --validate=strict. A misspelt field fails the same check."""
    variants = crds.upstream_variants().get("backstages.rhdh.redhat.com")
    if not variants or crds.source() != "upstream":
        pytest.skip("the upstream CRDs (../shared/crds) are not beside this checkout")
    checked = []
    openshift.kubectl("create", "namespace", "strict-rhdh", check=False)
    for i, upstream in enumerate(variants):
        group = f"v{i}.strict.rhdh.test"
        openshift.handle.install_crds([_renamed(upstream, group)])
        served = [v["name"] for v in upstream["spec"]["versions"] if v["served"]]
        for version in ("v1alpha3", "v1alpha4", "v1alpha5"):
            if version not in served:
                continue
            for flavour, host in (("openshift", "rhdh.apps.example.test"), ("kubernetes", "")):
                doc = _render_backstage(openshift, tmp_path, __rhdh_api_version=version,
                                        __preflight_platform=flavour, rhdh_host=host)
                assert doc["apiVersion"] == f"rhdh.redhat.com/{version}"
                doc["apiVersion"] = f"{group}/{version}"
                res = openshift.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                                        "--field-manager=strict-check", "-f", "-", stdin=json.dumps(doc), check=False)
                assert res.returncode == 0, f"{version} ({flavour}): {res.stderr}"
                checked.append(version)
        bad = copy.deepcopy(doc)
        bad["spec"]["application"]["dynamicPluginsConfigMap"] = "typo"
        res = openshift.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                                "--field-manager=strict-check", "-f", "-", stdin=json.dumps(bad), check=False)
        assert res.returncode != 0 and "field not declared in schema" in res.stderr, res.stderr
        openshift.kubectl("delete", "crd", _renamed(upstream, group)["metadata"]["name"], check=False)
    assert set(checked) == {"v1alpha3", "v1alpha4", "v1alpha5"}


def test_backstage_cr_of_each_release_passes_strict_validation_against_its_crd(openshift, tmp_path):
    """The CR each RHDH release gets from the role (its API version, flavours on
    1.10, StatefulSet from 1.9, the npmrc through extraFiles or the 1.7 patch),
    against that release's own CRD, server-side with --validate=strict."""
    if not upstream.available():
        pytest.skip("the upstream data (../shared/upstream) is not beside this checkout")
    openshift.kubectl("create", "namespace", "strict-rhdh", check=False)
    for i, release in enumerate(upstream.RELEASES):
        with open(upstream.crd_file(release), encoding="utf-8") as fh:
            crd = yaml.safe_load(fh)
        group = f"r{i}.strict.rhdh.test"
        openshift.handle.install_crds([_renamed(crd, group)])
        row = {"1.7": ("v1alpha3", False, "Deployment"), "1.8": ("v1alpha4", False, "Deployment"),
               "1.9": ("v1alpha5", False, "StatefulSet"), "1.10": ("v1alpha5", True, "StatefulSet")}[release]
        doc = _render_backstage(openshift, tmp_path, __rhdh_api_version=row[0], rhdh_orchestrator_flavour=row[1],
                                rhdh_deployment_kind=row[2])
        doc["apiVersion"] = f"{group}/{row[0]}"
        res = openshift.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                                "--field-manager=strict-check", "-f", "-", stdin=json.dumps(doc), check=False)
        assert res.returncode == 0, f"RHDH {release}: {res.stderr}"
        openshift.kubectl("delete", "crd", _renamed(crd, group)["metadata"]["name"], check=False)
    openshift.kubectl("delete", "namespace", "strict-rhdh", "--wait=false", check=False)

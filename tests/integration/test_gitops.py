"""The gitops role against the upstream ArgoCD and Tekton CRDs, on the plain flavour.

The test cluster serves no argoproj.io or tekton.dev API of its own: this module
installs the upstream CRDs (../shared/crds) for its second test and deletes
them at the end, so that the other tests find the cluster as before. The role
writes AppProjects, Tasks and Pipelines (checked against their full upstream
schemas) but only reads ArgoCD instances, so the ArgoCD CRD (2 MB of schema,
half of this module's time) is loaded with upstream's names and versions and
an open schema.
"""
import base64
import json
import uuid

import pytest
from ansible_run import play  # pylint: disable=import-error

from testcluster import crds

CRDS = ["appprojects.argoproj.io", "argocds.argoproj.io", "tasks.tekton.dev", "pipelines.tekton.dev"]
MARKER = ("app.kubernetes.io/managed-by", "rhdh.orchestrator")
ARGO_LABEL = "argocd.argoproj.io/managed-by"


def flat(text):
    """Output with line wrapping undone: the callback folds long messages."""
    return " ".join(text.split())


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Secrets:
    """Credentials unique to this run, and every form they could leak in."""

    def __init__(self):
        tag = uuid.uuid4().hex[:10]
        self.key_body = f"gitops-test-key-{tag}"
        self.key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{self.key_body}\n-----END OPENSSH PRIVATE KEY-----"
        self.password = f"gitops-test-password-{tag}"
        self.password2 = f"gitops-test-rotated-{tag}"
        self.user_key = f"users-own-key-{tag}"

    def forms(self):
        out = []
        for value in (self.key_body, self.password, self.password2, self.user_key):
            out += [value, b64(value)]
        out += [b64(self.key + "\n"), b64("robot:" + self.password), b64("robot:" + self.password2)]
        return out

    def assert_hidden(self, res):
        text = res.stdout + res.stderr
        leaked = [v for v in self.forms() if v in text]
        assert not leaked, f"credential values in the output: {leaked}"


def role(**variables):
    return [{"role": "rhdh.orchestrator.gitops", "vars": variables}]


def recap_changed(res):
    return int(res.stdout.rsplit("changed=", 1)[1].split()[0])


def strict(kube, doc):
    """Server-side dry run with strict field validation: an unknown field is an error."""
    return kube.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                        "--field-manager=strict-check", "-f", "-", stdin=json.dumps(doc), check=False)


def _crds_present(kube):
    names = kube.kubectl("get", "crd", "-o", "name").stdout.split()
    return [n for n in CRDS if f"customresourcedefinition.apiextensions.k8s.io/{n}" in names]


@pytest.fixture(scope="module")
def gitops_crds(kube):
    """Installs the upstream CRDs on demand; at the end they are gone again."""
    if crds.source() != "upstream":
        pytest.skip("the upstream CRDs (../shared/crds) are not beside this checkout")
    # Left over by an interrupted run: the first test needs them absent.
    for name in _crds_present(kube):
        kube.kubectl("delete", "crd", name, "--timeout=60s")

    def install():
        kube.handle.install_crds(crds.load_on_demand(CRDS))
    yield install
    for name in _crds_present(kube):
        kube.kubectl("delete", "crd", name, "--timeout=120s", check=False)


def test_missing_prerequisites_are_all_named_before_any_change(kube, gitops_crds, namespace):
    assert not _crds_present(kube)
    secrets = Secrets()
    target = f"gitops-none-{uuid.uuid4().hex[:6]}"
    res = play(kube, roles=role(
        gitops_namespace=target, gitops_argocd_namespace="argo-none", gitops_managed_namespaces=[namespace],
        gitops_git_ssh_private_key=secrets.key, gitops_git_ssh_known_hosts="github.com ssh-ed25519 AAAAtest",
        gitops_docker_registries=[{"registry": "quay.io", "username": "robot", "password": secrets.password}]))
    out = flat(res.stdout)
    assert res.returncode != 0
    assert "GitOps prerequisites missing (nothing was changed)" in out, res.stdout
    for missing in ("the API argoproj.io/v1alpha1 AppProject is not served", "the API tekton.dev/v1 Task is not served",
                    "the API tekton.dev/v1 Pipeline is not served",
                    "no ArgoCD instance: the API argoproj.io/v1beta1 ArgoCD is not served"):
        assert missing in out, missing
    secrets.assert_hidden(res)
    # Unchanged: no namespace, no Secret, no label.
    assert kube.kubectl("get", "namespace", target, check=False).returncode != 0
    assert ARGO_LABEL not in kube.json("get", "namespace", namespace)["metadata"].get("labels", {})
    found = kube.kubectl("get", "secrets", "-A", "-o", "name", "--field-selector", "metadata.name=docker-credentials")
    assert found.stdout.strip() == ""


def test_converge_rerun_check_rotate_and_remove(kube, gitops_crds, tmp_path):
    """Against the upstream CRDs and an ArgoCD CR: objects made and strictly
    valid, labels added, the user's Secret and labels respected, idempotent,
    check mode silent, a rotated password updated in place, credentials never
    printed, and removal taking back exactly what the role made."""
    gitops_crds()
    secrets = Secrets()
    tag = uuid.uuid4().hex[:6]
    argo, ns, wf_new, wf_own = f"gto-argo-{tag}", f"gto-rhdh-{tag}", f"gto-wf-{tag}", f"gto-wfown-{tag}"
    for name in (argo, ns, wf_new, wf_own):
        kube.kubectl("create", "namespace", name)
    try:
        kube.kubectl("apply", "-f", "-", stdin=json.dumps(
            {"apiVersion": "argoproj.io/v1beta1", "kind": "ArgoCD", "metadata": {"name": "argocd", "namespace": argo}, "spec": {}}))
        kube.kubectl("label", "namespace", wf_new, "team=new")
        # The user labelled this one for the same ArgoCD before: it stays theirs.
        kube.kubectl("label", "namespace", wf_own, "team=own", f"{ARGO_LABEL}={argo}")
        # The user made the git Secret by hand, as upstream's docs tell: it is left alone.
        kube.kubectl("create", "secret", "generic", "git-ssh-credentials", "-n", ns, f"--from-literal=id_rsa={secrets.user_key}")
        user_secret = kube.json("get", "secret", "git-ssh-credentials", "-n", ns)
        variables = dict(
            gitops_namespace=ns, gitops_argocd_namespace=argo, gitops_app_project_namespace=argo,
            gitops_managed_namespaces=[wf_new, wf_own, f"gto-missing-{tag}"],
            gitops_app_project_spec={"description": "Orchestrator workflows", "sourceRepos": ["git@github.com:example/*"]},
            gitops_git_ssh_private_key=secrets.key, gitops_git_ssh_known_hosts="github.com ssh-ed25519 AAAAtest",
            gitops_docker_config_json=json.dumps({"auths": {"registry.redhat.io": {"auth": b64("rh:pull")}}}),
            gitops_docker_registries=[{"registry": "quay.io", "username": "robot", "password": secrets.password}])
        docs_file = tmp_path / "documents.json"
        dump = [{"ansible.builtin.copy": {"dest": str(docs_file), "mode": "0600", "content": "{{ __gitops_documents | to_json }}"}}]

        res = play(kube, roles=role(**variables), tasks=dump, extra_args=["--diff"])
        assert res.returncode == 0, res.stdout
        secrets.assert_hidden(res)
        out = flat(res.stdout)
        assert "secrets_left_alone: - Secret " + ns + "/git-ssh-credentials" in out
        assert f"namespaces_not_labelled: - gto-missing-{tag}" in out
        for kind, name, where in (("appproject", "argocd-app-project", argo), ("pipeline", "workflow-deployment", ns),
                                  ("task", "git-cli", ns), ("task", "flattener", ns), ("task", "build-manifests", ns),
                                  ("task", "build-gitops", ns), ("secret", "docker-credentials", ns)):
            obj = kube.json("get", kind, name, "-n", where)
            assert obj["metadata"]["labels"].get(MARKER[0]) == MARKER[1], f"{kind} {name}"
        pipeline = kube.json("get", "pipeline", "workflow-deployment", "-n", ns)["spec"]
        build = [t for t in pipeline["tasks"] if t["name"] == "build-and-push-image"][0]
        assert build["taskRef"]["resolver"] == "cluster" and {"name": "name", "value": "buildah"} in build["taskRef"]["params"]
        assert [w["name"] for w in pipeline["workspaces"]] == ["workflow-source", "workflow-gitops", "ssh-creds", "docker-credentials"]
        project = kube.json("get", "appproject", "argocd-app-project", "-n", argo)["spec"]
        assert project["sourceRepos"] == ["git@github.com:example/*"] and project["destinations"][0]["server"] == "*"
        docker = kube.json("get", "secret", "docker-credentials", "-n", ns)
        assert docker["type"] == "kubernetes.io/dockerconfigjson"
        auths = json.loads(base64.b64decode(docker["data"][".dockerconfigjson"]))["auths"]
        assert auths["quay.io"]["auth"] == b64("robot:" + secrets.password) and "registry.redhat.io" in auths
        assert kube.json("get", "secret", "git-ssh-credentials", "-n", ns)["data"] == user_secret["data"]
        labels = kube.json("get", "namespace", wf_new)["metadata"]["labels"]
        assert labels[ARGO_LABEL] == argo and labels["team"] == "new"

        # Every object the role renders passes the upstream CRDs' strict validation; a misspelt field does not.
        docs = json.loads(docs_file.read_text())
        assert sorted(d["kind"] for d in docs) == ["AppProject", "Pipeline", "Task", "Task", "Task", "Task"]
        for doc in docs:
            dry = strict(kube, doc)
            assert dry.returncode == 0, f"{doc['kind']} {doc['metadata']['name']}: {dry.stderr}"
        pipeline_doc = [d for d in docs if d["kind"] == "Pipeline"][0]
        dry = strict(kube, dict(pipeline_doc, spec=dict(pipeline_doc["spec"], workspace=[])))
        assert dry.returncode != 0 and ".spec.workspace: field not declared in schema" in dry.stderr, dry.stderr

        res = play(kube, roles=role(**variables))
        assert res.returncode == 0 and recap_changed(res) == 0, res.stdout
        res = play(kube, roles=role(**variables), extra_args=["--check", "--diff"])
        assert res.returncode == 0 and recap_changed(res) == 0, res.stdout
        secrets.assert_hidden(res)

        # A new password: the Secret the collection made follows, in place.
        uid = docker["metadata"]["uid"]
        rotated = {**variables, "gitops_docker_registries": [{"registry": "quay.io", "username": "robot", "password": secrets.password2}]}
        res = play(kube, roles=role(**rotated), extra_args=["--diff"])
        assert res.returncode == 0 and recap_changed(res) == 1, res.stdout
        secrets.assert_hidden(res)
        docker = kube.json("get", "secret", "docker-credentials", "-n", ns)
        assert docker["metadata"]["uid"] == uid
        assert json.loads(base64.b64decode(docker["data"][".dockerconfigjson"]))["auths"]["quay.io"]["auth"] == b64("robot:" + secrets.password2)

        res = play(kube, roles=role(**rotated, gitops_state="absent"), extra_args=["--diff"])
        assert res.returncode == 0, res.stdout
        secrets.assert_hidden(res)
        for kind, name, where in (("appproject", "argocd-app-project", argo), ("pipeline", "workflow-deployment", ns),
                                  ("task", "git-cli", ns), ("secret", "docker-credentials", ns)):
            assert kube.kubectl("get", kind, name, "-n", where, check=False).returncode != 0, f"{kind} {name} is still there"
        assert kube.json("get", "secret", "git-ssh-credentials", "-n", ns)["data"] == user_secret["data"]
        new_meta = kube.json("get", "namespace", wf_new)["metadata"]
        assert ARGO_LABEL not in new_meta["labels"] and new_meta["labels"]["team"] == "new"
        assert "orchestrator.rhdh.redhat.com/added-labels" not in (new_meta.get("annotations") or {})
        assert kube.json("get", "namespace", wf_own)["metadata"]["labels"][ARGO_LABEL] == argo
        assert kube.json("get", "argocd", "argocd", "-n", argo)["metadata"]["name"] == "argocd"
        assert _crds_present(kube) == CRDS
    finally:
        for name in (argo, ns, wf_new, wf_own):
            kube.kubectl("delete", "namespace", name, "--wait=false", check=False)

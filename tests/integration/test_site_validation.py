"""site.yml checks the input of every component before the first change.

Bad input for several components (and a removed `<role>_platform` variable)
on the kubernetes cluster: the run fails in the validation phase, lists every
problem once, naming the variables the user set (orchestrator_wait_timeout,
not the role variables derived from it), and leaves the cluster as it was.
"""
import json
import os
import subprocess

from ansible_run import REPO, VENV_BIN  # pylint: disable=import-error

MARKER = "app.kubernetes.io/managed-by=rhdh.orchestrator"
KINDS = "configmaps,secrets,services,deployments,statefulsets,networkpolicies,serviceaccounts"


def snapshot(kube):
    namespaces = kube.kubectl("get", "namespaces", "-o", "name").stdout.split()
    ours = kube.kubectl("get", KINDS, "-A", "-l", MARKER, "-o", "name").stdout.split()
    crs = kube.kubectl("get", "crd", "-o", "name").stdout.split()
    return set(namespaces), set(ours), set(crs)


def test_bad_input_is_reported_at_once_and_nothing_changes(kube):
    before = snapshot(kube)
    extra = {"rhdh_name": "my_backstage", "orchestrator_wait_timeout": "abc", "postgres_storage_size": "2 gigs",
             "rhdh_platform": "openshift", "orchestrator_platform": "k8s",
             # every component of the plan is checked, not only those with bad input
             "orchestrator_workflow_namespaces": ["wf-extra"], "orchestrator_gitops_enabled": True,
             "orchestrator_workflows": [{"name": "greeting", "chart": "orchestrator/greeting", "version": "1.7.0"}]}
    env = dict(os.environ, KUBECONFIG=kube.kubeconfig, K8S_AUTH_KUBECONFIG=kube.kubeconfig,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               PATH=VENV_BIN + os.pathsep + os.environ["PATH"])
    argv = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,",
            "-e", "ansible_python_interpreter=" + os.path.join(VENV_BIN, "python"),
            "-e", json.dumps(extra), os.path.join(REPO, "playbooks", "site.yml")]
    res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    report = out.split("fatal: [localhost]: FAILED!")[-1]
    assert "Invalid input; nothing was changed:" in report, out
    for message in ("rhdh_platform is no longer read: set orchestrator_platform instead",
                    "orchestrator_wait_timeout must be a positive number of seconds (got 'abc')",
                    "value of orchestrator_platform must be one of: auto, openshift, kubernetes, got: k8s",
                    "postgres_storage_size must be a Kubernetes quantity such as 2Gi (got '2 gigs')",
                    "rhdh_name must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'my_backstage')"):
        assert report.count(message) == 1, (message, report)
    for derived in ("_wait_timeout", "preflight_platform", "argument '", "Task failed"):
        assert derived not in report.replace("orchestrator_wait_timeout", ""), (derived, report)
    # grouped: collection-wide first, then each component with its own
    assert report.index("all components:") < report.index("postgres:") < report.index("rhdh:"), report
    # nothing ran past the validation phase, and the cluster is as it was
    assert "Check the cluster and detect the platform" not in out, out
    assert snapshot(kube) == before

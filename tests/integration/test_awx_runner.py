"""site.yml as an AWX job runs it: ansible-runner, the installed tarball, survey answers, a bearer-token credential.

AWX hands a job to ansible-runner (`ansible_runner.run(private_data_dir=...,
playbook=..., extravars=...)`) with the project's collections, the survey
answers as extra variables and the credential's environment. This test does
the same against the plain test cluster, from the collection installed from
the built tarball (tests/conftest.py), with nothing else to find the cluster:
no KUBECONFIG, a HOME without ~/.kube/config, only the K8S_AUTH_* variables
of the "OpenShift or Kubernetes API Bearer Token" credential type. The token
is a ServiceAccount's (TokenRequest, `kubectl create token`) bound to
cluster-admin, as docs/awx.md asks.

A survey sends text for text, password and multiple-choice questions
(booleans as "true"/"false", numbers asked as text), an int for integer
questions and a list for multi-select ones (docs/awx/survey-install.json);
only the cheap postgres component runs.
"""
import base64
import json
import os
import sys
import uuid

import ansible_runner
import yaml

# What an AWX survey sends: text for text and multiple-choice questions, an int for an integer question, a list for multi-select.
SURVEY = {
    "orchestrator_state": "present",
    "orchestrator_platform": "auto",
    "orchestrator_rhdh_version": "1.10",
    "orchestrator_targets": ["postgres"],
    "orchestrator_gitops_enabled": "false",
    "orchestrator_keep_going": "false",
    "orchestrator_require_default_storage_class": "false",
    "orchestrator_wait_timeout": 120,
    "postgres_port": "5432",
}
PROJECT_PLAYBOOK = [{"name": "Orchestrator for Red Hat Developer Hub", "ansible.builtin.import_playbook": "rhdh.orchestrator.site"}]
# The environment an AWX job gets from the OpenShift or Kubernetes API Bearer Token credential, and nothing else for the cluster.
CLEARED = ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_USERNAME", "K8S_AUTH_PASSWORD",
           "K8S_AUTH_CERT_FILE", "K8S_AUTH_KEY_FILE", "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_HOST",
           "K8S_AUTH_API_KEY", "K8S_AUTH_PROXY", "ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATHS")


def _job(private_data_dir, collection_install, extravars, credential):
    """One job run the way AWX's task runner starts it; returns the Runner."""
    envvars = dict(credential, ANSIBLE_COLLECTIONS_PATH=collection_install.collections_path,
                   ANSIBLE_CONFIG=str(collection_install.tmp / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return ansible_runner.run(private_data_dir=str(private_data_dir), playbook="orchestrator.yml", extravars=extravars,
                              envvars=envvars, quiet=True, timeout=300)


def _stats_event(runner):
    return next(e for e in runner.events if e.get("event") == "playbook_on_stats")["event_data"]


def _where(path):
    """A job artifact by what it is: the task of an event, else the file name."""
    if path.parent.name == "job_events":
        data = json.loads(path.read_text(encoding="utf-8")).get("event_data") or {}
        return f"the event of task {data.get('task')!r} ({data.get('task_path', '')})"
    return path.name


def _output(runner):
    with runner.stdout as handle:
        return handle.read()


def test_site_as_an_awx_job_with_a_bearer_token(kube, collection_install, tmp_path, monkeypatch):  # pylint: disable=too-many-locals
    suffix = uuid.uuid4().hex[:6]
    account, namespace, record = f"awx-job-{suffix}", f"awx-{suffix}", f"awx-state-{suffix}"
    password = f"survey-{uuid.uuid4().hex}"
    kube.kubectl("create", "serviceaccount", account, "-n", "default")
    kube.kubectl("create", "clusterrolebinding", account, "--clusterrole=cluster-admin", f"--serviceaccount=default:{account}")
    try:
        token = kube.kubectl("create", "token", account, "-n", "default", "--duration=1h").stdout.strip()
        with open(kube.kubeconfig, encoding="utf-8") as handle:
            cluster = yaml.safe_load(handle)["clusters"][0]["cluster"]
        assert cluster["server"].startswith("https://127.0.0.1:")
        ca_file = tmp_path / "ca.crt"
        ca_file.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))

        # The job's process environment: nothing that points at a cluster, a HOME with no ~/.kube.
        for name in CLEARED:
            monkeypatch.delenv(name, raising=False)
        home = tmp_path / "home"
        home.mkdir()
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])

        private = tmp_path / "job"
        (private / "project").mkdir(parents=True)
        (private / "inventory").mkdir()
        (private / "project" / "orchestrator.yml").write_text(yaml.safe_dump(PROJECT_PLAYBOOK, sort_keys=False))
        # AWX's localhost: a local connection with the EE's Python (here the virtualenv's).
        (private / "inventory" / "hosts").write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        # Its own state record, so the shared default one stays as other tests left it.
        extravars = dict(SURVEY, orchestrator_workflow_namespace=namespace, postgres_password=password, orchestrator_state_configmap=record)

        # Verify SSL without a CA certificate: AWX injects K8S_AUTH_VERIFY_SSL=False.
        first = _job(private, collection_install, extravars,
                     {"K8S_AUTH_HOST": cluster["server"], "K8S_AUTH_API_KEY": token, "K8S_AUTH_VERIFY_SSL": "False"})
        output = _output(first)
        assert (first.status, first.rc) == ("successful", 0), output[-4000:]
        assert first.stats["changed"].get("localhost", 0) > 0, first.stats
        assert kube.kubectl("get", "statefulset", "-n", namespace, "-o", "name").stdout.strip(), "postgres was not deployed"
        # The second run: the credential with a CA certificate (a file AWX writes), and nothing changes.
        second = _job(private, collection_install, extravars,
                      {"K8S_AUTH_HOST": cluster["server"], "K8S_AUTH_API_KEY": token, "K8S_AUTH_VERIFY_SSL": "True",
                       "K8S_AUTH_SSL_CA_CERT": str(ca_file)})
        output2 = _output(second)
        assert (second.status, second.rc) == ("successful", 0), output2[-4000:]
        assert second.stats["changed"].get("localhost", 0) == 0, f"{second.stats}\n{output2[-4000:]}"
        # The job's artifacts: set_stats data AWX shows as the job's artifacts and passes on in a workflow.
        artifacts = _stats_event(second).get("artifact_data") or {}
        results = artifacts.get("orchestrator_results")
        assert results and [r["component"] for r in results] == ["postgres"] and results[0]["status"] == "ok", artifacts
        assert artifacts.get("orchestrator_state") == "present"
        # The password survey answer and the token are in no job output or event: AWX stores and shows them
        # (`command` is ansible-runner's record of the environment it was given, not part of the job's output).
        leaks = sorted({f"{what} in {_where(p)}" for p in (private / "artifacts").rglob("*") if p.is_file() and p.name != "command"
                        for what, secret in (("postgres_password", password), ("the token", token))
                        if secret in p.read_text(encoding="utf-8", errors="replace")})
        assert not leaks, "\n".join(leaks)
        assert password not in kube.kubectl("get", "configmaps", "-A", "-o", "yaml").stdout, "postgres_password in a ConfigMap"
    finally:
        kube.kubectl("delete", "clusterrolebinding", account, check=False)
        kube.kubectl("delete", "serviceaccount", account, "-n", "default", check=False)
        kube.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        kube.kubectl("delete", "configmap", record, "-n", "default", check=False)

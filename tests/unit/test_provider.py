"""tests/cluster/provider, the cluster source of the molecule scenarios."""
import os
import subprocess

PROVIDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cluster", "provider")


def run(*args, **env):
    full = dict(os.environ, **env)
    return subprocess.run([PROVIDER, *args], capture_output=True, text=True, env=full, check=False)


def test_unknown_provider_is_refused(tmp_path):
    res = run("create", str(tmp_path / "kc"), ORCHESTRATOR_TEST_CLUSTER="minikube")
    assert res.returncode == 2
    assert "ORCHESTRATOR_TEST_CLUSTER" in res.stderr


def test_existing_copies_the_given_kubeconfig_and_never_destroys(tmp_path):
    src = tmp_path / "src-kubeconfig"
    src.write_text("apiVersion: v1\nkind: Config\n")
    out = tmp_path / "kc"
    res = run("create", str(out), ORCHESTRATOR_TEST_CLUSTER="existing", ORCHESTRATOR_TEST_KUBECONFIG=str(src))
    assert res.returncode == 0, res.stderr
    assert out.read_text() == src.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    res = run("destroy", str(out), ORCHESTRATOR_TEST_CLUSTER="existing")
    assert res.returncode == 0 and "destroyed" not in res.stdout.split()


def test_existing_without_kubeconfig_names_the_variable(tmp_path):
    res = run("create", str(tmp_path / "kc"), ORCHESTRATOR_TEST_CLUSTER="existing",
              ORCHESTRATOR_TEST_KUBECONFIG=str(tmp_path / "missing"))
    assert res.returncode == 1 and "ORCHESTRATOR_TEST_KUBECONFIG" in res.stderr


def test_kind_refuses_the_openshift_flavour_or_missing_kind(tmp_path):
    res = run("create", str(tmp_path / "kc"), ORCHESTRATOR_TEST_CLUSTER="kind",
              ORCHESTRATOR_TEST_FLAVOUR="openshift")
    assert res.returncode == 1
    assert "kind" in res.stderr

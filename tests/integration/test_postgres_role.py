"""The postgres role's input checks and secret handling, on the plain flavour.

Converge, idempotence, check mode and removal are in molecule/site (whole stack).
"""
import base64
import uuid

import pytest
from ansible_run import play  # pylint: disable=import-error


def flat(text):
    """Output with line wrapping undone: the callback folds long messages."""
    return " ".join(text.split())


def role(**variables):
    return [{"role": "rhdh.orchestrator.postgres", "vars": variables}]


@pytest.mark.parametrize("variables, expected", [
    ({"postgres_state": "gone"}, "postgres_state must be one of: present, absent"),
    ({"postgres_port": "five"}, "postgres_port"),
    ({"postgres_deploy": "maybe"}, "postgres_deploy"),
    ({"postgres_storage_size": "2 GB"}, "postgres_storage_size must be a Kubernetes quantity"),
    ({"postgres_namespace": "Bad_Name"}, "postgres_namespace must be a DNS label (lowercase letters, digits and '-', at most 63) (got 'Bad_Name')"),
])
def test_bad_input_fails_before_any_change(kube, variables, expected):
    ns = variables.get("postgres_namespace", f"pg-bad-{uuid.uuid4().hex[:6]}")
    variables.setdefault("postgres_namespace", ns)
    res = play(kube, roles=role(**variables))
    assert res.returncode != 0
    assert expected in flat(res.stdout), res.stdout
    # Nothing was created: the namespace does not exist.
    assert kube.kubectl("get", "namespace", ns.lower(), check=False).returncode != 0


def test_password_never_appears_in_verbose_output(kube):
    ns = f"pg-nolog-{uuid.uuid4().hex[:6]}"
    try:
        res = play(kube, roles=role(postgres_namespace=ns, postgres_wait_timeout=120), extra_args=["-vvv"],
                   check=True)
        secret = kube.json("get", "secret", "sonataflow-psql-postgresql", "-n", ns)
        password = base64.b64decode(secret["data"]["postgres-password"]).decode()
        assert len(password) == 32
        assert password not in flat(res.stdout) + flat(res.stderr)
        assert secret["data"]["postgres-password"] not in res.stdout
        # A second run keeps the Secret byte for byte.
        play(kube, roles=role(postgres_namespace=ns, postgres_wait_timeout=120), check=True)
        again = kube.json("get", "secret", "sonataflow-psql-postgresql", "-n", ns)
        assert again["data"] == secret["data"]
        assert again["metadata"]["resourceVersion"] == secret["metadata"]["resourceVersion"]
    finally:
        kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_existing_secret_without_keys_is_refused(kube, namespace):
    ns = namespace
    kube.kubectl("create", "secret", "generic", "mine", "-n", ns, "--from-literal=user=x")
    res = play(kube, roles=role(postgres_namespace=ns, postgres_secret_name="mine", postgres_secret_create=False))
    assert res.returncode != 0
    assert f"Secret {ns}/mine lacks the key(s) postgres-username, postgres-password" in flat(res.stdout)
    assert kube.kubectl("get", "statefulset", "-n", ns, "-o", "name").stdout.strip() == ""


def test_external_mode_checks_references_and_deploys_nothing(kube, namespace):
    ns = namespace
    res = play(kube, roles=role(postgres_namespace=ns, postgres_deploy=False, postgres_service_name="db"))
    assert res.returncode != 0
    assert f"Service {ns}/db (postgres_service_namespace/postgres_service_name) does not exist" in flat(res.stdout)
    kube.kubectl("create", "service", "externalname", "db", "--external-name=db.example.test", "-n", ns)
    kube.kubectl("create", "secret", "generic", "sonataflow-psql-postgresql", "-n", ns,
                 "--from-literal=postgres-username=u", "--from-literal=postgres-password=p")
    res = play(kube, roles=role(postgres_namespace=ns, postgres_deploy=False, postgres_service_name="db"))
    assert res.returncode == 0, res.stdout
    assert "changed=0" in res.stdout
    assert kube.kubectl("get", "statefulset,pvc", "-n", ns, "-o", "name").stdout.strip() == ""

"""The project's own test CRDs: valid, and never inventing a field upstream lacks."""
import json

import pytest

from testcluster import crds


def _paths(schema, prefix=""):
    """Every property path a structural schema declares."""
    out = set()
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        out.add(path)
        out |= _paths(sub, path)
    if "items" in schema:
        out |= _paths(schema["items"], prefix + "[]")
    if isinstance(schema.get("additionalProperties"), dict):
        out |= _paths(schema["additionalProperties"], prefix + "{}")
    return out


def _versions(crd):
    return {v["name"]: v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["served"]}


def _upstream_versions(name):
    """Served versions over every upstream release file of a CRD, newest file first."""
    out = {}
    for doc in crds.upstream_variants()[name]:
        for version, schema in _versions(doc).items():
            out.setdefault(version, schema)
    return out


PROJECT = crds.project_index()
UPSTREAM = crds.upstream_index()


def test_project_has_every_openshift_crd():
    assert set(crds.OPENSHIFT) <= set(PROJECT)


@pytest.mark.parametrize("name", sorted(PROJECT))
def test_project_crd_fields_exist_upstream(name):
    if not UPSTREAM:
        pytest.skip("the upstream CRDs (../shared/crds) are not beside this checkout")
    if name in crds.PROJECT_ONLY:
        pytest.skip(f"{name} has no upstream copy in ../shared/crds; both sets load the project's")
    assert name in UPSTREAM, f"{name} has no upstream counterpart"
    ours, theirs = _versions(PROJECT[name]), _upstream_versions(name)
    for version, schema in ours.items():
        assert version in theirs, f"{name} {version} is not an upstream version"
        invented = _paths(schema) - _paths(theirs[version])
        assert not invented, f"{name} {version} declares fields upstream does not: {sorted(invented)}"
    assert PROJECT[name]["spec"]["scope"] == UPSTREAM[name]["spec"]["scope"]
    assert PROJECT[name]["spec"]["names"]["kind"] == UPSTREAM[name]["spec"]["names"]["kind"]


@pytest.mark.parametrize("name", sorted(PROJECT))
def test_project_crd_is_accepted_by_the_apiserver(openshift, name):
    """Server-side dry run: a structural-schema mistake fails here even when the
    cluster itself runs the upstream CRDs."""
    doc = json.dumps(crds.sanitize(PROJECT[name]))
    res = openshift.kubectl("apply", "--server-side", "--dry-run=server", "--force-conflicts",
                            "--field-manager=crd-check", "-f", "-", stdin=doc, check=False)
    assert res.returncode == 0, res.stderr


def test_sanitize_drops_webhook_conversion():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "x.example.test", "creationTimestamp": None},
           "spec": {"conversion": {"strategy": "Webhook"}, "versions": []}, "status": {}}
    clean = crds.sanitize(crd)
    assert "conversion" not in clean["spec"]
    assert "creationTimestamp" not in clean["metadata"] and "status" not in clean
    assert crd["spec"]["conversion"] == {"strategy": "Webhook"}, "the input must not be mutated"

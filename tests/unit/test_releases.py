"""The RHDH release matrix (plugins/module_utils/releases.py)."""
import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "releases.py")
_SPEC = importlib.util.spec_from_file_location("releases", _PATH)
rel = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rel)


@pytest.mark.parametrize("given, key", [("1.9", "1.9"), (1.9, "1.9"), ("1.10", "1.10"), (1.1, "1.10"),
                                        ("1.10.4", "1.10"), ("1.7.1", "1.7"), ("", rel.NEWEST), (None, rel.NEWEST)])
def test_release_keys(given, key):
    assert rel.release(given)["version"] == key


@pytest.mark.parametrize("bad", ["1.6", "2.0", "latest", "1"])
def test_unknown_release_names_the_variable_and_the_choices(bad):
    with pytest.raises(rel.UnknownRelease) as exc:
        rel.release(bad)
    assert "orchestrator_rhdh_version" in str(exc.value) and "1.7, 1.8, 1.9, 1.10" in str(exc.value)


def test_every_release_is_complete_and_consistent():
    for version in rel.supported():
        row = rel.release(version)
        assert row["operator_channel"] == "fast-" + version
        assert row["backstage_api_version"] in row["api_versions"]
        assert row["manifest_url"].endswith(f"/release-{version}/dist/rhdh/install.yaml")
        assert set(row["plugins"]) == {"orchestrator", "orchestrator_backend", "scaffolder", "form_widgets"}
        assert row["logic_operator_starting_csv"].startswith(row["logic_operator_package"] + ".v")
        npm = version in ("1.7", "1.8")
        for plugin in row["plugins"].values():
            assert plugin["package"].startswith("@redhat/" if npm else "oci://registry.access.redhat.com/rhdh/")
            assert bool(plugin["integrity"]) == npm
            assert npm or plugin["package"].endswith(":{{inherit}}")


def test_dependency_override_per_operator_merge_rule():
    # 1.7 takes our ConfigMap as is; 1.8/1.9 keep theirs unless ours is non-empty; 1.10 clears on [].
    assert rel.release("1.7")["plugin_dependencies"] is None
    assert rel.release("1.8")["plugin_dependencies"] == rel.release("1.9")["plugin_dependencies"] == [{"ref": "none"}]
    assert rel.release("1.10")["plugin_dependencies"] == []


def test_the_table_is_not_shared_between_callers():
    row = rel.release("1.9")
    row["plugins"]["orchestrator"]["package"] = "changed"
    assert rel.release("1.9")["plugins"]["orchestrator"]["package"] != "changed"


def test_differences():
    assert rel.differences("1.9", {"operator_csv": "rhdh-operator.v1.9.3", "backstage_api_versions": ["v1alpha5"],
                                   "logic_operator_csv": "logic-operator.v1.37.2"}) == []
    out = rel.differences("1.10", {"operator_csv": "quay.io/rhdh/rhdh-rhel9-operator:1.9",
                                   "backstage_api_versions": ["v1alpha3"],
                                   "logic_operator_csv": "logic-operator-rhel8.v1.36.0"})
    assert len(out) == 3
    assert "release 1.9" in out[0] and "orchestrator_rhdh_version is 1.10" in out[0]
    assert "serves v1alpha3" in out[1]
    assert "goes with logic-operator" in out[2]

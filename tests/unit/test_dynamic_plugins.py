"""The merge_dynamic_plugins filter: the user's plugins stay, ours are merged by package."""
import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "filter", "dynamic_plugins.py")
_SPEC = importlib.util.spec_from_file_location("dynamic_plugins", _PATH)
dp = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(dp)


@pytest.mark.parametrize("package, key", [
    ("@redhat/backstage-plugin-orchestrator@1.8.2", "@redhat/backstage-plugin-orchestrator"),
    ("@redhat/backstage-plugin-orchestrator", "@redhat/backstage-plugin-orchestrator"),
    ("plain-plugin@0.1.0", "plain-plugin"),
    ("oci://registry.access.redhat.com/rhdh/orchestrator:{{inherit}}", "oci://registry.access.redhat.com/rhdh/orchestrator"),
    ("oci://quay.io/x/bundle:1.2!backstage-plugin-a", "oci://quay.io/x/bundle!backstage-plugin-a"),
    ("oci://localhost:5000/x/bundle@sha256:abcd!p", "oci://localhost:5000/x/bundle!p"),
    ("./dynamic-plugins/dist/backstage-plugin-notifications", "./dynamic-plugins/dist/backstage-plugin-notifications"),
])
def test_plugin_key_ignores_versions(package, key):
    assert dp.plugin_key(package) == key


def test_merge_keeps_user_plugins_and_updates_ours_in_place():
    user = {"includes": ["dynamic-plugins.default.yaml"], "plugins": [
        {"package": "./dynamic-plugins/dist/backstage-plugin-techdocs", "disabled": False},
        {"package": "@redhat/backstage-plugin-orchestrator@1.7.0", "disabled": True, "pluginConfig": {"a": 1}},
        {"package": "@acme/mine@2.0.0", "disabled": False, "integrity": "sha512-x"},
    ]}
    ours = [{"package": "@redhat/backstage-plugin-orchestrator@1.8.2", "disabled": False},
            {"package": "./dynamic-plugins/dist/backstage-plugin-signals", "disabled": False}]
    merged = dp.merge_dynamic_plugins(user, ours)
    assert merged["includes"] == ["dynamic-plugins.default.yaml"]
    assert [p["package"] for p in merged["plugins"]] == [
        "./dynamic-plugins/dist/backstage-plugin-techdocs", "@redhat/backstage-plugin-orchestrator@1.8.2",
        "@acme/mine@2.0.0", "./dynamic-plugins/dist/backstage-plugin-signals"]
    # fields we do not set stay as the user had them
    assert merged["plugins"][1] == {"package": "@redhat/backstage-plugin-orchestrator@1.8.2", "disabled": False,
                                    "pluginConfig": {"a": 1}}
    assert user["plugins"][1]["package"].endswith("1.7.0"), "the input is not modified"
    # merging again changes nothing
    assert dp.merge_dynamic_plugins(merged, ours) == merged


def test_remove_takes_out_only_ours():
    doc = {"plugins": [{"package": "@acme/mine@2.0.0"}, {"package": "@redhat/backstage-plugin-orchestrator@1.8.2"}]}
    out = dp.merge_dynamic_plugins(doc, [{"package": "@redhat/backstage-plugin-orchestrator@9"}], remove=True)
    assert out == {"plugins": [{"package": "@acme/mine@2.0.0"}]}


def test_empty_document_and_bad_entries():
    assert dp.merge_dynamic_plugins(None, [{"package": "a@1"}]) == {"plugins": [{"package": "a@1"}]}
    with pytest.raises(dp.AnsibleFilterError, match="needs a package"):
        dp.merge_dynamic_plugins({}, [{"disabled": False}])
    with pytest.raises(dp.AnsibleFilterError, match="must be a mapping"):
        dp.merge_dynamic_plugins(["x"], [])

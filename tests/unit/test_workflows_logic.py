"""The workflows role's decisions (plugins/module_utils/workflows.py), without a cluster."""
import importlib.util
import os
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "workflows.py")
_SPEC = importlib.util.spec_from_file_location("workflows", _PATH)
wf = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(wf)

VARS = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "workflows", "vars", "main.yml")
UPSTREAM = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "upstream", "workflows", "greeting")

ALL = ["1.7", "1.8", "1.9", "1.10"]
TABLE = {"greeting": [{"line": "1.6", "rhdh": ALL}, {"line": "1.7", "rhdh": ALL}],
         "old": [{"line": "1.5", "rhdh": ["1.6"]}]}
DEFAULTS = {"namespace": "sonataflow-infra", "timeout": 300, "state": "present", "rhdh_version": "1.10",
            "skip_version_check": False, "table": TABLE}
PG = {"secret_name": "sonataflow-psql-postgresql", "user_key": "postgres-username", "password_key": "postgres-password",
      "service_name": "sonataflow-psql-postgresql", "service_namespace": "sonataflow-infra", "port": "5432",
      "database": "sonataflow"}
GREETING = {"name": "greeting", "chart": "greeting", "repo_url": "https://example.test/charts", "version": "1.6.0-rc1"}


def plan(items, files=None, **defaults):
    return wf.plan(items, dict(DEFAULTS, **defaults), PG, files)


def test_a_helm_entry_gets_its_defaults_and_persistence_in_its_own_schema():
    errors, items, paths = plan([GREETING, dict(GREETING, name="other", namespace="team-a", schema="other_s",
                                                release_name="rel", timeout="60", values={"a": 1})])
    assert errors == [] and paths == []
    first, second = items
    assert (first["namespace"], first["release_name"], first["timeout"], first["chart_name"]) == \
        ("sonataflow-infra", "greeting", 300, "greeting")
    assert first["persistence_spec"] == {"postgresql": {
        "secretRef": {"name": "sonataflow-psql-postgresql", "userKey": "postgres-username",
                      "passwordKey": "postgres-password"},
        "serviceRef": {"name": "sonataflow-psql-postgresql", "namespace": "sonataflow-infra", "port": 5432,
                       "databaseName": "sonataflow", "databaseSchema": "greeting"}}}
    # Elsewhere: the Secret is the workflow's, the Service stays the database's namespace.
    ref = second["persistence_spec"]["postgresql"]["serviceRef"]
    assert (ref["namespace"], ref["databaseSchema"], second["timeout"], second["values"]) == \
        ("sonataflow-infra", "other_s", 60, {"a": 1})


@pytest.mark.parametrize("entry, message", [
    ("greeting", "workflows_list[0]: must be a mapping"),
    ({"chart": "greeting", "version": "1.6.0"}, "workflows_list[0].name: must be a DNS label"),
    (dict(GREETING, name="1st"), "starting with a letter"),
    (dict(GREETING, name="a" * 64), "workflows_list[0].name"),
    (dict(GREETING, namespace="Team_A"), "workflows_list[0].namespace: must be a DNS label (got 'Team_A')"),
    (dict(GREETING, version=""), "workflows_list[0].version: the chart version to install, pinned"),
    ({"name": "greeting", "chart": "greeting"}, "workflows_list[0].version"),
    (dict(GREETING, version="latest"), "workflows_list[0].version"),
    (dict(GREETING, repo_url="example.test"), "workflows_list[0].repo_url: must be an http(s):// or oci:// URL"),
    (dict(GREETING, chart="oci://q.test/x/greeting"), "an oci:// chart takes no repo_url"),
    (dict(GREETING, values=[1]), "workflows_list[0].values: must be a mapping"),
    (dict(GREETING, release_name="r" * 54), "workflows_list[0].release_name: must be a DNS label of at most 53"),
    (dict(GREETING, timeout=0), "workflows_list[0].timeout: must be a positive number of seconds"),
    (dict(GREETING, timeout=True), "workflows_list[0].timeout"),
    (dict(GREETING, schema="bad schema"), "workflows_list[0].schema"),
    (dict(GREETING, persistence="yes"), "workflows_list[0].persistence: must be true or false"),
    (dict(GREETING, chart_version="1"), "workflows_list[0]: unknown key(s) chart_version"),
    ({"name": "greeting"}, "give either chart"),
    (dict(GREETING, manifests=["a.yaml"]), "not both"),
    ({"name": "g", "manifests": ["a.yaml"], "values": {}}, "values belong(s) to a Helm chart"),
    ({"name": "g", "manifests": []}, "workflows_list[0].manifests: must be a non-empty list of file paths"),
])
def test_each_broken_rule_names_the_variable_and_the_entry(entry, message):
    errors, _items, _paths = plan([entry])
    assert any(message in e for e in errors), errors


def test_every_broken_rule_of_every_entry_is_reported_at_once():
    errors, _items, _paths = plan([dict(GREETING, namespace="X", timeout=-1), {"name": "b", "chart": "c"}])
    assert [e.split(":")[0] for e in errors] == [
        "workflows_list[0].namespace", "workflows_list[0].timeout", "workflows_list[1].version"]


def test_duplicates_and_a_bad_default_are_named():
    errors, _items, _paths = plan([GREETING, GREETING], namespace="Bad")
    assert any(e.startswith("workflows_namespace: must be a DNS label") for e in errors)
    errors, _items, _paths = plan([GREETING, dict(GREETING, name="two", release_name="greeting")])
    assert errors == ["workflows_list[1].release_name: Helm release greeting in namespace sonataflow-infra is "
                      "already workflows_list[0]"]
    errors, _items, _paths = plan([GREETING, dict(GREETING, release_name="two")])
    assert "workflow greeting in namespace sonataflow-infra is already workflows_list[0]" in errors[0]
    assert plan("greeting")[0] == ["workflows_list: must be a list of workflows (got str)"]


@pytest.mark.parametrize("version, rhdh, ok", [
    ("1.6.0-rc1", "1.10", True), ("1.6.0", "1.7", True), ("1.7.0-rc3", "1.9", True), ("v1.6.2", "1.8", True),
    ("1.5.0", "1.10", False), ("1.3.0", "1.7", False), ("2.0.0", "1.10", False)])
def test_chart_versions_follow_the_support_table(version, rhdh, ok):
    errors, _items, _paths = plan([dict(GREETING, version=version)], rhdh_version=rhdh)
    if ok:
        assert errors == []
    else:
        assert errors == [
            "workflows_list[0].version: chart greeting {0} of workflow greeting is not supported with RHDH {1} "
            "(supported: 1.6.x, 1.7.x); pick a supported version or set workflows_skip_version_check to install "
            "it anyway".format(version, rhdh)]
    # The switch, an unlisted chart and removal skip the check.
    assert plan([dict(GREETING, version=version)], rhdh_version=rhdh, skip_version_check=True)[0] == []
    assert plan([dict(GREETING, version=version)], rhdh_version=rhdh, state="absent")[0] == []
    assert plan([dict(GREETING, chart="mine", version=version)], rhdh_version=rhdh)[0] == []


def test_a_line_without_the_rhdh_release_says_none_is_supported():
    errors, _items, _paths = plan([dict(GREETING, name="o", chart="old", version="1.5.0")])
    assert "(supported: none)" in errors[0]


@pytest.mark.parametrize("ref, name", [("greeting", "greeting"), ("orchestrator-workflows/greeting", "greeting"),
                                       ("oci://quay.io/orchestrator/charts/greeting", "greeting"),
                                       ("./charts/greeting-1.6.0-rc1.tgz", "greeting"), ("charts/greeting/", "greeting"),
                                       ("oci://q.test/mta-v7:1.6.0", "mta-v7")])
def test_chart_names(ref, name):
    assert wf.chart_name(ref) == name


def test_the_shipped_table_knows_the_upstream_greeting_chart():
    with open(VARS, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    lines = data["__workflows_lines_16_17"]
    assert [row["line"] for row in lines] == ["1.6", "1.7"]
    assert data["__workflows_rhdh_all"] == ALL
    assert set(data["__workflows_chart_support"]) >= {"greeting", "mta-v7", "move2kube"}
    chart = os.path.join(UPSTREAM, "Chart.yaml")
    if os.path.exists(chart):
        with open(chart, encoding="utf-8") as fh:
            version = yaml.safe_load(fh)["version"]
        assert wf.version_supported(version, ["1.6", "1.7"]), version


GREETING_DOC = {"apiVersion": wf.API_VERSION, "kind": "SonataFlow",
                "metadata": {"name": "greeting", "namespace": "elsewhere", "labels": {"app": "greeting"}},
                "spec": {"flow": {"start": "x"}, "persistence": {"migrateDBOnStartUp": True, "postgresql": {
                    "secretRef": {"name": "s"}, "serviceRef": {"name": "db", "databaseSchema": "g"}}}}}
PROPS = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "greeting-props"}, "data": {}}


def test_manifests_are_read_checked_and_put_in_the_entry_namespace():
    entry = {"name": "greeting", "namespace": "team-a", "manifests": ["a.yaml", "b.yaml"]}
    errors, _items, paths = plan([entry])
    assert errors == [] and paths == ["a.yaml", "b.yaml"]
    errors, items, _paths = plan([entry], files={"a.yaml": [PROPS, None], "b.yaml": [GREETING_DOC]})
    assert errors == []
    docs = wf.documents(items[0])
    assert [d["metadata"]["namespace"] for d in docs] == ["team-a", "team-a"]
    flow = docs[1]
    assert flow["spec"]["persistence"]["migrateDBOnStartUp"] is True
    assert flow["spec"]["persistence"]["postgresql"]["serviceRef"] == {
        "name": "sonataflow-psql-postgresql", "namespace": "sonataflow-infra", "port": 5432,
        "databaseName": "sonataflow", "databaseSchema": "greeting"}
    assert GREETING_DOC["metadata"]["namespace"] == "elsewhere"  # the input is not changed
    # persistence: false keeps the document's own block.
    _errors, items, _paths = plan([dict(entry, persistence=False)], files={"a.yaml": [PROPS], "b.yaml": [GREETING_DOC]})
    assert wf.documents(items[0])[1]["spec"]["persistence"] == GREETING_DOC["spec"]["persistence"]


@pytest.mark.parametrize("files, message", [
    ({"a.yaml": "cannot be read"}, "workflows_list[0].manifests: a.yaml: cannot be read"),
    ({"a.yaml": [PROPS]}, "must hold exactly one SonataFlow, named greeting like the item (found: none)"),
    ({"a.yaml": [GREETING_DOC, dict(GREETING_DOC, metadata={"name": "two"})]}, "(found: greeting, two)"),
    ({"a.yaml": [GREETING_DOC, {"kind": "ConfigMap", "metadata": {"name": "x"}}]}, "document 1 (ConfigMap) lacks apiVersion"),
    ({"a.yaml": [GREETING_DOC, ["list"]]}, "document 1 is not a mapping"),
    ({"a.yaml": [GREETING_DOC, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}]},
     "document 1 is a Namespace"),
])
def test_bad_manifests_are_named(files, message):
    errors, _items, _paths = plan([{"name": "greeting", "manifests": ["a.yaml"]}], files=files)
    assert any(message in e for e in errors), errors


def _secret(ns, keys):
    return {"item": ns, "resources": [{"metadata": {"name": "sonataflow-psql-postgresql"},
                                       "data": dict.fromkeys(keys, "eA==")}] if keys is not None else []}


def test_prerequisites_name_the_secret_the_namespace_and_the_variable():
    _errors, items, _paths = plan([GREETING, dict(GREETING, name="b", namespace="team-a"),
                                   dict(GREETING, name="c", namespace="team-b"),
                                   dict(GREETING, name="d", namespace="team-c", persistence=False)])
    secrets = [_secret("sonataflow-infra", ["postgres-username", "postgres-password"]), _secret("team-a", None),
               _secret("team-b", ["postgres-username"])]
    flows = [{"item": i, "api_found": True, "resources": []} for i in items]
    errors = wf.prerequisite_errors(items, secrets, PG, flows, [])
    assert errors == [
        "Secret sonataflow-psql-postgresql does not exist in namespace team-a, where workflow b (workflows_list[1]) "
        "needs it for its database credentials: copy it there (the role rhdh.orchestrator.workflow_namespace does, "
        "for the namespaces in workflow_namespace_namespaces) or set workflows_postgres_secret_name to the Secret "
        "the namespace has",
        "Secret team-b/sonataflow-psql-postgresql lacks the key(s) postgres-password that workflow c reads "
        "(workflows_postgres_user_key, workflows_postgres_password_key)"]


def test_prerequisites_missing_api_missing_helm_and_a_foreign_sonataflow():
    _errors, items, _paths = plan([GREETING])
    secrets = [_secret("sonataflow-infra", ["postgres-username", "postgres-password"])]
    no_api = [{"item": items[0], "api_found": False, "resources": []}]
    assert "the SonataFlow API (sonataflow.org/v1alpha08) is not served" in \
        wf.prerequisite_errors(items, secrets, PG, no_api, [])[0]
    # Looped with failed_when false: not failed, but a message and no status.
    no_helm = [{"item": items[0], "failed": False, "rc": 2, "msg": "Error executing command."}]
    assert wf.prerequisite_errors(items, secrets, PG, [], no_helm, "/opt/helm")[0].startswith(
        "workflows_helm_binary: Helm ('/opt/helm') cannot be run")
    broken = [{"item": items[0], "failed": False, "msg": "Failure when executing Helm command. Exited 1. unreachable"}]
    assert wf.prerequisite_errors(items, secrets, PG, [], broken) == [
        "workflows_list[0]: Helm cannot look up release greeting in namespace sonataflow-infra: Failure when "
        "executing Helm command. Exited 1. unreachable"]
    assert wf.prerequisite_errors(items, secrets, PG, [], [{"item": items[0], "changed": False}]) == []
    foreign = [{"item": items[0], "api_found": True, "resources": [GREETING_DOC]}]
    assert "SonataFlow sonataflow-infra/greeting exists outside Helm release greeting" in \
        wf.prerequisite_errors(items, secrets, PG, foreign, [])[0]
    # Annotated by Helm as the release's own: fine.
    own = dict(GREETING_DOC, metadata=dict(GREETING_DOC["metadata"], annotations={
        wf.RELEASE_NAME: "greeting", wf.RELEASE_NAMESPACE: "sonataflow-infra"}))
    assert wf.prerequisite_errors(items, secrets, PG, [dict(foreign[0], resources=[own])], []) == []


def _live(pg=None, labels=None):
    doc = {"apiVersion": wf.API_VERSION, "kind": "SonataFlow",
           "metadata": {"name": "greeting", "namespace": "team-a", "labels": dict(labels or {"app": "greeting"})},
           "spec": {"flow": {}}}
    if pg is not None:
        doc["spec"]["persistence"] = {"postgresql": pg}
    return doc


def test_patch_sets_persistence_and_the_marker_only_where_needed():
    _errors, items, _paths = plan([dict(GREETING, namespace="team-a")])
    item = items[0]
    chart_pg = {"secretRef": {"name": "sonataflow-psql-postgresql", "userKey": "postgres-username",
                              "passwordKey": "postgres-password"},
                "serviceRef": {"name": "sonataflow-psql-postgresql", "port": 5432, "databaseName": "sonataflow",
                               "databaseSchema": "greeting"}}
    body = wf.patch(_live(chart_pg), item, installed_now=True)
    assert body == {"apiVersion": wf.API_VERSION, "kind": "SonataFlow",
                    "metadata": {"name": "greeting", "namespace": "team-a", "labels": wf.MARKER},
                    "spec": {"persistence": item["persistence_spec"]}}
    right = item["persistence_spec"]["postgresql"]
    marked = dict(wf.MARKER, app="greeting")
    assert wf.patch(_live(right, marked), item, installed_now=False) is None  # rerun: nothing to change
    # Reverted by a Helm upgrade: set again, the label kept.
    assert wf.patch(_live(chart_pg, marked), item, installed_now=False)["metadata"]["labels"] == wf.MARKER
    # A release that existed before the collection: persistence only, never the label.
    body = wf.patch(_live(chart_pg), item, installed_now=False)
    assert "labels" not in body["metadata"] and body["spec"]["persistence"] == item["persistence_spec"]
    assert wf.patch(_live(right), item, installed_now=False) is None
    # persistence: false leaves the chart's block alone.
    _errors, items, _paths = plan([dict(GREETING, namespace="team-a", persistence=False)])
    assert wf.patch(_live(chart_pg, marked), items[0], installed_now=False) is None
    with pytest.raises(wf.WorkflowError, match="jdbcUrl"):
        wf.patch(_live({"secretRef": {"name": "s"}, "jdbcUrl": "jdbc:postgresql://db/x"}), item, installed_now=True)


def test_removal_takes_only_marked_releases_and_reports_the_rest():
    _errors, items, _paths = plan([GREETING, dict(GREETING, name="theirs", timeout=30), dict(GREETING, name="gone"),
                                   {"name": "m", "manifests": ["m.yaml"]}],
                                  files={"m.yaml": [PROPS, dict(GREETING_DOC, metadata={"name": "m"})]})
    flows = [{"item": items[0], "api_found": True, "resources": [_live(labels=wf.MARKER)]},
             {"item": items[1], "api_found": True, "resources": [_live()]},
             {"item": items[2], "api_found": True, "resources": []}]
    out = wf.removal(items, flows)
    assert [i["name"] for i in out["releases"]] == ["greeting"]
    assert out["flows"] == [{"apiVersion": wf.API_VERSION, "kind": "SonataFlow",
                             "metadata": {"name": "greeting", "namespace": "sonataflow-infra"}}]
    assert out["timeout"] == 300
    assert [i["name"] for i in out["manifests"]] == ["m"]
    assert out["kept"] == ["Helm release theirs in namespace sonataflow-infra (workflow theirs) was kept: its "
                           "SonataFlow does not carry orchestrator.rhdh.redhat.com/installed-by=rhdh.orchestrator, "
                           "so the collection did not install it"]
    no_api = wf.removal(items, [dict(flows[0], api_found=False)])
    assert no_api["releases"] == [] and len(no_api["kept"]) == 3
    assert [d["kind"] for d in no_api["manifests"][0]["documents"]] == ["ConfigMap"]


def test_preexisting_releases_are_reported():
    _errors, items, _paths = plan([GREETING, dict(GREETING, name="ours"), dict(GREETING, name="new")])
    flows = [{"item": items[0], "resources": [_live()]}, {"item": items[1], "resources": [_live(labels=wf.MARKER)]},
             {"item": items[2], "resources": []}]
    assert wf.preexisting_messages(flows) == [
        "Helm release greeting in namespace sonataflow-infra (workflow greeting) existed before the collection: it "
        "is upgraded to what the entry says, and removal keeps it"]


def test_knative_workflows_are_told_apart():
    knative_doc = dict(GREETING_DOC, spec={"podTemplate": {"deploymentModel": "knative"}})
    _errors, items, _paths = plan([{"name": "greeting", "manifests": ["k.yaml"]},
                                   {"name": "greeting", "namespace": "b", "manifests": ["p.yaml"]}],
                                  files={"k.yaml": [knative_doc], "p.yaml": [GREETING_DOC]})
    assert wf.knative(items) == ["sonataflow-infra/greeting"]


@pytest.fixture(name="filters")
def fixture_filters(monkeypatch):
    """The filter plugin, its collection import answered by the module loaded above."""
    monkeypatch.setitem(sys.modules, "ansible_collections.rhdh.orchestrator.plugins.module_utils.workflows", wf)
    path = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "filter", "workflows.py")
    spec = importlib.util.spec_from_file_location("workflows_filter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


def test_the_filters_parse_files_and_wrap_the_logic(filters):
    entry = {"name": "greeting", "manifests": ["a.yaml", "bad.yaml", "gone.yaml"], "timeout": 9}
    out = filters["workflows_plan"]([entry], DEFAULTS, PG, {"a.yaml": yaml.safe_dump(GREETING_DOC),
                                                            "bad.yaml": "a: [", "gone.yaml": None})
    assert [e.split(": ", 2)[1] for e in out["errors"]] == ["bad.yaml", "gone.yaml"]
    assert "is not valid YAML" in out["errors"][0] and "cannot be read" in out["errors"][1]
    out = filters["workflows_plan"]([entry], DEFAULTS, PG, {"a.yaml": yaml.safe_dump(GREETING_DOC),
                                                            "bad.yaml": "", "gone.yaml": "---\n"})
    assert out["errors"] == [] and out["waits"] == [{"name": "greeting", "namespace": "sonataflow-infra", "timeout": 9}]
    assert out["knative"] == [] and len(filters["workflow_documents"](out["workflows"])) == 1
    jdbc = _live({"secretRef": {"name": "s"}, "jdbcUrl": "jdbc:postgresql://db/x"})
    with pytest.raises(AnsibleFilterError, match="jdbcUrl"):
        filters["workflow_patch"](jdbc, plan([GREETING])[1][0], True)
    checked = filters["workflows_prerequisites"](plan([GREETING])[1], [], PG, [], [])
    assert set(checked) == {"errors", "preexisting"} and "does not exist in namespace sonataflow-infra" in checked["errors"][0]

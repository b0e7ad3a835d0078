"""What diagnostics keep of each object (plugins/module_utils/diagnostics.py): no Secret value ever, credentials scrubbed."""
import importlib.util
import json
import os
import stat
import tarfile

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "diagnostics.py")
_SPEC = importlib.util.spec_from_file_location("diagnostics_utils", _PATH)
diag = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(diag)

LAST_APPLIED = {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c2VrcmV0"}}', "keep": "me"}


def meta(name, **extra):
    return dict({"name": name, "namespace": "ns", "annotations": dict(LAST_APPLIED),
                 "managedFields": [{"manager": "kubectl"}]}, **extra)


def test_secret_keeps_names_and_keys_only():
    obj = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta("db"),
           "data": {"postgres-password": "c2VrcmV0", "user": "dXNlcg=="}, "stringData": {"extra": "plain"}}
    out = diag.keep(obj, "secret")
    assert out["data"] == {"extra": "<redacted>", "postgres-password": "<redacted>", "user": "<redacted>"}
    assert out["metadata"]["annotations"] == {"keep": "me"} and "managedFields" not in out["metadata"]
    text = diag.dump(out)
    assert "c2VrcmV0" not in text and "dXNlcg" not in text and "plain" not in text
    assert obj["data"]["user"] == "dXNlcg=="  # the input is left as it was


def test_config_map_scrubs_credential_keys_and_lines():
    app_config = ("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options:\n"
                  "          token: ${BACKEND_SECRET}\n          subject: orchestrator\n"
                  "integrations:\n  github:\n    - host: github.com\n      token: ghp_abc123\n"
                  "database:\n  password: \"hunter2\"\n  user: postgres\n")
    obj = {"kind": "ConfigMap", "metadata": meta("cfg"),
           "data": {"app-config.yaml": app_config, "db-password": "hunter2", "application.properties":
                    "quarkus.datasource.password=hunter2\nquarkus.datasource.username=postgres\n",
                    "GITHUB_TOKEN": "ghp_abc123"},
           "binaryData": {"blob": "aGVsbG8="}}
    out = diag.keep(obj, "config")
    text = diag.dump(out)
    assert "hunter2" not in text and "ghp_abc123" not in text and "aGVsbG8" not in text
    assert out["data"]["db-password"] == "<redacted>" and out["data"]["GITHUB_TOKEN"] == "<redacted>"
    assert "token: ${BACKEND_SECRET}\n" in out["data"]["app-config.yaml"]  # a reference, not a value
    assert "      token: <redacted>\n" in out["data"]["app-config.yaml"]
    assert '  password: <redacted>\n  user: postgres\n' in out["data"]["app-config.yaml"]
    assert out["data"]["application.properties"] == (
        "quarkus.datasource.password=<redacted>\nquarkus.datasource.username=postgres\n")
    assert out["binaryData"] == {"blob": "<8 bytes base64>"}


def test_workloads_keep_containers_with_credential_env_values_replaced_and_pods_keep_status():
    container = {"name": "c", "image": "img:1", "command": ["x"], "volumeMounts": [{"name": "v"}],
                 "env": [{"name": "POSTGRESQL_PASSWORD", "value": "hunter2"}, {"name": "PGPORT", "value": "5432"},
                         {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                 "args": ["--token=abc"]}
    template = {"spec": {"containers": [container], "initContainers": [{"name": "i", "image": "init:1"}]}}
    dep = {"kind": "Deployment", "metadata": meta("d"), "spec": {"replicas": 1, "template": template},
           "status": {"readyReplicas": 1}}
    out = diag.keep(dep, "workload")
    env = out["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "POSTGRESQL_PASSWORD", "value": "<redacted>"} and env[1]["value"] == "5432"
    assert env[2]["valueFrom"]["secretKeyRef"] == {"name": "db", "key": "password"}
    assert out["spec"]["template"]["spec"]["containers"][0]["args"] == ["--token=<redacted>"]
    assert "command" not in out["spec"]["template"]["spec"]["containers"][0]
    assert out["status"] == {"readyReplicas": 1} and "hunter2" not in diag.dump(out)
    pod = diag.keep({"kind": "Pod", "metadata": meta("p"), "spec": {"nodeName": "n1", "containers": [container]},
                     "status": {"phase": "Running"}}, "pod")
    assert pod["spec"] == {"nodeName": "n1", "containers": [{"name": "c", "image": "img:1"}]}
    assert "hunter2" not in diag.dump(pod)
    custom = diag.keep({"kind": "Backstage", "metadata": meta("b"), "spec": {"x": "secret"}, "status": {"conditions": []}},
                       "status")
    assert set(custom) == {"apiVersion", "kind", "metadata", "status"}


def test_events_latest_first_limited_and_conditions_summarised():
    events = [{"type": "Normal", "reason": "R{0}".format(i), "lastTimestamp": "2026-01-01T00:00:0{0}Z".format(i),
               "involvedObject": {"kind": "Pod", "name": "p"}, "message": "m{0}\n  wrapped".format(i), "count": 2}
              for i in (3, 1, 2)]
    events.append({"type": "Warning", "reason": "New", "eventTime": "2026-01-01T00:00:05.000001Z",
                   "regarding": {"kind": "Job", "name": "j"}, "note": "password: hunter2"})
    text = diag.events_text(events, limit=3)
    assert text.splitlines() == [
        "2026-01-01T00:00:02Z Normal R2 Pod/p (x2): m2 wrapped",
        "2026-01-01T00:00:03Z Normal R3 Pod/p (x2): m3 wrapped",
        "2026-01-01T00:00:05.000001Z Warning New Job/j (x1): password: <redacted>"]
    assert diag.events_text([]) == ""
    summary = diag.conditions_summary([
        {"kind": "SonataFlowPlatform", "metadata": {"name": "sp", "namespace": "wf"},
         "status": {"conditions": [{"type": "Succeed", "status": "False", "reason": "WaitingForDeployment", "message": "m"}]}},
        {"kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "wf"}, "status": {"phase": "Bound"}},
        {"kind": "Namespace", "metadata": {"name": "quiet"}, "status": {}}])
    assert summary == ("SonataFlowPlatform wf/sp: Succeed=False (WaitingForDeployment: m)\n"
                       "PersistentVolumeClaim wf/data: phase Bound\n")


def test_archive_round_trip(tmp_path):
    dest = str(tmp_path / "diag.tar.gz")
    names = diag.write_archive(dest, {"b/x.json": diag.dump([{"a": 1}]), "status.txt": "ok\n"}, "diag", mtime=0)
    assert names == ["b/x.json", "status.txt"]
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    with tarfile.open(dest) as tar:
        assert tar.getnames() == ["diag/b/x.json", "diag/status.txt"]
        assert json.loads(tar.extractfile("diag/b/x.json").read()) == [{"a": 1}]

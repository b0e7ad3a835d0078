"""Pure pieces of the RHDH operator simulator: what the operator of a given
release computes from its default-config, the Backstage CR and the referenced
ConfigMaps/Secrets. No API calls here; see rhdh.py for the controller and for
which upstream file each rule comes from.
"""
import base64
import copy
import hashlib
import os
import re

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

APP_LABEL = "rhdh.redhat.com/app"
EXT_SYNC_LABEL = "rhdh.redhat.com/ext-config-sync"
NAME_ANNOTATION = "rhdh.redhat.com/backstage-name"
HASH_ANNOTATION = "rhdh.redhat.com/ext-config-hash"
MOUNT_PATH_ANNOTATION = "rhdh.redhat.com/mount-path"
CONTAINERS_ANNOTATION = "rhdh.redhat.com/containers"
PLUGINS_KEY = "dynamic-plugins.yaml"
INIT_CONTAINER = "install-dynamic-plugins"
BACKEND_CONTAINER = "backstage-backend"
DEFAULT_MOUNT_DIR = "/opt/app-root/src"


def rel(release):
    """'1.10' -> (1, 10), for comparisons."""
    return tuple(int(p) for p in release.split("."))


# ---- which release the operator runs -----------------------------------------
_CSV_RE = re.compile(r"^rhdh-operator\.v(\d+)\.(\d+)\.\d+")
_TAG_RE = re.compile(r":v?(\d+)\.(\d+)(?:\.\d+)?(?:-[\w.]+)?$")


def release_of(deployment):
    """The RHDH release (e.g. '1.9') an operator Deployment runs: the owning
    CSV's version, else the manager image's tag; None when neither says."""
    for ref in deployment.get("metadata", {}).get("ownerReferences") or []:
        match = _CSV_RE.match(ref.get("name", "")) if ref.get("kind") == "ClusterServiceVersion" else None
        if match:
            return f"{match.group(1)}.{match.group(2)}"
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    for container in containers:
        match = _TAG_RE.search(container.get("image") or "")
        if match:
            return f"{match.group(1)}.{match.group(2)}"
    return None


def operator_env(deployment):
    """name -> value of the operator container's plain env vars (RELATED_IMAGE_*)."""
    out = {}
    for container in deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []:
        for env in container.get("env") or []:
            if "value" in env:
                out[env["name"]] = env["value"]
    return out


# ---- default-config ------------------------------------------------------------
def load_docs(text):
    return [d for d in yaml.load_all(text, Loader=_LOADER) if d]


def read_docs(path):
    with open(path, encoding="utf-8") as fh:
        return load_docs(fh.read())


def deep_merge(base, patch):
    """A strategic-merge patch as far as the platform files (.k8s) use it:
    maps merge key by key, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in (patch or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_object(config_dir, key, flavour):
    """The first object of default-config/<key>, with <key>.k8s merged over it
    on the kubernetes flavour (the operator's platform patch); None if absent."""
    path = os.path.join(config_dir, key)
    if not os.path.isfile(path):
        return None
    docs = read_docs(path)
    if not docs:
        return None
    obj = docs[0]
    patch = path + ".k8s"
    if flavour != "openshift" and os.path.isfile(patch):
        for doc in read_docs(patch):
            obj = deep_merge(obj, doc)
    return obj


# ---- dynamic plugins merge (operator, pkg/model/dynamic-plugins.go) ----------------
def _parse_plugins(text):
    doc = yaml.load(text, Loader=_LOADER) if text else None
    return doc if isinstance(doc, dict) else {}


def _normalise(plugin):
    """The operator reads entries into a struct of package, integrity, disabled,
    pluginConfig, dependencies and writes them back: other keys are dropped,
    `disabled` is always written, the rest only when non-empty."""
    out = {"package": plugin.get("package", "")}
    if plugin.get("integrity"):
        out["integrity"] = plugin["integrity"]
    out["disabled"] = bool(plugin.get("disabled", False))
    if plugin.get("pluginConfig"):
        out["pluginConfig"] = plugin["pluginConfig"]
    if plugin.get("dependencies"):
        out["dependencies"] = plugin["dependencies"]
    return out


def merge_plugins(release, base_text, user_text):
    """The operator's merge of user_text's plugins over base_text's (both the
    dynamic-plugins.yaml text), as the given release does it (1.8+). Returns the
    merged YAML text."""
    if not base_text:
        return user_text
    if not user_text:
        return base_text
    base, user = _parse_plugins(base_text), _parse_plugins(user_text)
    clears = rel(release) >= (1, 10)
    merged, order = {}, []
    for plugin in base.get("plugins") or []:
        if plugin.get("package", "") not in merged:
            order.append(plugin.get("package", ""))
        merged[plugin.get("package", "")] = dict(plugin)
    for plugin in user.get("plugins") or []:
        pkg = plugin.get("package", "")
        have = merged.get(pkg)
        if have is None:
            merged[pkg] = dict(plugin)
            order.append(pkg)
            continue
        if plugin.get("pluginConfig") is not None:
            have["pluginConfig"] = plugin["pluginConfig"]
        deps = plugin.get("dependencies")
        if deps:
            have["dependencies"] = deps
        elif clears and deps is not None:
            have["dependencies"] = []
        if plugin.get("integrity"):
            have["integrity"] = plugin["integrity"]
        have["disabled"] = bool(plugin.get("disabled", False))
    user_includes = user.get("includes")
    if clears and user_includes is not None and len(user_includes) == 0:
        includes = []
    else:
        includes = list(dict.fromkeys((base.get("includes") or []) + (user_includes or [])))
    out = {}
    if includes:
        out["includes"] = includes
    out["plugins"] = [_normalise(merged[p]) for p in order]
    return yaml.safe_dump(out, sort_keys=False)


def enabled_flavours(config_dir, spec_flavours):
    """1.10: names of the enabled flavours (default-config/flavours/<name>/
    metadata.yaml enabledByDefault, overridden by spec.flavours), sorted.
    Raises ValueError for a flavour spec.flavours names that does not exist."""
    root = os.path.join(config_dir, "flavours")
    found = {}
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            if not os.path.isdir(os.path.join(root, name)):
                continue
            meta_path = os.path.join(root, name, "metadata.yaml")
            meta = (read_docs(meta_path) or [{}])[0] if os.path.isfile(meta_path) else {}
            found[name] = bool(meta.get("enabledByDefault", False))
    if spec_flavours is not None:
        if len(spec_flavours) == 0:
            return []
        for entry in spec_flavours:
            if entry.get("name") not in found:
                raise ValueError(f"flavour '{entry.get('name')}' not found in {root}")
            found[entry["name"]] = bool(entry.get("enabled", True))
    return [n for n, on in found.items() if on]


def default_plugins(release, config_dir, flavours):
    """The operator's own dynamic-plugins.yaml text: default-config's, with each
    enabled flavour's merged over it (1.10)."""
    text = ""
    sources = [os.path.join(config_dir, PLUGINS_KEY)]
    sources += [os.path.join(config_dir, "flavours", f, PLUGINS_KEY) for f in flavours]
    for path in sources:
        if not os.path.isfile(path):
            continue
        docs = read_docs(path)
        data = ((docs[0] if docs else {}).get("data") or {}).get(PLUGINS_KEY, "")
        text = merge_plugins(release, text, data) if text else data
    return text


def effective_plugins(release, default_text, user_text):
    """What install-dynamic-plugins reads: 1.7 mounts the user's ConfigMap as is,
    later releases the merge; without a user ConfigMap, the default."""
    if user_text is None:
        return default_text
    if rel(release) < (1, 8):
        return user_text
    return merge_plugins(release, default_text, user_text)


def dependency_refs(plugins_text):
    """Non-empty refs of the dependencies of every enabled plugin."""
    refs = []
    for plugin in _parse_plugins(plugins_text).get("plugins") or []:
        if plugin.get("disabled"):
            continue
        for dep in plugin.get("dependencies") or []:
            if isinstance(dep, dict) and dep.get("ref"):
                refs.append(dep["ref"])
    return refs


def plugin_dep_files(deps_dir, refs):
    """Files of plugin-deps/ whose name starts with one of refs."""
    if not refs or not os.path.isdir(deps_dir):
        return []
    return [os.path.join(deps_dir, f) for f in sorted(os.listdir(deps_dir))
            if os.path.isfile(os.path.join(deps_dir, f)) and any(f.startswith(r) for r in refs)]


def plugin_dep_objects(files, cr_name, namespace):
    """The objects of files with the placeholders filled, namespace defaulted."""
    out = []
    for path in files:
        if not path.endswith((".yaml", ".yml")):
            continue
        with open(path, encoding="utf-8") as fh:
            text = fh.read().replace("{{backstage-name}}", cr_name).replace("{{backstage-ns}}", namespace)
        for doc in load_docs(text):
            doc.setdefault("metadata", {}).setdefault("namespace", namespace)
            out.append(doc)
    return out


# ---- external config: labels and hash (internal/controller/spec_preprocessor.go) ---
def watched(ref):
    """Whether a file-style ref (appConfig / extraFiles) is hashed and labelled:
    only when mounted file by file (no mountPath, or a key)."""
    return not ref.get("mountPath") or bool(ref.get("key"))


def external_refs(spec):
    """[(kind, name, watched)] of every ConfigMap/Secret the CR references, in
    the order the operator reads (and hashes) them."""
    app = spec.get("application") or {}
    files, envs = app.get("extraFiles") or {}, app.get("extraEnvs") or {}
    out = [("ConfigMap", r["name"], watched(r)) for r in (app.get("appConfig") or {}).get("configMaps") or []]
    out += [("ConfigMap", r["name"], watched(r)) for r in files.get("configMaps") or []]
    out += [("Secret", r["name"], watched(r)) for r in files.get("secrets") or []]
    out += [("ConfigMap", r["name"], True) for r in envs.get("configMaps") or []]
    out += [("Secret", r["name"], True) for r in envs.get("secrets") or []]
    if app.get("dynamicPluginsConfigMapName"):
        out.append(("ConfigMap", app["dynamicPluginsConfigMapName"], True))
    return out


def object_bytes(kind, obj):
    """The bytes one watched object adds to the hash: sorted text keys with
    their values, then sorted binary keys with their bytes."""
    if kind == "ConfigMap":
        text, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    else:
        text, binary = obj.get("stringData") or {}, obj.get("data") or {}
    out = b""
    for key in sorted(text):
        out += (key + text[key]).encode()
    for key in sorted(binary):
        out += key.encode() + base64.b64decode(binary[key])
    return out


def ext_config_hash(kinds_and_objects):
    """sha256 hex over the concatenated bytes of the watched objects."""
    data = b"".join(object_bytes(kind, obj) for kind, obj in kinds_and_objects)
    return hashlib.sha256(data).hexdigest()


def data_keys(kind, obj):
    if kind == "ConfigMap":
        return sorted(obj.get("data") or {}) + sorted(obj.get("binaryData") or {})
    return sorted(obj.get("stringData") or {}) + sorted(obj.get("data") or {})


# ---- the Backstage Deployment (pkg/model/deployment.go and friends) ------------------
def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def containers_named(spec, names):
    """Containers a filter selects: none given -> backstage-backend, '*' -> all."""
    every = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    if not names:
        return [c for c in spec.get("containers") or [] if c["name"] == BACKEND_CONTAINER]
    if names == ["*"]:
        return every
    picked = [c for c in every if c["name"] in names]
    missing = set(names) - {c["name"] for c in picked}
    if missing:
        raise ValueError(f"container {sorted(missing)[0]} not found")
    return picked


def volume_name(name):
    """A ConfigMap/Secret name as an RFC 1123 label (the operator's volume name)."""
    return re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].strip("-")


def mount_files(spec, containers, kind, name, mount_path, file_name, with_subpath, keys, replace=True):
    """Volume for a ConfigMap/Secret plus mounts: file by file (subPath) or the
    whole object at mount_path; a mount at the same path is replaced (1.8+;
    1.7 appends, and the apiserver then rejects the duplicate mountPath)."""
    vol = volume_name(name)
    source = ({"configMap": {"name": name, "defaultMode": 420, "optional": False}} if kind == "ConfigMap"
              else {"secret": {"secretName": name, "defaultMode": 420, "optional": False}})
    spec.setdefault("volumes", []).append({"name": vol, **source})
    if not with_subpath:
        new = [{"name": vol, "mountPath": mount_path}]
    elif keys:
        new = [{"name": vol, "mountPath": os.path.join(mount_path, k), "subPath": k, "readOnly": True}
               for k in keys if not file_name or file_name == k]
    else:
        new = [{"name": vol, "mountPath": os.path.join(mount_path, file_name), "subPath": file_name,
                "readOnly": True}]
    for container in containers:
        paths = {m["mountPath"]: m for m in new}
        mounts, replaced = [], False
        for mount in container.get("volumeMounts") or []:
            if replace and mount["mountPath"] in paths:
                mounts.append(paths[mount["mountPath"]])
                replaced = True
            else:
                mounts.append(mount)
        container["volumeMounts"] = mounts if replaced else mounts + new


def mount_path(backend, ref_path, key, shared):
    """(path, file-by-file) for an appConfig/extraFiles entry."""
    path = shared or backend.get("workingDir") or DEFAULT_MOUNT_DIR
    if ref_path:
        path = ref_path if os.path.isabs(ref_path) else os.path.join(path, ref_path)
        return path, bool(key)
    return path, True


def add_env_from(containers, kind, name):
    ref = {"configMapRef": {"name": name}} if kind == "ConfigMap" else {"secretRef": {"name": name}}
    for container in containers:
        container.setdefault("envFrom", []).append(copy.deepcopy(ref))


def convert_kind(workload, kind):
    """spec.deployment.kind (1.9+): the same pod template as a StatefulSet
    (serviceName left empty, as the operator converts) or a Deployment."""
    if not kind or kind == workload["kind"]:
        return workload
    if kind not in ("Deployment", "StatefulSet"):
        raise ValueError(f"can not convert deployment to kind {kind}: unsupported kind")
    spec = {k: v for k, v in workload["spec"].items() if k in ("replicas", "selector", "template")}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": workload["metadata"], "spec": spec}


# List fields merged element by element (the associative keys of the pod API).
_MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "env": "name",
               "envFrom": None, "volumeMounts": "mountPath", "ports": "containerPort",
               "imagePullSecrets": "name", "tolerations": None}


def merge_patch(base, patch):
    """spec.deployment.patch over the workload, as a strategic merge: maps merge
    key by key, the pod's keyed lists (containers, volumes, env, volumeMounts,
    ports) element by element with new elements appended, other lists and
    scalars replaced; a null value deletes the key."""
    out = copy.deepcopy(base)
    for key, value in (patch or {}).items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_patch(out[key], value)
        elif isinstance(value, list) and _MERGE_KEYS.get(key) and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, _MERGE_KEYS[key])
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_list(base, patch, key):
    out = [copy.deepcopy(e) for e in base]
    for item in patch:
        at = next((i for i, e in enumerate(out) if isinstance(e, dict) and isinstance(item, dict)
                   and e.get(key) == item.get(key)), None)
        if at is None:
            out.append(copy.deepcopy(item))
        else:
            out[at] = merge_patch(out[at], item)
    return out


def deployment_state(dep):
    """(reason, message) of Deployed from a Deployment (internal/controller/backstage_status.go)."""
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    desired = spec.get("replicas", 1)
    if status.get("readyReplicas", 0) == desired:
        return "Deployed", ""
    conds = status.get("conditions") or []
    if not conds:
        return "DeployInProgress", "no conditions reported yet"
    for cond in conds:
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return "DeployFailed", cond.get("message", "")
    return "DeployInProgress", "".join(f" {c.get('type')}={c.get('status')}({c.get('message', '')});" for c in conds)


def statefulset_state(sts):
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    desired = spec.get("replicas", 1)
    if status.get("readyReplicas", 0) == desired and \
            status.get("currentReplicas", 0) == status.get("updatedReplicas", 0):
        return "Deployed", ""
    conds = status.get("conditions") or []
    if not conds:
        return "DeployInProgress", "no conditions reported yet"
    return "DeployInProgress", "".join(f" {c.get('type')}={c.get('status')}({c.get('message', '')});" for c in conds)


def workload_state(obj):
    return statefulset_state(obj) if obj.get("kind") == "StatefulSet" else deployment_state(obj)

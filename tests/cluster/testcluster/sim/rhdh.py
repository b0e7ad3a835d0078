"""The RHDH operator (rhdh.redhat.com Backstage), per release 1.7-1.10.

Release: Deployment `rhdh-operator` (any namespace, Available): owned by a CSV
`rhdh-operator.v1.X.Y` -> 1.X, else the manager image tag `:1.X`. Its data:
`<upstream>/rhdh-operator/1.X/` and `<upstream>/rhdh/1.X/` (testcluster/upstream.py;
ORCHESTRATOR_UPSTREAM_DATA moves it). Without them, or for an unknown release,
the simulator runs in fallback mode (logged once): a built-in minimal
default-config, no default plugins, no plugin-deps, no installer check.

Taken from the upstream data, read at run time (rhdh-operator/<v>/):
- default-config/deployment.yaml (+ .k8s on the kubernetes flavour, merged as
  the platform patch): the Backstage Deployment `backstage-<cr>`, selector and
  pod label rhdh.redhat.com/app=backstage-<cr>, images from the operator's
  RELATED_IMAGE_backstage / RELATED_IMAGE_postgresql env;
- default-config/app-config.yaml, secret-files.yaml: ConfigMap
  `backstage-appconfig-<cr>-<name>` (mounted, `--config`) and Secret
  `backstage-files-<cr>-<name>` (mounted where its annotations say);
- default-config/dynamic-plugins.yaml (1.10: + flavours/<f>/dynamic-plugins.yaml
  of the enabled flavours, metadata.yaml enabledByDefault / spec.flavours):
  ConfigMap `backstage-dynamic-plugins-<cr>`, merged with the user's ConfigMap
  as the release's pkg/model/dynamic-plugins.go does (rhdh_model.merge_plugins;
  1.7 mounts the user's ConfigMap as is), mounted into install-dynamic-plugins;
- default-config/db-*.yaml: Secret `backstage-psql-secret-<cr>` (generated
  once), Service and StatefulSet `backstage-psql-<cr>` unless
  spec.database.enableLocalDb is false;
- default-config/service.yaml (+ .k8s), route.yaml (openshift flavour; host
  spec.application.route.host or backstage-<cr>-<ns>.<Ingress cluster domain>,
  status Admitted);
- plugin-deps/: for every dependency ref of an enabled merged plugin, the files
  whose name starts with it, {{backstage-name}}/{{backstage-ns}} filled,
  namespace defaulted, server-side applied and owned by the CR. An apply that
  fails (e.g. no CRD for the kind) gives Deployed False/DeployFailed
  "failed to apply plugin dependencies ..." and nothing else is applied.
The CR fields honoured: spec.application.{appConfig (configMaps, mountPath,
key), extraFiles (configMaps, secrets; mountPath, key, containers), extraEnvs
(envs, configMaps, secrets; containers), dynamicPluginsConfigMapName,
replicas, route}, spec.database.{enableLocalDb, authSecretName},
spec.deployment.kind (1.9+: Deployment or StatefulSet), spec.deployment.patch
(a strategic merge over the workload: keyed pod lists merged by name /
mountPath / containerPort), spec.flavours (1.10).
Everything is owned by the CR (controller reference).

External config (internal/controller/spec_preprocessor.go): each referenced
ConfigMap/Secret is labelled rhdh.redhat.com/ext-config-sync=true and annotated
rhdh.redhat.com/backstage-name; the watched ones are hashed (sorted keys and
values) into the pod template annotation rhdh.redhat.com/ext-config-hash, so a
data change rolls the pods once through the real Deployment controller. A
missing one gives Deployed False/DeployFailed "failed to preprocess backstage
spec failed to get external config from <name>: ...".

Condition Deployed (internal/controller/backstage_status.go): True/Deployed
when readyReplicas == replicas, else DeployFailed on a ReplicaFailure
condition, else DeployInProgress with the workload's conditions as message.
No observedGeneration, as upstream.

Installer (plugin_installer.py, rhdh/<v>/dynamic-plugins.default.yaml): when
the plugins the init container would read make install-dynamic-plugins stop,
the pod template carries annotation testcluster.rhdh.io/installer-error and
each of its pods, once KWOK has started it, shows what a kubelet shows: init
container install-dynamic-plugins terminated (exitCode 1, reason Error,
message the installer's), then waiting CrashLoopBackOff; Initialized and Ready
False, phase Pending.

Not simulated: strategic-merge directives ($patch, list order options) in
spec.deployment.patch, raw runtime config, monitoring
(ServiceMonitor), extraFiles.pvcs, flavour files other than
dynamic-plugins.yaml, configmap-envs/-files defaults, image pull secrets, the
operator's deletion of objects that left the model (except switching the
Deployment/StatefulSet kind), plugin downloads.
Fault switches (base.py): "never-ready" keeps Deployed False/DeployInProgress,
"deploy-failed" makes it False/DeployFailed, "slow=<s>", "miss-config-change"
keeps the config hash until the CR itself changes (seen with the real operator
built from release-1.9 and release-1.10: a ConfigMap hashed from a stale cache,
no rollout until the next CR event).
"""
import copy
import os
import secrets

from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

from .. import upstream
from . import plugin_installer
from . import rhdh_model as m
from .base import RETRY, Controller, condition, ignore_missing

GROUP = "rhdh.redhat.com"
OPERATOR = "rhdh-operator"
MANAGER = "backstage-controller"
INSTALLER_ERROR = "testcluster.rhdh.io/installer-error"
FALLBACK_IMAGE = "registry.redhat.io/rhdh/rhdh-hub-rhel9:1.9"


def fallback_deployment():
    """The built-in stand-in for default-config/deployment.yaml."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "backstage"},
            "spec": {"selector": {"matchLabels": {}}, "template": {"metadata": {"labels": {}}, "spec": {
                "initContainers": [{"name": m.INIT_CONTAINER, "image": FALLBACK_IMAGE,
                                    "command": ["./install-dynamic-plugins.sh", "/dynamic-plugins-root"],
                                    "workingDir": m.DEFAULT_MOUNT_DIR}],
                "containers": [{"name": m.BACKEND_CONTAINER, "image": FALLBACK_IMAGE,
                                "workingDir": m.DEFAULT_MOUNT_DIR,
                                "ports": [{"name": "backend", "containerPort": 7007}]}]}}}}


class Release:
    """What the simulator knows of one operator release (None dirs: fallback)."""

    def __init__(self, version, operator_env):
        self.version = version or "fallback"
        self.env = operator_env
        self.config = upstream.operator_dir(version) if version else None
        rhdh_dir = upstream.rhdh_dir(version) if version else None
        self.defaults_file = os.path.join(rhdh_dir, "dynamic-plugins.default.yaml") if rhdh_dir else None
        self.fallback = self.config is None

    def default(self, key, flavour):
        return None if self.fallback else m.default_object(os.path.join(self.config, "default-config"), key, flavour)

    def default_plugins_text(self, flavours):
        if self.fallback:
            return ""
        return m.default_plugins(self.version, os.path.join(self.config, "default-config"), flavours)

    def installer_defaults(self):
        if not self.defaults_file or not os.path.isfile(self.defaults_file):
            return ""
        with open(self.defaults_file, encoding="utf-8") as fh:
            return fh.read()


class RHDH(Controller):
    name = "rhdh"

    def __init__(self, api_client, options=None):
        super().__init__(api_client, options)
        self._warned = set()
        self._frozen_hash = {}  # fault miss-config-change: CR uid -> (CR state, hash)

    def reconcile(self):
        version = self._storage_version()
        if version is None:
            return
        backstages = self.list_custom(GROUP, version, "backstages")
        if not backstages:
            return
        release = self._release()
        if release is None:
            return
        for bs in backstages:
            if bs["metadata"].get("deletionTimestamp"):
                continue
            try:
                self._backstage(bs, version, release)
            except (ApiException, DynamicApiError) as exc:
                # e.g. its namespace is terminating; the others still get reconciled.
                self.log("backstage %s/%s: %s", bs["metadata"]["namespace"], bs["metadata"]["name"],
                         str(exc).splitlines()[0])
                self.requeue(RETRY)

    def _storage_version(self):
        try:
            crd = self.apiext.read_custom_resource_definition(f"backstages.{GROUP}")
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return next(v.name for v in crd.spec.versions if v.storage)

    def _release(self):
        """The release of an Available operator Deployment, or None."""
        for dep in self.apps.list_deployment_for_all_namespaces().items:
            if dep.metadata.name != OPERATOR or not (dep.status.available_replicas or 0):
                continue
            body = self.api.sanitize_for_serialization(dep)
            version = m.release_of(body)
            rel = Release(version if version in upstream.RELEASES else None, m.operator_env(body))
            if rel.fallback and version not in self._warned:
                self._warned.add(version)
                self.log("operator release %s: no upstream data under %s; simplified fallback behaviour",
                         version, upstream.data_dir())
            return rel
        return None

    # ---- one Backstage ------------------------------------------------------
    def _backstage(self, bs, version, release):
        meta = bs["metadata"]
        owner = {"apiVersion": f"{GROUP}/{version}", "kind": "Backstage", "name": meta["name"], "uid": meta["uid"],
                 "controller": True, "blockOwnerDeletion": True}
        if self.fault(bs)[0] == "deploy-failed":
            self._status(bs, version, ("False", "DeployFailed",
                                       "failed to apply backstage objects (simulated fault deploy-failed)"))
            return
        try:
            external = self._external(bs)
        except LookupError as exc:
            self._status(bs, version, ("False", "DeployFailed", f"failed to preprocess backstage spec {exc}"))
            return
        try:
            objects, plugins_text = self._model(bs, release, external, owner)
        except ValueError as exc:
            self._status(bs, version, ("False", "DeployFailed", f"failed to initialize backstage model {exc}"))
            return
        error = self._apply_plugin_deps(bs, release, plugins_text, owner)
        if error:
            self._status(bs, version, ("False", "DeployFailed", f"failed to apply plugin dependencies {error}"))
            return
        for obj in objects:
            try:
                self._apply_object(obj)
            except DynamicApiError as exc:
                self._status(bs, version, ("False", "DeployFailed",
                                           f"failed to apply backstage objects {exc.summary()}"))
                return
        workload = objects[0]
        self._drop_other_kind(workload, meta["uid"])
        if self.options.get("flavour") == "openshift":
            self._admit_route(meta["namespace"], meta["name"])
        phantom = self._show_installer_failure(workload)
        self._status(bs, version, self._deployed(bs, workload, phantom))

    def _external(self, bs):
        """[(kind, object, watched)] of the referenced ConfigMaps/Secrets,
        labelled as the operator labels them. LookupError names a missing one."""
        meta = bs["metadata"]
        out = []
        for kind, name, watched in m.external_refs(bs.get("spec") or {}):
            read = self.core.read_namespaced_config_map if kind == "ConfigMap" else self.core.read_namespaced_secret
            obj = ignore_missing(read, name, meta["namespace"])
            if obj is None:
                plural = "configmaps" if kind == "ConfigMap" else "secrets"
                raise LookupError(f"failed to get external config from {name}: {plural} \"{name}\" not found")
            body = self.api.sanitize_for_serialization(obj)
            if watched:
                self._label(kind, body, meta["name"])
            out.append((kind, body, watched))
        return out

    def _label(self, kind, body, cr_name):
        labels = body["metadata"].get("labels") or {}
        notes = body["metadata"].get("annotations") or {}
        if labels.get(m.EXT_SYNC_LABEL) == "true" and notes.get(m.NAME_ANNOTATION):
            return
        patch = {"metadata": {"labels": {m.EXT_SYNC_LABEL: "true"}, "annotations": {m.NAME_ANNOTATION: cr_name}}}
        fn = self.core.patch_namespaced_config_map if kind == "ConfigMap" else self.core.patch_namespaced_secret
        ignore_missing(fn, body["metadata"]["name"], body["metadata"]["namespace"], patch)

    def _config_hash(self, bs, fresh):
        """The hash for the pod template. With the fault miss-config-change the
        hash stays what it was until the CR itself changes, as the real
        operator does when it hashes a ConfigMap from a cache that has not seen
        the new data yet (it looks again only on the next CR event)."""
        if self.fault(dict(bs, kind="Backstage"))[0] != "miss-config-change":
            return fresh
        meta = bs["metadata"]
        state = (meta.get("generation"), tuple(sorted((meta.get("annotations") or {}).items())))
        have = self._frozen_hash.get(meta["uid"])
        if have and have[0] == state:
            return have[1]
        self._frozen_hash[meta["uid"]] = (state, fresh)
        return fresh

    # ---- the model ----------------------------------------------------------
    def _model(self, bs, release, external, owner):
        """(objects to apply, the workload first; the dynamic plugins text the
        init container reads)."""
        meta, spec = bs["metadata"], bs.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        app = spec.get("application") or {}
        flavour = self.options.get("flavour")
        flavours = []
        if not release.fallback and m.rel(release.version) >= (1, 10):
            flavours = m.enabled_flavours(os.path.join(release.config, "default-config"), spec.get("flavours"))
        by_name = {(k, o["metadata"]["name"]): o for k, o, _w in external}
        workload = release.default("deployment.yaml", flavour) or fallback_deployment()
        workload = copy.deepcopy(workload)
        labels = {m.APP_LABEL: f"backstage-{name}"}
        workload["metadata"] = {"name": f"backstage-{name}", "namespace": ns, "ownerReferences": [owner]}
        workload["spec"]["selector"] = {"matchLabels": dict(labels)}
        tmeta = workload["spec"]["template"].setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
        tmeta["annotations"] = {**(tmeta.get("annotations") or {}), m.HASH_ANNOTATION: self._config_hash(
            bs, m.ext_config_hash([(k, o) for k, o, w in external if w]))}
        image = release.env.get("RELATED_IMAGE_backstage")
        pod = m.pod_spec(workload)
        if image:
            for c in m.containers_named(pod, [m.BACKEND_CONTAINER, m.INIT_CONTAINER]):
                c["image"] = image
        if m.rel(release.version if not release.fallback else "1.9") >= (1, 9):
            workload = m.convert_kind(workload, (spec.get("deployment") or {}).get("kind"))
            pod = m.pod_spec(workload)
        patch = (spec.get("deployment") or {}).get("patch")
        if patch:
            workload = m.merge_patch(workload, patch)
            pod = m.pod_spec(workload)
        if app.get("replicas") is not None:
            workload["spec"]["replicas"] = app["replicas"]
        for env in (app.get("extraEnvs") or {}).get("envs") or []:
            for c in m.containers_named(pod, env.get("containers")):
                c["env"] = [e for e in c.get("env") or [] if e["name"] != env["name"]] + [
                    {"name": env["name"], "value": env.get("value", "")}]
        objects = [workload]
        backend = m.containers_named(pod, [])[0]
        replace = release.fallback or m.rel(release.version) >= (1, 8)
        objects += self._default_files(release, pod, backend, name, ns, owner, flavour, replace)
        # The operator's dynamic plugins ConfigMap (and the user's, merged or not).
        default_text = release.default_plugins_text(flavours)
        user_name = app.get("dynamicPluginsConfigMapName")
        user_text = (by_name[("ConfigMap", user_name)].get("data") or {}).get(m.PLUGINS_KEY) if user_name else None
        if user_name and not user_text:
            raise ValueError(f"dynamic plugin configMap expects '{m.PLUGINS_KEY}' Data key")
        plugins_text = m.effective_plugins(release.version if not release.fallback else "1.7",
                                           default_text, user_text)
        init = m.containers_named(pod, [m.INIT_CONTAINER])
        init_dir = init[0].get("workingDir") or m.DEFAULT_MOUNT_DIR
        own_cm = f"backstage-dynamic-plugins-{name}"
        if default_text:
            own_data = plugins_text if user_text is not None and not release.fallback \
                and m.rel(release.version) >= (1, 8) else default_text
            objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": own_cm, "namespace": ns, "ownerReferences": [owner]},
                            "data": {m.PLUGINS_KEY: own_data}})
        mounted = own_cm if default_text and (user_text is None or m.rel(release.version) >= (1, 8)) else user_name
        if mounted:
            m.mount_files(pod, init, "ConfigMap", mounted, init_dir, m.PLUGINS_KEY, True, [m.PLUGINS_KEY], replace)
        self._user_files(app, pod, backend, by_name, replace)
        local_db = (spec.get("database") or {}).get("enableLocalDb", True) is not False
        db_secret = (spec.get("database") or {}).get("authSecretName") or (
            f"backstage-psql-secret-{name}" if local_db else None)
        if db_secret:
            m.add_env_from([backend], "Secret", db_secret)
        if local_db:
            objects += self._database(release, name, ns, owner, flavour)
        objects.append(self._service(release, name, ns, owner, flavour))
        route = app.get("route") or {}
        if flavour == "openshift" and route.get("enabled", True) is not False:
            objects.append(self._route(release, name, ns, route, owner))
        problem = None if release.fallback else plugin_installer.check(
            release.version, plugins_text, release.installer_defaults())
        if problem:
            tmeta = workload["spec"]["template"]["metadata"]
            tmeta["annotations"][INSTALLER_ERROR] = problem
        return objects, plugins_text

    @staticmethod
    def _default_files(release, pod, backend, name, ns, owner, flavour, replace):  # pylint: disable=too-many-arguments
        """default-config app-config.yaml and secret-files.yaml, mounted."""
        out = []
        appconfig = release.default("app-config.yaml", flavour)
        if appconfig:
            cm_name = f"backstage-appconfig-{name}-{appconfig['metadata']['name']}"
            path = backend.get("workingDir") or m.DEFAULT_MOUNT_DIR
            keys = sorted(appconfig.get("data") or {})
            m.mount_files(pod, [backend], "ConfigMap", cm_name, path, "", True, keys, replace)
            for key in keys:
                backend.setdefault("args", []).extend(["--config", os.path.join(path, key)])
            out.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": cm_name, "namespace": ns, "ownerReferences": [owner]},
                        "data": appconfig.get("data") or {}})
        files = release.default("secret-files.yaml", flavour)
        if files:
            notes = files["metadata"].get("annotations") or {}
            sec_name = f"backstage-files-{name}-{files['metadata']['name']}"
            names = [n.strip() for n in notes.get(m.CONTAINERS_ANNOTATION, "").split(",") if n.strip()]
            path = notes.get(m.MOUNT_PATH_ANNOTATION) or backend.get("workingDir") or m.DEFAULT_MOUNT_DIR
            m.mount_files(pod, m.containers_named(pod, names), "Secret", sec_name, path, "", False, [], replace)
            out.append({"apiVersion": "v1", "kind": "Secret", "type": files.get("type", "Opaque"),
                        "metadata": {"name": sec_name, "namespace": ns, "ownerReferences": [owner]},
                        "stringData": files.get("stringData") or {}})
        return out

    @staticmethod
    def _user_files(app, pod, backend, by_name, replace):
        """appConfig, extraFiles and extraEnvs of the CR, as the operator mounts them."""
        appconfig = app.get("appConfig") or {}
        for ref in appconfig.get("configMaps") or []:
            path, by_file = m.mount_path(backend, ref.get("mountPath"), ref.get("key"), appconfig.get("mountPath"))
            keys = m.data_keys("ConfigMap", by_name[("ConfigMap", ref["name"])])
            m.mount_files(pod, [backend], "ConfigMap", ref["name"], path, ref.get("key") or "", by_file, keys,
                          replace)
            for key in keys:
                if not ref.get("key") or ref["key"] == key:
                    backend.setdefault("args", []).extend(["--config", os.path.join(path, key)])
        files = app.get("extraFiles") or {}
        for kind, refs in (("ConfigMap", files.get("configMaps")), ("Secret", files.get("secrets"))):
            for ref in refs or []:
                if kind == "Secret" and not ref.get("mountPath") and not ref.get("key"):
                    raise ValueError(f"key or mountPath has to be specified for secret {ref['name']}")
                path, by_file = m.mount_path(backend, ref.get("mountPath"), ref.get("key"), files.get("mountPath"))
                keys = m.data_keys(kind, by_name[(kind, ref["name"])])
                m.mount_files(pod, m.containers_named(pod, ref.get("containers")), kind, ref["name"], path,
                              ref.get("key") or "", by_file, keys, replace)
        envs = app.get("extraEnvs") or {}
        for kind, refs in (("ConfigMap", envs.get("configMaps")), ("Secret", envs.get("secrets"))):
            for ref in refs or []:
                targets = m.containers_named(pod, ref.get("containers"))
                if ref.get("key"):
                    src = "configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"
                    for c in targets:
                        c.setdefault("env", []).append({"name": ref["key"], "valueFrom": {
                            src: {"name": ref["name"], "key": ref["key"]}}})
                else:
                    m.add_env_from(targets, kind, ref["name"])

    def _database(self, release, name, ns, owner, flavour):
        secret_name, db_name = f"backstage-psql-secret-{name}", f"backstage-psql-{name}"
        out = []
        if ignore_missing(self.core.read_namespaced_secret, secret_name, ns) is None:
            password = secrets.token_urlsafe(18)
            out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": secret_name, "namespace": ns, "ownerReferences": [owner]},
                        "stringData": {"POSTGRES_PASSWORD": password, "POSTGRESQL_ADMIN_PASSWORD": password,
                                       "POSTGRES_USER": "postgres", "POSTGRES_HOST": db_name,
                                       "POSTGRES_PORT": "5432"}})
        labels = {m.APP_LABEL: db_name}
        service = release.default("db-service.yaml", flavour) or {
            "apiVersion": "v1", "kind": "Service", "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}}
        service = copy.deepcopy(service)
        service["metadata"] = {"name": db_name, "namespace": ns, "ownerReferences": [owner]}
        service["spec"]["selector"] = labels
        sts = release.default("db-statefulset.yaml", flavour) or {
            "apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"template": {"spec": {"containers": [
                {"name": "postgresql", "image": "registry.redhat.io/rhel9/postgresql-15:latest",
                 "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pgsql/data"}]}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                    "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
        sts = copy.deepcopy(sts)
        sts["metadata"] = {"name": db_name, "namespace": ns, "ownerReferences": [owner]}
        sts["spec"]["selector"] = {"matchLabels": dict(labels)}
        sts["spec"]["serviceName"] = db_name
        tmeta = sts["spec"]["template"].setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
        image = release.env.get("RELATED_IMAGE_postgresql")
        for c in sts["spec"]["template"]["spec"]["containers"]:
            c["envFrom"] = [{"secretRef": {"name": secret_name}}]
            if image:
                c["image"] = image
        return out + [service, sts]

    @staticmethod
    def _service(release, name, ns, owner, flavour):
        svc = copy.deepcopy(release.default("service.yaml", flavour) or {
            "apiVersion": "v1", "kind": "Service",
            "spec": {"ports": [{"name": "http-backend", "port": 80, "targetPort": "backend"}]}})
        svc["metadata"] = {"name": f"backstage-{name}", "namespace": ns, "ownerReferences": [owner]}
        svc["spec"]["selector"] = {m.APP_LABEL: f"backstage-{name}"}
        return svc

    def _route(self, release, name, ns, route, owner):
        host = route.get("host")
        if not host:
            ingress = ignore_missing(self.custom.get_cluster_custom_object, "config.openshift.io", "v1",
                                     "ingresses", "cluster") or {}
            domain = (ingress.get("spec") or {}).get("domain") or "apps.example.test"
            host = f"backstage-{name}-{ns}.{domain}"
        body = copy.deepcopy(release.default("route.yaml", "openshift") or {
            "apiVersion": "route.openshift.io/v1", "kind": "Route",
            "spec": {"port": {"targetPort": "http-backend"},
                     "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}}})
        body["metadata"] = {"name": f"backstage-{name}", "namespace": ns, "ownerReferences": [owner]}
        body["spec"]["host"] = host
        body["spec"]["to"] = {"kind": "Service", "name": f"backstage-{name}"}
        return body

    # ---- applying -------------------------------------------------------------
    def _apply_object(self, obj):
        self.apply(obj, MANAGER)

    def _apply_plugin_deps(self, bs, release, plugins_text, owner):
        """Apply the plugin-deps objects; the combined error text, or None."""
        if release.fallback:
            return None
        files = m.plugin_dep_files(os.path.join(release.config, "plugin-deps"), m.dependency_refs(plugins_text))
        errors = []
        for obj in m.plugin_dep_objects(files, bs["metadata"]["name"], bs["metadata"]["namespace"]):
            obj["metadata"]["ownerReferences"] = [owner]
            try:
                self.apply(obj, MANAGER)
            except ResourceNotFoundError:
                errors.append(f"no matches for kind \"{obj['kind']}\" in version \"{obj['apiVersion']}\"")
            except DynamicApiError as exc:
                errors.append(f"{obj['kind']} {obj['metadata']['name']}: {exc.summary()}")
        return "\n".join(errors) if errors else None

    def _drop_other_kind(self, workload, uid):
        """Switching spec.deployment.kind: the operator deletes the old workload."""
        ns, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
        if workload["kind"] == "Deployment":
            read, delete = self.apps.read_namespaced_stateful_set, self.apps.delete_namespaced_stateful_set
        else:
            read, delete = self.apps.read_namespaced_deployment, self.apps.delete_namespaced_deployment
        old = ignore_missing(read, name, ns)
        if old is not None and any(r.uid == uid for r in old.metadata.owner_references or []):
            ignore_missing(delete, name, ns)

    def _admit_route(self, ns, name):
        route = ignore_missing(self.custom.get_namespaced_custom_object, "route.openshift.io", "v1", ns,
                               "routes", f"backstage-{name}")
        if route is None or (route.get("status") or {}).get("ingress"):
            return
        admitted = {"host": route["spec"].get("host"), "routerName": "default",
                    "conditions": [{"type": "Admitted", "status": "True"}]}
        ignore_missing(self.custom.patch_namespaced_custom_object_status, "route.openshift.io", "v1", ns,
                       "routes", f"backstage-{name}", {"status": {"ingress": [admitted]}})

    # ---- pods and status --------------------------------------------------------
    def _show_installer_failure(self, workload):
        """Pods of a template that carries the installer error show it, as a kubelet
        would. Returns how many of them KWOK had reported Ready (the workload's
        status still counts those until its controller catches up)."""
        problem = workload["spec"]["template"]["metadata"]["annotations"].get(INSTALLER_ERROR)
        if not problem:
            return 0
        phantom = 0
        ns = workload["metadata"]["namespace"]
        selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
        for pod in self.core.list_namespaced_pod(ns, label_selector=selector).items:
            if (pod.metadata.annotations or {}).get(INSTALLER_ERROR) != problem or not pod.status.pod_ip:
                continue
            status = crashloop_status(self.api.sanitize_for_serialization(pod), problem)
            if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
                phantom += 1
            if status is not None:
                ignore_missing(self.core.patch_namespaced_pod_status, pod.metadata.name, ns, {"status": status})
        return phantom

    def _deployed(self, bs, workload, phantom=0):
        want = self.wanted(
            bs, never=("False", "DeployInProgress", "Deployment status: waiting (simulated fault never-ready)"),
            slow=("False", "DeployInProgress", "Deployment status: starting (simulated fault slow)"))
        if want[0] != "True":
            return want
        ns, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
        read = self.apps.read_namespaced_stateful_set if workload["kind"] == "StatefulSet" \
            else self.apps.read_namespaced_deployment
        live = ignore_missing(read, name, ns)
        if live is None:
            kind = "statefulsets" if workload["kind"] == "StatefulSet" else "deployments"
            return ("False", "DeployFailed", f"{kind}.apps \"{name}\" not found")
        body = self.api.sanitize_for_serialization(live)
        if phantom and body.get("status"):
            body["status"]["readyReplicas"] = max(0, body["status"].get("readyReplicas", 0) - phantom)
        reason, message = m.workload_state(body)
        return ("True" if reason == "Deployed" else "False", reason, message)

    def _status(self, bs, version, want):
        conds = (bs.get("status") or {}).get("conditions") or []
        have = next((c for c in conds if c.get("type") == "Deployed"), {})
        if (have.get("status"), have.get("reason", ""), have.get("message", "")) == tuple(want):
            return
        self.log("backstage %s/%s: Deployed %s %s", bs["metadata"]["namespace"], bs["metadata"]["name"], *want[:2])
        cond = condition("Deployed", *want)
        if have.get("status") == want[0]:
            cond["lastTransitionTime"] = have.get("lastTransitionTime", cond["lastTransitionTime"])
        others = [c for c in conds if c.get("type") != "Deployed"]
        self.patch_status(GROUP, version, "backstages", bs, {"conditions": others + [cond]})


def crashloop_status(pod, message):
    """The status patch that shows install-dynamic-plugins failing with message,
    in two steps (terminated, then waiting CrashLoopBackOff); None when shown."""
    statuses = (pod.get("status") or {}).get("initContainerStatuses") or []
    mine = next((s for s in statuses if s.get("name") == m.INIT_CONTAINER), {})
    state = mine.get("state") or {}
    terminated = {"exitCode": 1, "reason": "Error", "message": message,
                  "startedAt": (pod.get("status") or {}).get("startTime"),
                  "finishedAt": (pod.get("status") or {}).get("startTime")}
    if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
        return None
    spec = pod["spec"]
    if (state.get("terminated") or {}).get("message") == message:
        init_state = {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": f"back-off 10s restarting failed container={m.INIT_CONTAINER} "
                                             f"pod={pod['metadata']['name']}_{pod['metadata']['namespace']}"
                                             f"({pod['metadata']['uid']})"}}
        last, restarts = {"terminated": state["terminated"]}, 1
    else:
        init_state, last, restarts = {"terminated": terminated}, {}, 0
    init_statuses = []
    for c in spec.get("initContainers") or []:
        entry = {"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                 "restartCount": 0, "started": False, "lastState": {}, "state": {"waiting": {
                     "reason": "PodInitializing"}}}
        if c["name"] == m.INIT_CONTAINER:
            entry.update(state=init_state, lastState=last, restartCount=restarts)
        init_statuses.append(entry)
    container_statuses = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                           "restartCount": 0, "started": False, "lastState": {},
                           "state": {"waiting": {"reason": "PodInitializing"}}}
                          for c in spec.get("containers") or []]
    unready = ", ".join(c["name"] for c in spec.get("containers") or [])
    conds = [{"type": "PodScheduled", "status": "True"},
             {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized",
              "message": f"containers with incomplete status: [{m.INIT_CONTAINER}]"},
             {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
              "message": f"containers with unready status: [{unready}]"},
             {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady",
              "message": f"containers with unready status: [{unready}]"}]
    return {"phase": "Pending", "conditions": conds, "initContainerStatuses": init_statuses,
            "containerStatuses": container_statuses}

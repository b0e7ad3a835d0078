"""What RHDH's install-dynamic-plugins does with the plugin list before it
downloads anything, per release: resolve includes, key and merge the entries,
then merge every enabled plugin's pluginConfig. check() returns the message the
real installer would stop with, or None. Written from the behaviour of
redhat-developer/rhdh docker/install-dynamic-plugins.py (1.7.4, 1.8.7, 1.9.8;
scripts/install-dynamic-plugins/ on release-1.10); nothing is downloaded.
"""
import re

import yaml

from .rhdh_model import rel

DEFAULT_INCLUDE = "dynamic-plugins.default.yaml"
ORCHESTRATOR_FRONTEND = "red-hat-developer-hub.backstage-plugin-orchestrator"
# 1.10's community catalog index names the images under another registry path
# than the product index the operator's flavour refers to (orchestrator-facts 0).
COMMUNITY_PREFIX = "oci://ghcr.io/redhat-developer/rhdh-plugin-export-overlays/"
PRODUCT_PREFIX = "oci://registry.access.redhat.com/rhdh/"
_OCI_RE = re.compile(r"^(oci://[^\s/:@]+(?::\d+)?(?:/[^\s:@]+)+)"
                     r"(?::([^\s!@:]+)|@((?:sha256|sha512|blake3):[^\s!@:]+))(?:!(\S+))?$")
_NPM_RE = re.compile(r"^(@[^/]+/)?([^@]+)(?:@(.+))?$")


class InstallError(Exception):
    """The installer's InstallException: the message it prints before exiting 1."""


def npm_key(package, release):
    """The key of an npm/local entry: 1.9+ strip the version of registry
    packages; local ./ paths, tarballs and earlier releases keep the string."""
    if rel(release) < (1, 9) or package.startswith("./") or package.endswith(".tgz"):
        return package
    if re.match(r"^(git\+|git://|https://github\.com/|git@github\.com:|github:)", package):
        return package.split("#")[0]
    match = _NPM_RE.match(package)
    return f"{match.group(1) or ''}{match.group(2)}" if match else package


def oci_parts(package, where):
    """(image, version, path) of an oci:// package; version may be {{inherit}}."""
    match = _OCI_RE.match(package)
    if not match:
        raise InstallError(f"oci package '{package}' is not in the expected format "
                           f"'oci://<registry>:<tag>' or 'oci://<registry>@<algo>:<digest>' in {where}")
    return match.group(1), match.group(2) or match.group(3), match.group(4)


def _key(image, path):
    return f"{image}:!{path}" if path else image


def merge_entry(plugin, all_plugins, where, level, release):
    """Add plugin to all_plugins (key -> entry) or override the keys it gives."""
    package = plugin.get("package")
    if not isinstance(package, str):
        raise InstallError(f"content of the 'plugins.package' field must be a string in {where}")
    plugin = dict(plugin)
    modern = rel(release) >= (1, 9)
    if not package.startswith("oci://") or not modern:
        key = npm_key(package, release) if not package.startswith("oci://") else package
        inherit = False
    else:
        image, version, path = oci_parts(package, where)
        inherit = version == "{{inherit}}"
        key = _key(image, path)
        if inherit and not path:
            matches = [k for k in all_plugins if k == image or k.startswith(f"{image}:!")]
            if not matches:
                raise InstallError(f"Cannot use {{{{inherit}}}} for {image}: no existing plugin configuration "
                                   "found. Ensure a plugin from this image is defined in an included file with "
                                   "an explicit version.")
            if len(matches) > 1:
                raise InstallError(f"Cannot use {{{{inherit}}}} for {image}: multiple plugins from this image "
                                   "are defined in the included files")
            key = matches[0]
    if key not in all_plugins:
        if inherit:
            raise InstallError(f"ERROR: {{{{inherit}}}} tag is set and there is currently no resolved tag or "
                               f"digest for {package} in {where}.")
        plugin["_level"] = level
        all_plugins[key] = plugin
        return
    have = all_plugins[key]
    if modern and have.get("_level") == level:
        raise InstallError(f"Duplicate plugin configuration for {package} found in {where}.")
    have["_level"] = level
    for name, value in plugin.items():
        if name == "package" and inherit:
            continue
        have[name] = value


def merge_config(source, destination, prefix=""):
    """The installer's merge of one plugin's pluginConfig into the global one."""
    for key, value in source.items():
        if isinstance(value, dict):
            merge_config(value, destination.setdefault(key, {}), key + ".")
        else:
            if key in destination and destination[key] != value:
                raise InstallError(f"Config key '{prefix + key}' defined differently for 2 dynamic plugins")
            destination[key] = value
    return destination


def frontend_module_problem(plugin):
    """The orchestrator frontend exposes only the scalprum module PluginRoot."""
    frontend = ((plugin.get("pluginConfig") or {}).get("dynamicPlugins") or {}).get("frontend") or {}
    entry = frontend.get(ORCHESTRATOR_FRONTEND)
    if not isinstance(entry, dict):
        return None
    for section in ("dynamicRoutes", "mountPoints", "appIcons", "entityTabs"):
        for item in entry.get(section) or []:
            module = item.get("module") if isinstance(item, dict) else None
            if module and module != "PluginRoot":
                return (f"{ORCHESTRATOR_FRONTEND}: {section} uses scalprum module '{module}', but the plugin "
                        "exposes only 'PluginRoot'")
    return None


def resolve(release, plugins_text, default_text):
    """key -> merged entry, as the installer builds it before installing."""
    content = yaml.safe_load(plugins_text) if plugins_text else None
    if not content:
        return {}
    if not isinstance(content, dict):
        raise InstallError("dynamic-plugins.yaml content must be a YAML object")
    all_plugins = {}
    for include in content.get("includes") or []:
        if include != DEFAULT_INCLUDE or not default_text:
            continue  # any other include does not exist in the image: skipped with a warning
        included = yaml.safe_load(default_text.replace(COMMUNITY_PREFIX, PRODUCT_PREFIX)) or {}
        for plugin in included.get("plugins") or []:
            merge_entry(plugin, all_plugins, include, 0, release)
    plugins = content.get("plugins") or []
    if not isinstance(plugins, list):
        raise InstallError("content of the 'plugins' field must be a list in dynamic-plugins.yaml")
    for plugin in plugins:
        merge_entry(plugin, all_plugins, "dynamic-plugins.yaml", 1, release)
    return all_plugins


def check(release, plugins_text, default_text):
    """None when the installer would get through, else its error message."""
    try:
        all_plugins = resolve(release, plugins_text, default_text)
        config = {"dynamicPlugins": {"rootDirectory": "dynamic-plugins-root"}}
        for plugin in all_plugins.values():
            if plugin.get("disabled"):
                continue
            problem = frontend_module_problem(plugin)
            if problem:
                raise InstallError(problem)
            if isinstance(plugin.get("pluginConfig"), dict):
                merge_config(plugin["pluginConfig"], config)
    except InstallError as exc:
        return str(exc)
    except yaml.YAMLError as exc:
        return f"dynamic-plugins.yaml is not valid YAML: {exc}"
    return None

"""The collection as users get it: the galaxy tarball, its metadata and its execution environment.

One build and one install (session fixture collection_install, tests/conftest.py) serve every check that needs them:
what the tarball holds and leaves out, that the installed collection loads
(site playbook syntax, ansible-doc of every plugin, version_added against
galaxy.yml), and that `ansible-builder introspect` finds the EE dependencies
in it. The rest reads the repository: one licence everywhere,
requires_ansible without an end-of-life ansible-core, every module in
action_groups, and `ansible-builder create` for execution-environment.yml.
"""
import ast
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
LICENSE = "GPL-3.0-or-later"
GPL_HEADER = "GNU General Public License v3.0+"
# End of life of each ansible-core release (first day of the month the
# ansible-core release and maintenance matrix gives); older ones are long gone.
CORE_EOL = {
    "2.14": datetime.date(2024, 11, 1), "2.15": datetime.date(2025, 5, 1), "2.16": datetime.date(2025, 11, 1),
    "2.17": datetime.date(2026, 5, 1), "2.18": datetime.date(2026, 11, 1), "2.19": datetime.date(2027, 5, 1),
    "2.20": datetime.date(2027, 11, 1), "2.21": datetime.date(2028, 5, 1),
}
# plugins/<dir> -> ansible-doc type; names of filter and test plugins come from the file's mapping.
DOC_TYPES = {"modules": "module", "filter": "filter", "test": "test", "lookup": "lookup", "inventory": "inventory",
             "callback": "callback", "connection": "connection", "action": None, "module_utils": None, "doc_fragments": None}
MAPPING_METHOD = {"filter": "filters", "test": "tests"}
MUST_SHIP = ["LICENSE", "README.md", "meta/runtime.yml", "meta/execution-environment.yml", "playbooks/site.yml",
             "roles/", "plugins/modules/", "plugins/filter/"]
MUST_NOT_SHIP = ["tests/", "molecule/", ".config/", ".venv/", ".build/", ".cluster/", ".ci/", "changelogs/fragments/",
                 "test-requirements.txt", ".git/"]


def _load(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


GALAXY = _load("galaxy.yml")
RUNTIME = _load("meta/runtime.yml")


def _run(args, cwd, env, timeout=120):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _mapping_names(path, method):
    """The keys of the dict literal that FilterModule.filters() / TestModule.tests() returns."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == method:
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict):
                    return [k.value for k in ret.value.keys if isinstance(k, ast.Constant)]
    raise AssertionError(f"{os.path.relpath(path, ROOT)}: no `{method}` returning a dict literal")


def plugins():
    """{ansible-doc type: [short names]} of every documented plugin type the collection ships."""
    found = {}
    for directory in sorted(glob.glob(os.path.join(ROOT, "plugins", "*", ""))):
        kind = os.path.basename(os.path.dirname(directory))
        assert kind in DOC_TYPES, f"plugins/{kind}: a plugin type this test does not know; add it to DOC_TYPES"
        doc_type = DOC_TYPES[kind]
        if doc_type is None:
            continue
        for path in sorted(glob.glob(os.path.join(directory, "*.py"))):
            if os.path.basename(path) == "__init__.py":
                continue
            if doc_type in MAPPING_METHOD:
                names = _mapping_names(path, MAPPING_METHOD[doc_type])
            else:
                names = [os.path.splitext(os.path.basename(path))[0]]
            found.setdefault(doc_type, []).extend(names)
    return found


def _version_added(node, fqcn, where=""):
    """(where, version) for every version_added of this collection in an ansible-doc tree.

    Options from other collections' doc fragments (kubernetes.core's connection
    options) carry their collection's versions, marked version_added_collection.
    """
    if isinstance(node, dict):
        ours = node.get("version_added_collection", fqcn) == fqcn
        for key, value in node.items():
            if key == "version_added":
                if ours:
                    yield where or "(plugin)", str(value)
            elif key != "version_added_collection":
                yield from _version_added(value, fqcn, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for item in node:
            yield from _version_added(item, fqcn, where)


@pytest.fixture(scope="module")
def installed(collection_install):
    """Run everything that reads the installed copy (tests/conftest.py builds and installs the tarball) at once."""
    tmp, env, path, fqcn = collection_install.tmp, collection_install.env, collection_install.path, collection_install.fqcn
    tarball = collection_install.tarball
    # The slow part: one process per command, all at once.
    commands = {"syntax": [os.path.join(BIN, "ansible-playbook"), "--syntax-check", f"{fqcn}.site"]}
    for doc_type, names in plugins().items():
        commands[doc_type] = [os.path.join(BIN, "ansible-doc"), "-t", doc_type, "--json"] + [f"{fqcn}.{n}" for n in names]
    if shutil.which("ansible-builder", path=BIN):
        commands["introspect"] = [os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", str(tmp / "collections")]
    procs = {k: subprocess.Popen(v, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k, v in commands.items()}
    results = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        results[key] = (proc.returncode, out, err, commands[key])
    with tarfile.open(tarball) as archive:
        members = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    return {"members": members, "manifest": manifest, "path": path, "results": results, "fqcn": fqcn}


def test_tarball_ships_the_collection_and_leaves_the_harness_out(installed):
    members = installed["members"]

    def has(entry):
        return any(m == entry.rstrip("/") or m.startswith(entry) for m in members)

    missing = [e for e in MUST_SHIP if not has(e)]
    # Files meta/execution-environment.yml points at must ship, or introspection finds nothing.
    ee_deps = (_load("meta/execution-environment.yml").get("dependencies") or {}).values()
    missing += [f for f in ee_deps if isinstance(f, str) and f not in members]
    leaked = [e for e in MUST_NOT_SHIP if has(e)] + [m for m in members if "__pycache__" in m or m.endswith(".pyc")]
    assert not missing, f"the tarball lacks {missing}"
    assert not leaked, f"the tarball ships {leaked}"
    assert installed["manifest"]["collection_info"]["license"] == [LICENSE]


def test_installed_collection_loads(installed):
    """site playbook syntax and ansible-doc of every plugin, from the installed tarball; version_added <= galaxy version."""
    results, fqcn, galaxy_version = installed["results"], installed["fqcn"], Version(str(GALAXY["version"]))
    code, out, err, cmd = results["syntax"]
    assert code == 0, f"{' '.join(cmd)}:\n{out}\n{err}"
    problems = []
    for doc_type, names in plugins().items():
        code, out, err, cmd = results[doc_type]
        if code != 0:
            problems.append(f"ansible-doc -t {doc_type} failed ({code}): {err.strip()[-1500:]}")
            continue
        docs = json.loads(out)
        for name in names:
            entry = docs.get(f"{fqcn}.{name}")
            doc = (entry or {}).get("doc") or {}
            if not doc:
                problems.append(f"{doc_type} {name}: ansible-doc found no documentation")
                continue
            if doc.get("name", name) != name:
                problems.append(f"{doc_type} {name}: ansible-doc shows the documentation of {doc.get('name')!r}")
            if not str(doc.get("filename", "")).startswith(str(installed["path"])):
                problems.append(f"{doc_type} {name}: loaded from {doc.get('filename')}, not from the installed tarball")
            if "version_added" not in doc:
                problems.append(f"{doc_type} {name}: no version_added")
            for where, version in _version_added({"doc": doc, "return": entry.get("return") or {}}, fqcn):
                if Version(version) > galaxy_version:
                    problems.append(f"{doc_type} {name}: {where} version_added {version} is after the galaxy version {galaxy_version}")
    assert not problems, "\n".join(problems)


def test_ansible_builder_introspects_the_installed_collection(installed):
    if "introspect" not in installed["results"]:
        pytest.skip("ansible-builder is not installed in the virtualenv (test-requirements.txt)")
    code, out, err, cmd = installed["results"]["introspect"]
    assert code == 0, f"{' '.join(cmd)}:\n{out}\n{err}"
    data = yaml.safe_load(out.split("\n", 1)[1] if out.startswith("#") else out) or {}
    python = " ".join(data.get("python") or [])
    for line in open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8"):
        req = line.split("#")[0].strip()
        if req and not req.lower().startswith("pyyaml"):  # ansible-builder leaves out what ansible-core brings
            assert req in python, f"introspection of the installed collection lacks {req}: {data}"
    assert "from collection " + installed["fqcn"] in out


def test_one_licence_everywhere():
    problems = []
    if GALAXY.get("license") != [LICENSE] or GALAXY.get("license_file"):
        problems.append(f"galaxy.yml: license {GALAXY.get('license')!r}, license_file {GALAXY.get('license_file')!r}")
    with open(os.path.join(ROOT, "LICENSE"), encoding="utf-8") as handle:
        head = handle.read(400)
    if "GNU GENERAL PUBLIC LICENSE" not in head or "Version 3" not in head:
        problems.append("LICENSE is not the GPL version 3 text")
    for meta in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "main.yml"))):
        with open(meta, encoding="utf-8") as handle:
            declared = ((yaml.safe_load(handle) or {}).get("galaxy_info") or {}).get("license")
        if declared not in (LICENSE, [LICENSE]):
            problems.append(f"{os.path.relpath(meta, ROOT)}: galaxy_info.license {declared!r}")
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True)):
        with open(path, encoding="utf-8") as handle:
            head = handle.read(600)
        if GPL_HEADER not in head and os.path.getsize(path):
            problems.append(f"{os.path.relpath(path, ROOT)}: no '{GPL_HEADER}' header")
    assert not problems, f"everything must be {LICENSE}:\n" + "\n".join(problems)


def test_requires_ansible_admits_no_end_of_life_ansible_core():
    spec = SpecifierSet(RUNTIME["requires_ansible"])
    today = datetime.date.today()
    oldest = min(int(series.split(".")[1]) for series in CORE_EOL)
    dead = [f"2.{minor}" for minor in range(0, oldest)] + [series for series, eol in CORE_EOL.items() if eol <= today]
    admitted = [series for series in dead if any(spec.contains(f"{series}.{patch}") for patch in range(0, 40))]
    assert not admitted, f"requires_ansible {spec} admits ansible-core {admitted}, end of life as of {today}"
    assert spec.contains(ANSIBLE_CORE_VERSION), f"requires_ansible {spec} excludes the tested ansible-core {ANSIBLE_CORE_VERSION}"


def test_every_module_is_in_an_action_group():
    groups = RUNTIME.get("action_groups") or {}
    listed = {entry for members in groups.values() for entry in members if isinstance(entry, str)}
    modules = {os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))} - {"__init__"}
    assert not modules - listed, f"meta/runtime.yml action_groups lack {sorted(modules - listed)}"
    assert not listed - modules, f"meta/runtime.yml action_groups name modules that do not exist: {sorted(listed - modules)}"


def test_execution_environment_definition(tmp_path):
    """`ansible-builder create` (no container engine) writes a build context with our requirements and a checked helm."""
    builder = shutil.which("ansible-builder", path=BIN)
    if not builder:
        pytest.skip("ansible-builder is not installed in the virtualenv (test-requirements.txt)")
    definition = _load("execution-environment.yml")
    assert definition["version"] == 3
    base = definition["images"]["base_image"]["name"]
    assert "$" not in base and "{" not in base and not base.endswith(":latest") and ":" in base.rsplit("/", 1)[-1], \
        f"base image {base!r}: a literal, pinned reference"
    deps = definition["dependencies"]
    assert (deps.get("python"), deps.get("system"), deps.get("galaxy")) == ("requirements.txt", "bindep.txt", "collections/requirements.yml")
    _run([builder, "create", "-f", os.path.join(ROOT, "execution-environment.yml"), "-c", str(tmp_path / "context"),
          "--output-filename", "Containerfile"], cwd=ROOT, env=dict(os.environ))
    containerfile = (tmp_path / "context" / "Containerfile").read_text(encoding="utf-8")
    build = tmp_path / "context" / "_build"
    for name, source in (("requirements.txt", "requirements.txt"), ("bindep.txt", "bindep.txt"), ("requirements.yml", "collections/requirements.yml")):
        assert (build / name).read_text(encoding="utf-8") == open(os.path.join(ROOT, source), encoding="utf-8").read()
    assert "FROM $EE_BASE_IMAGE" in containerfile and f'EE_BASE_IMAGE="{base}"' in containerfile
    for needle in ("--user-pip=requirements.txt", "--user-bindep=bindep.txt", "-r requirements.yml", "install-from-bindep",
                   "https://get.helm.sh/helm-v3", "sha256sum -c", "/usr/local/bin/helm"):
        assert needle in containerfile, f"the generated Containerfile lacks {needle!r}"
    # helm comes from the build step only, with a sha256 per architecture it supports.
    sums = re.findall(r"\bsum=([0-9a-f]*)", containerfile)
    assert len(sums) >= 2 and all(len(s) == 64 for s in sums), f"helm sha256 sums per architecture: {sums}"

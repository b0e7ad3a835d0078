"""Role READMEs cannot drift from the roles' argument specs.

For every directory under roles/, the variable table(s) of README.md (tables
whose first header cell is "Variable") must list exactly the options of the
`main` entry point of meta/argument_specs.yml. Where the default is a plain
value (defaults/main.yml sets it without a template), the README's Default
cell must show that value and the spec's `default` must be that value too.
A templated default (a fallback to an `orchestrator_*` variable, a value from
the RHDH release, ...) is described in prose on both sides, and any text is
accepted for it.
"""
import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "roles", "*", "")))
_CODE = re.compile(r"`([^`]*)`")
_TEXT_TYPES = ("str", "path", "raw")


def _cells(line):
    """The cells of a Markdown table row; a `|` inside a code span or escaped does not split."""
    cells, cur, in_code, i = [], "", False, 0
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cur += "|"
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    if cur.strip():
        cells.append(cur.strip())
    return cells


def readme_variables(text):
    """{variable: default cell} from every table headed `Variable`, and the names listed twice."""
    rows, twice, in_table = {}, [], False
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if not in_table:
            in_table = bool(cells) and cells[0].strip("* ").lower() == "variable"
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        match = _CODE.fullmatch(cells[0])
        name = match.group(1) if match else cells[0]
        if name in rows:
            twice.append(name)
        rows[name] = cells[1] if len(cells) > 1 else ""
    return rows, twice


def _templated(value):
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_templated(k) or _templated(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


def _role_defaults(role_dir):
    values = {}
    for path in sorted(glob.glob(os.path.join(role_dir, "defaults", "main.yml")) + glob.glob(os.path.join(role_dir, "defaults", "main", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            values.update(yaml.safe_load(handle) or {})
    return values


def readme_default(cell, option_type):
    """The value a Default cell shows: its first code span, read as YAML (as text for text options).

    Returns (found, value); a trailing remark such as `""` (random) is allowed.
    """
    match = _CODE.search(cell)
    if not match:
        return False, None
    raw = match.group(1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if option_type in _TEXT_TYPES and not isinstance(value, (str, list, dict)):
        value = raw.strip()  # 1.10 stays "1.10", not the number 1.1
    return True, value


def _same(shown, spec_default):
    if isinstance(spec_default, str) and not isinstance(shown, str):
        return str(shown) == spec_default
    return shown == spec_default


def role_problems(role):
    role_dir = os.path.join(ROOT, "roles", role)
    spec_path = os.path.join(role_dir, "meta", "argument_specs.yml")
    readme_path = os.path.join(role_dir, "README.md")
    missing = [os.path.relpath(p, ROOT) for p in (spec_path, readme_path) if not os.path.isfile(p)]
    if missing:
        return [f"{role}: missing {', '.join(missing)}"]
    with open(spec_path, encoding="utf-8") as handle:
        specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
    if "main" not in specs:
        return [f"{role}: meta/argument_specs.yml has no `main` entry point"]
    options = specs["main"].get("options") or {}
    with open(readme_path, encoding="utf-8") as handle:
        rows, twice = readme_variables(handle.read())
    if not rows:
        return [f"{role}: README.md has no variable table (a table whose first column is headed `Variable`)"]
    defaults = _role_defaults(role_dir)
    problems = [f"{role}: {name}: listed more than once in README.md" for name in twice]
    for name in sorted(set(options) - set(rows)):
        problems.append(f"{role}: {name}: in meta/argument_specs.yml but not in the README's variable table")
    for name in sorted(set(rows) - set(options)):
        problems.append(f"{role}: {name}: in the README's variable table but not an option of meta/argument_specs.yml")
    for name in sorted(set(rows) & set(options)):
        option = options[name] or {}
        if "default" not in option or _templated(defaults.get(name)):
            continue  # described in prose: any text goes
        spec_default = option["default"]
        if name in defaults and not _same(defaults[name], spec_default):
            problems.append(f"{role}: {name}: spec default {spec_default!r} but defaults/main.yml sets {defaults[name]!r}")
        found, shown = readme_default(rows[name], option.get("type", "str"))
        if not found:
            problems.append(f"{role}: {name}: README default {rows[name]!r} shows no value in backticks; the spec default is {spec_default!r}")
        elif not _same(shown, spec_default):
            problems.append(f"{role}: {name}: README default {rows[name]!r} but the spec default is {spec_default!r}")
    return problems


def test_every_role_is_checked():
    assert ROLES, "no roles found under roles/"


@pytest.mark.parametrize("role", ROLES)
def test_readme_variables_match_argument_specs(role):
    problems = role_problems(role)
    assert not problems, "README.md and meta/argument_specs.yml disagree:\n  " + "\n  ".join(problems)


def test_the_checker_sees_drift(tmp_path, monkeypatch):
    """A missing, an extra and a wrong variable, and a prose default, are told apart."""
    role = tmp_path / "roles" / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {"options": {
        "demo_a": {"type": "int", "default": 300},
        "demo_b": {"type": "str", "default": "1.10"},
        "demo_c": {"type": "str", "default": "from the release"},
        "demo_d": {"type": "list", "elements": "str", "default": ["x"]},
        "demo_e": {"type": "str"},
    }}}}))
    (role / "defaults" / "main.yml").write_text(
        "demo_a: 300\ndemo_b: '1.10'\ndemo_c: \"{{ orchestrator_x | default('y') }}\"\ndemo_d: [x]\n")
    (role / "README.md").write_text(
        "# demo\n\n| Variable | Default | Description |\n|---|---|---|\n"
        "| `demo_a` | `30` | Wrong. |\n| `demo_b` | `1.10` | Right. |\n| `demo_c` | anything `at all` | Prose. |\n"
        "| `demo_d` | `[y]` | Wrong. |\n| `demo_f` | `1` | Not in the spec. |\n\n| Fact | Example |\n|---|---|\n| `demo_e` | x |\n")
    monkeypatch.setitem(globals(), "ROOT", str(tmp_path))
    problems = role_problems("demo")
    assert sorted(p.split(":")[1].strip() for p in problems) == ["demo_a", "demo_d", "demo_e", "demo_f"], problems

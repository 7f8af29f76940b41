"""`azxfer.envvars` lists exactly the environment variables the code reads: a variable read
anywhere in the package and missing from the registry (or listed and no longer read) fails."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import azxfer
from azxfer.envvars import ENV_VARS

PACKAGE = Path(azxfer.__file__).parent
# Our own and Azure's variables are recognised by their names wherever they are spelt.
_OURS = re.compile(r"^_?(AZXFER|AZURE)_[A-Z0-9_]+$")
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+$")


def _is_environment(node: ast.expr) -> bool:
    """An expression that names an environment mapping: env, os.environ, self.env, ..."""
    return "env" in ast.unparse(node).lower().rsplit(".", 1)[-1]


def _names_read(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _OURS.match(node.value):
                names.add(node.value)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            # "NAME" in os.environ
            if any(_is_environment(c) for c in node.comparators):
                names.add(str(node.left.value))
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                names.add(node.slice.value)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv", "pop"):
                receiver_is_env = _is_environment(func.value) or func.attr == "getenv"
                if receiver_is_env and node.args and isinstance(node.args[0], ast.Constant):
                    names.add(str(node.args[0].value))
            elif node.args and _is_environment(node.args[0]):
                # A helper given the environment and the names to look up in it.
                names.update(
                    arg.value
                    for arg in node.args[1:]
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and _VARIABLE.match(arg.value)
                )
    return names


def _names_in_package() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "envvars.py":
            continue
        for name in _names_read(ast.parse(path.read_text(encoding="utf-8"))):
            found.setdefault(name, []).append(str(path.relative_to(PACKAGE)))
    return found


def test_registry_is_every_variable_the_code_reads() -> None:
    read = _names_in_package()
    listed = {name for var in ENV_VARS for name in (var.name, *var.also)}
    undocumented = {name: where for name, where in read.items() if name not in listed}
    assert not undocumented, f"add these to azxfer/envvars.py: {undocumented}"
    # A variable no longer read is no longer documented either.
    assert listed - read.keys() == set(), "listed but never read"


def test_registry_names_are_unique_and_purposes_given() -> None:
    names = [var.name for var in ENV_VARS]
    assert len(names) == len(set(names))
    assert all(var.purpose.strip() for var in ENV_VARS)


def test_the_scan_finds_each_way_of_reading() -> None:
    source = """
import os
a = os.environ.get("ONE_VAR")
b = env["TWO_VAR"]
c = _first(env, "THREE_PROXY", "three_proxy")
d = os.getenv("FOUR_VAR")
NAME = "AZXFER_FIVE"
f = "SIX_VAR" in os.environ
g = COMPLETE in os.environ  # found by its literal, if it is ours
e = env.get(name)  # a name held elsewhere: found by its literal (NAME above)
"""
    assert _names_read(ast.parse(source)) == {
        "ONE_VAR", "TWO_VAR", "THREE_PROXY", "three_proxy", "FOUR_VAR", "AZXFER_FIVE", "SIX_VAR",
    }  # fmt: skip

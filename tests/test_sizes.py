"""The add-on's code stays readable: every module outside its tests has at most 320 lines,
and no function or method more than 50."""

import ast
import pathlib

import pytest

ADDON = pathlib.Path(__file__).resolve().parents[1] / "lead_allocation"
MODULES = sorted(path for path in ADDON.rglob("*.py") if "tests" not in path.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ADDON)))
def test_module_and_method_sizes(path):
    text = path.read_text()
    assert text.count("\n") <= 320, f"{path.name} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= 50, f"{path.name}: {node.name} has {length} lines"

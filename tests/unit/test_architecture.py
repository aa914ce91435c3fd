"""The shape of ``src/``: no module imports itself back, however far round; the core's
public functions take few parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

import commerce_core

PACKAGES = ("commerce_core", "adapters", "entrypoints")

MAX_PARAMETERS = 5
"""A use case takes a bundle of the ports it needs (``PaymentServices``, ...), the command
context and a command, not each port and value on its own."""

MANY_VALUES = {
    # Pure functions of plain values (no ports; nothing loaded, changed or saved): a
    # struct of their arguments would only wrap the same values under another name.
    "ordering/order/guards.py:check_move",  # two statuses and four facts of the order
    "projections/order_dashboard.py:orders_dashboard",  # a range's rows, assembled
}
"""Public functions of the core allowed more than ``MAX_PARAMETERS`` parameters."""


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_in_src_imports_itself_back() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert import_cycles(graph) == []


def test_a_cycle_through_a_type_only_import_is_found() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.events", "pkg.handlers", "pkg.leaf"):
        graph.add_module(module)
    graph.add_import(importer="pkg.events", imported="pkg.handlers")
    graph.add_import(importer="pkg.handlers", imported="pkg.events")
    graph.add_import(importer="pkg.handlers", imported="pkg.leaf")
    assert import_cycles(graph) == [["pkg.events", "pkg.handlers"]]


def parameter_counts(source: str) -> dict[str, int]:
    """How many parameters each public module-level function of ``source`` takes
    (positional, keyword-only, ``*args`` and ``**kwargs`` alike)."""
    counts: dict[str, int] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name[0] != "_":
            args = node.args
            named = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            counts[node.name] = len(named) + (args.vararg is not None) + (args.kwarg is not None)
    return counts


def long_signatures(root: Path) -> dict[str, int]:
    """``path:function`` of every public function under ``root`` with too many parameters."""
    return {
        f"{path.relative_to(root).as_posix()}:{name}": count
        for path in sorted(root.rglob("*.py"))
        for name, count in parameter_counts(path.read_text()).items()
        if count > MAX_PARAMETERS
    }


def test_no_public_function_of_the_core_takes_more_than_five_parameters() -> None:
    found = long_signatures(Path(commerce_core.__file__).parent)
    # Exactly the allowed ones: an allowed function that got shorter leaves the list.
    assert sorted(found) == sorted(MANY_VALUES)


def test_a_long_signature_is_found_whatever_kind_its_parameters_are() -> None:
    source = """
async def use_case(a, b, /, c, d, *, e, f): ...
def spread(a, b, c, d, *args, **kwargs): ...
def five(a, b, c, d, e=1): ...
def _private(a, b, c, d, e, f, g): ...
"""
    assert parameter_counts(source) == {"use_case": 6, "spread": 6, "five": 5}

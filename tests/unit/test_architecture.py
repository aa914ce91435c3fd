"""The import graph of ``src/``: no module imports itself back, however far round."""

from __future__ import annotations

import grimp

PACKAGES = ("commerce_core", "adapters", "entrypoints")


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

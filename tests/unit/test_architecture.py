"""The tree's rules (docs/architecture.md), read from the source: the layers point inward,
no module imports itself back through others, each layer's shared kernel reaches no
capability, and a capability reaches another only through its public names (nothing that
starts with an underscore). Each rule is also shown catching a planted breach."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "chalicelib"
CAPABLE = ("domain", "service", "api")
"""The layers grouped by capability (chalicelib/<layer>/<capability>/)."""

MAY_IMPORT = {
    "domain": {"domain"},
    "service": {"service", "domain"},
    "adapters": {"adapters", "service", "domain"},
    "api": {"api", "service", "domain", "bootstrap", "__init__"},
    "workers": {"workers", "service", "domain", "bootstrap"},
    "bootstrap": {"adapters", "service", "domain", "settings"},
    "settings": set(),
    "__init__": set(),
}
"""What each layer may import besides itself: api and workers reach the adapters only
through the composition root (bootstrap), and only bootstrap builds adapters."""

Graph = dict[str, set[str]]


def modules(root: Path = CHALICELIB) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported(source: str, known: Iterable[str]) -> set[str]:
    """The chalicelib modules `source` imports (`from package import module` names the
    module; `from module import name` the module)."""
    known = set(known)
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("chalicelib")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else str(node.module))
    return found


def graph() -> Graph:
    found = modules()
    return {name: imported(path.read_text(), found) - {name} for name, path in found.items()}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def capability(module: str) -> str:
    """`layer.capability`, or `layer` for the layer's shared kernel (and its schemas)."""
    parts = module.split(".")
    if (len(parts) > 3 and parts[1] in CAPABLE
            and (CHALICELIB / parts[1] / parts[2]).is_dir() and parts[2] != "schemas"):
        return f"{parts[1]}.{parts[2]}"
    return layer(module)


def against_the_direction(g: Graph) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in g.items() for b in targets
                  if layer(b) != layer(a) and layer(b) not in MAY_IMPORT[layer(a)])


def a_cycle(g: Graph) -> list[str]:
    try:
        TopologicalSorter(g).prepare()
    except CycleError as found:
        return list(found.args[1])
    return []


def kernel_reaching_out(g: Graph) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in g.items() for b in targets
                  if layer(a) in CAPABLE and capability(a) == layer(a)
                  and capability(b) not in (layer(b), capability(a)) and layer(b) == layer(a))


def private_reach(module: str, source: str, known: Iterable[str]) -> list[str]:
    """Underscored names of another capability's modules that `module` uses: imported by
    name, or reached as an attribute of a module it imported."""
    known = set(known)
    mine = capability(module)
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:
                    aliases[alias.asname or alias.name] = full
                elif (alias.name.startswith("_") and not alias.name.startswith("__")
                      and capability(str(node.module)) != mine):
                    found.append(f"{module} imports {full}")
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and capability(aliases[node.value.id]) != mine):
            found.append(f"{module} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_the_layers_point_inward() -> None:
    assert against_the_direction(graph()) == []


def test_no_module_imports_itself_back() -> None:
    assert a_cycle(graph()) == []


def test_each_layers_kernel_reaches_no_capability() -> None:
    assert kernel_reaching_out(graph()) == []


def test_a_capability_reaches_another_only_through_its_public_names() -> None:
    found = modules()
    assert [reach for name, path in found.items()
            for reach in private_reach(name, path.read_text(), found)] == []


def test_no_layer_folder_holds_more_than_fifteen_modules() -> None:
    crowded = {str(folder.relative_to(ROOT)): count for folder in
               [CHALICELIB, *(p for p in CHALICELIB.rglob("*") if p.is_dir())]
               if (count := len([m for m in folder.glob("*.py") if m.name != "__init__.py"])) > 15}
    assert crowded == {}


def test_only_production_code_is_under_chalicelib() -> None:
    doubles = [name for name, path in modules().items()
               if "sandbox" in name or "tests" in imported_roots(path.read_text())
               or "sandbox" in imported_roots(path.read_text())]
    assert doubles == []


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


# each rule catches a planted breach


def test_an_import_against_the_direction_is_caught() -> None:
    planted = {"chalicelib.domain.money": {"chalicelib.service.context"},
               "chalicelib.api.routing": {"chalicelib.adapters.dynamo.store"},
               "chalicelib.service.context": {"chalicelib.domain.money"}}
    assert against_the_direction(planted) == [
        "chalicelib.api.routing -> chalicelib.adapters.dynamo.store",
        "chalicelib.domain.money -> chalicelib.service.context"]


def test_a_cycle_is_caught() -> None:
    planted = {"chalicelib.service.escrow.orders": {"chalicelib.service.refunds.refunds"},
               "chalicelib.service.refunds.refunds": {"chalicelib.service.escrow.orders"}}
    assert set(a_cycle(planted)) == set(planted)


def test_a_kernel_reaching_a_capability_is_caught() -> None:
    planted = {"chalicelib.domain.policy": {"chalicelib.domain.institutions.catalog",
                                            "chalicelib.domain.money"}}
    assert kernel_reaching_out(planted) == [
        "chalicelib.domain.policy -> chalicelib.domain.institutions.catalog"]


def test_a_private_name_of_another_capability_is_caught() -> None:
    known = {"chalicelib.service.refunds.refund_payouts", "chalicelib.service.escrow.orders"}
    source = ("from chalicelib.service.refunds import refund_payouts\n"
              "from chalicelib.service.refunds.refund_payouts import _after_failure\n"
              "refund_payouts._reserve_again(ctx, request)\n"
              "refund_payouts.redrive(ctx, refund_id)\n")
    assert private_reach("chalicelib.service.escrow.orders", source, known) == [
        "chalicelib.service.escrow.orders imports "
        "chalicelib.service.refunds.refund_payouts._after_failure",
        "chalicelib.service.escrow.orders uses "
        "chalicelib.service.refunds.refund_payouts._reserve_again"]
    assert private_reach("chalicelib.service.refunds.refunds", source, known) == []

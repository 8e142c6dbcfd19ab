"""The packages' import rules that import-linter's layers contract (`.importlinter`) does not
express: no package imports another package's private modules or names (`envs._errors`,
`from skills import _ray`, `from agents.x import _helper`); each package exposes public names
for what others use."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("envs", "skills", "agents", "graphs")


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def cross_package_private_imports(root: Path = ROOT) -> list[str]:
    """`file:line: imported name` for every import, in the packages' own code (module level or
    inside functions), of a private module or name of another of the packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for target in targets:
                    top = target.split(".")[0]
                    if top in PACKAGES and top != package and _private(target):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: {target}")
    return sorted(found, key=lambda s: (s.split(":")[0], int(s.split(":")[1])))


def test_no_package_imports_another_packages_private_names() -> None:
    assert cross_package_private_imports() == []


def test_the_check_finds_a_private_import(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "skills" / "ok.py").write_text(
        "from skills._home import mendako_home\nfrom envs.contract import EpisodeOver\n"
    )
    (tmp_path / "agents" / "bad.py").write_text(
        "def f():\n    from envs._errors import EpisodeOver\n"
        "from skills import _ray\nimport graphs._x\nfrom envs.crafter import _helper\n"
    )
    assert cross_package_private_imports(tmp_path) == [
        "agents/bad.py:2: envs._errors.EpisodeOver",
        "agents/bad.py:3: skills._ray",
        "agents/bad.py:4: graphs._x",
        "agents/bad.py:5: envs.crafter._helper",
    ]

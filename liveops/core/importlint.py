"""An import-linter contract for app boundaries (used by `lint-imports`, see pyproject.toml).

Apps may import another app only through its public modules (services for writes,
selectors for reads, models for foreign keys and types, plus the tenancy helpers
``roles`` and ``access`` of workspaces). Everything else — views, forms, api, admin,
internal helpers — stays private to its app. The allow-list of exceptions is empty.
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AppBoundariesContract(Contract):
    type_name = "app_boundaries"

    apps = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        apps = [str(a) for a in self.apps]  # type: ignore[attr-defined]
        public = {str(p) for p in self.public}  # type: ignore[attr-defined]
        root = "liveops"
        violations: list[dict[str, Any]] = []
        for importer in sorted(graph.modules):
            importer_app = _app_of(importer, root, apps)
            if importer_app is None:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                imported_app = _app_of(imported, root, apps)
                if imported_app is None or imported_app == importer_app:
                    continue
                parts = imported.split(".")
                module = parts[2] if len(parts) > 2 else ""
                if module in public:
                    continue
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    violations.append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "line": detail["line_number"],
                            "contents": detail["line_contents"],
                        }
                    )
                if not graph.get_import_details(importer=importer, imported=imported):
                    violations.append(
                        {"importer": importer, "imported": imported, "line": 0, "contents": ""}
                    )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            output.print_error(
                f"{v['importer']}:{v['line']} imports {v['imported']} "
                f"(use that app's services/selectors): {v['contents']}",
                bold=False,
            )
            output.new_line()


def _app_of(module: str, root: str, apps: list[str]) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == root and parts[1] in apps:
        return parts[1]
    return None

"""How Argo CD syncs each dist/ folder, read from the Applications a synthesis wrote (dist/argocd/), and what
it does with an object Git no longer has: the Application's automated prune and syncOptions, and the
object's own annotations (Prune=false, Prune=confirm, IgnoreExtraneous; see mechanics/waves.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..mechanics.waves import COMPARE_OPTIONS, IGNORE_EXTRANEOUS
from .semantic_diff import Key, Manifest

SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


@dataclass(frozen=True)
class Sync:
    """How the Application that deploys one dist/ folder syncs it, from its synthesized manifest."""

    application: str | None
    automated: bool = False
    prune: bool = False
    prune_last: bool = False
    no_prune: bool = False  # Prune=false among the Application's syncOptions

    @property
    def words(self) -> str:
        if self.application is None:
            return "no Argo CD Application in the synthesis deploys this folder"
        mode = "automated sync" if self.automated else "manual sync"
        prune = "prune on" if self.prune and not self.no_prune else "prune off"
        return f"Application {self.application} ({mode}, {prune})"

    def fate(self, gone: Manifest) -> str:
        """What happens to a live object that Git no longer has, given its own annotations."""
        options = {option.strip() for option in gone.annotations.get(SYNC_OPTIONS, "").split(",")}
        extraneous = IGNORE_EXTRANEOUS in gone.annotations.get(COMPARE_OPTIONS, "")
        if "Prune=false" in options:
            return "stays in the cluster: it has Prune=false (the Application shows it as needing pruning)"
        if self.application is None:
            return "stays in the cluster: nothing syncs this folder"
        if "Prune=confirm" in options and self.prune:
            return "is deleted once someone confirms the pruning (Prune=confirm)"
        if not self.prune or self.no_prune or not self.automated:
            status = ("left out of the sync status (IgnoreExtraneous)" if extraneous
                      else "the Application shows OutOfSync until someone syncs with prune")
            return f"stays in the cluster: prune is off; {status}"
        return "is deleted by Argo CD (prune on" + (", last, once the rest is synced and healthy: PruneLast)" if self.prune_last else ")")


def applications(*outputs: Mapping[str, Mapping[Key, Manifest]]) -> dict[str, Sync]:
    """dist/ folder name -> how its Application syncs it; the newer output wins (the sync it will run)."""
    found: dict[str, Sync] = {}
    for output in outputs:
        for objects in output.values():
            for manifest in objects.values():
                if manifest.kind != "Application" or not str(manifest.body.get("apiVersion", "")).startswith("argoproj.io/"):
                    continue
                spec = manifest.body.get("spec") or {}
                policy = spec.get("syncPolicy") or {}
                automated = policy.get("automated")
                options = set(policy.get("syncOptions") or [])
                sync = Sync(application=manifest.name, automated=automated is not None,
                            prune=bool((automated or {}).get("prune")), prune_last="PruneLast=true" in options,
                            no_prune="Prune=false" in options)
                for source in [spec.get("source") or {}, *(spec.get("sources") or [])]:
                    if source.get("path"):
                        found[Path(str(source["path"])).name] = sync
    return found

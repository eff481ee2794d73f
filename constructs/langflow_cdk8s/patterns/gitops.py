"""Argo CD for the same app: per environment an AppProject fenced to exactly what that environment
emits and an Application that syncs its dist/ folder, plus a root Application (app of apps) that
syncs these objects themselves. The Argo CD objects come from the typed bindings in imports/.

Bootstrap once with `kubectl apply -f dist/argocd/`; from then on the root Application keeps
dist/argocd/ (itself included) in sync, and every environment follows its own Application.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import cdk8s
import jsii

import constructs
from constructs import Construct
from imports.argocd_application.io.argoproj import (
    Application,
    ApplicationSpec,
    ApplicationSpecDestination,
    ApplicationSpecSource,
    ApplicationSpecSyncPolicy,
    ApplicationSpecSyncPolicyAutomated,
    ApplicationSpecSyncPolicyRetry,
    ApplicationSpecSyncPolicyRetryBackoff,
)
from imports.argocd_appproject.io.argoproj import (
    AppProject,
    AppProjectSpec,
    AppProjectSpecClusterResourceWhitelist,
    AppProjectSpecDestinations,
    AppProjectSpecNamespaceResourceWhitelist,
)

from ..errors import ConfigError
from ..mechanics.completion import CompletingChart
from ..mechanics.labels import standard_labels
from ..mechanics.tree import api_objects, api_version_kind
from ..mechanics.values import patch_add
from ..mechanics.waves import CLUSTER_SCOPED, SYNC_WAVE, sync_wave
from ..props.validation import at_least, dns_label
from .environment import Environment, Stage

ARGO_GROUP = "argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"
"""Where Argo CD itself runs: its Applications and AppProjects are created there, whatever the destination."""

SYNC_OPTIONS = (
    "ServerSideApply=true",   # no last-applied annotation size limit; fields owned by others (HPA replicas) stay theirs
    "PruneLast=true",         # delete what left dist/ only after every wave of the new state is healthy
    "CreateNamespace=false",  # the Namespace is in dist/<env>/, with its Pod Security labels
)

_REPO_URL = re.compile(r"^(https://|ssh://)\S+$|^[\w.-]+@[\w.-]+:\S+$")

GroupKind = tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class SyncPolicy:
    """How Argo CD syncs one Application.

    automated: sync every new commit without anyone pressing Sync (default True).
    prune: let automated sync delete objects that left dist/ (default False).
    self_heal: let automated sync revert changes made in the cluster by hand (default False).
    retries: how often a failed sync is retried, backing off from 5 s to 3 min (default 5; 0: never).
    Automated sync does not retry a failed revision by itself, so without retries one transient
    failure (a webhook restarting) leaves the environment behind until the next commit.
    """

    automated: bool = True
    prune: bool = False
    self_heal: bool = False
    retries: int = 5

    def __post_init__(self) -> None:
        at_least("sync_policy.retries", self.retries, 0)
        if not self.automated and (self.prune or self.self_heal):
            raise ConfigError("sync_policy", "prune or self_heal without automated sync",
                              "set automated=True, or leave prune and self_heal False: they only steer automated sync")

    @staticmethod
    def development() -> SyncPolicy:
        """Automated, prunes and self-heals: the cluster always equals Git."""
        return SyncPolicy(prune=True, self_heal=True)

    @staticmethod
    def production() -> SyncPolicy:
        """Automated and self-heals, never prunes: deleting live objects takes a person pressing Sync with prune."""
        return SyncPolicy(self_heal=True)

    @staticmethod
    def manual() -> SyncPolicy:
        """Argo CD shows the difference; a person syncs."""
        return SyncPolicy(automated=False)

    def to_spec(self) -> ApplicationSpecSyncPolicy:
        return ApplicationSpecSyncPolicy(
            automated=ApplicationSpecSyncPolicyAutomated(prune=self.prune, self_heal=self.self_heal) if self.automated else None,
            sync_options=list(SYNC_OPTIONS),
            retry=ApplicationSpecSyncPolicyRetry(limit=self.retries, backoff=ApplicationSpecSyncPolicyRetryBackoff(
                duration="5s", factor=2, max_duration="3m")) if self.retries else None,
        )


@dataclass(frozen=True, kw_only=True)
class Destination:
    """The cluster an environment goes to, as Argo CD knows it: its API server URL, or the name it was
    registered under (`argocd cluster add`). Build it with the static factories.

    server: the API server URL (default None).
    name: the cluster's name in Argo CD (default None); exactly one of the two is set.
    """

    server: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if (self.server is None) == (self.name is None):
            raise ConfigError("destination", "needs exactly one of server and name",
                              "use Destination.server_url('https://...') or Destination.cluster_name('prod')")
        if self.server is not None and (not isinstance(self.server, str) or not re.fullmatch(r"https://\S+", self.server)):
            raise ConfigError("destination.server", f"{self.server!r} is not an https:// API server URL",
                              f"use the cluster's API server URL as Argo CD knows it, such as {IN_CLUSTER!r}")
        if self.name is not None and (not isinstance(self.name, str) or not re.fullmatch(r"[\w.:@-]+", self.name)):
            raise ConfigError("destination.name", f"{self.name!r} is not a cluster name",
                              "use the name `argocd cluster list` shows, such as 'prod-eu-1'")

    @staticmethod
    def server_url(url: str) -> Destination:
        """The cluster whose API server is at `url` (Argo CD's own: https://kubernetes.default.svc)."""
        return Destination(server=url)

    @staticmethod
    def cluster_name(name: str) -> Destination:
        """A cluster registered in Argo CD under `name`: the URL stays in Argo CD's cluster Secret."""
        return Destination(name=name)

    def application(self, namespace: str) -> ApplicationSpecDestination:
        return ApplicationSpecDestination(server=self.server, name=self.name, namespace=namespace)

    def project(self, namespace: str) -> AppProjectSpecDestinations:
        return AppProjectSpecDestinations(server=self.server, name=self.name, namespace=namespace)


@dataclass(frozen=True, kw_only=True)
class GitOpsProps:
    """Where Argo CD finds the synthesized YAML and where it applies it.

    environments: the Environments to deploy (required, at least one); each project allows what its
    environment synthesizes, objects added after GitOps was created included.
    repo_url: the Git repository holding dist/ (required; https://, ssh:// or git@host:path).
    target_revision: the branch, tag or commit Argo CD follows (default "main").
    argocd_namespace: the namespace Argo CD runs in, where its AppProjects and Applications must live
    (default "argocd").
    destination_server: the API server of the cluster the environments go to (default
    "https://kubernetes.default.svc", the cluster Argo CD runs in).
    destinations: a cluster per environment, by environment name: Destination.server_url(...) or
    Destination.cluster_name(...) (default none: every environment goes to destination_server). Each
    environment's AppProject allows only its own cluster.
    development_sync: sync policy of DEVELOPMENT environments (default SyncPolicy.development()).
    production_sync: sync policy of PRODUCTION environments (default SyncPolicy.production()).
    """

    environments: Sequence[Environment]
    repo_url: str
    target_revision: str = "main"
    argocd_namespace: str = "argocd"
    destination_server: str = IN_CLUSTER
    destinations: Mapping[str, Destination] = field(default_factory=dict)
    development_sync: SyncPolicy = SyncPolicy.development()
    production_sync: SyncPolicy = SyncPolicy.production()

    def __post_init__(self) -> None:
        if not self.environments or not all(isinstance(env, Environment) for env in self.environments):
            raise ConfigError("environments", f"{self.environments!r} is not a non-empty list of Environments",
                              "pass the Environment charts that main.py builds")
        namespaces = [env.namespace_name for env in self.environments]
        shared = sorted({ns for ns in namespaces if namespaces.count(ns) > 1})
        if shared:
            raise ConfigError("environments", f"two environments share namespace {shared[0]!r}",
                              "give every environment its own namespace: each one's AppProject owns it")
        dns_label("argocd_namespace", self.argocd_namespace)
        if self.argocd_namespace in namespaces:
            raise ConfigError("argocd_namespace", f"{self.argocd_namespace!r} is also an environment's namespace",
                              "keep environments out of Argo CD's namespace: a project there could rewrite Argo CD")
        if not isinstance(self.repo_url, str) or not _REPO_URL.match(self.repo_url):
            raise ConfigError("repo_url", f"{self.repo_url!r} is not a Git repository URL",
                              "use https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git")
        if not isinstance(self.target_revision, str) or not re.fullmatch(r"\S+", self.target_revision):
            raise ConfigError("target_revision", f"{self.target_revision!r} is not a Git revision",
                              "use a branch, tag or commit such as 'main'")
        if not isinstance(self.destination_server, str) or not re.fullmatch(r"https://\S+", self.destination_server):
            raise ConfigError("destination_server", f"{self.destination_server!r} is not an https:// API server URL",
                              f"use the cluster's API server URL as Argo CD knows it, such as {IN_CLUSTER!r}")
        names = {env.name for env in self.environments}
        for name, destination in self.destinations.items():
            if name not in names:
                raise ConfigError(f"destinations[{name!r}]", "is not an environment of this GitOps",
                                  f"use one of {', '.join(sorted(names))}")
            if not isinstance(destination, Destination):
                raise ConfigError(f"destinations[{name!r}]", f"{destination!r} is not a Destination",
                                  "use Destination.server_url('https://...') or Destination.cluster_name('...')")
        for prop in ("development_sync", "production_sync"):
            if not isinstance(getattr(self, prop), SyncPolicy):
                raise ConfigError(prop, f"{getattr(self, prop)!r} is not a SyncPolicy",
                                  "use SyncPolicy.development(), .production(), .manual() or SyncPolicy(...)")

    def destination(self, env: Environment) -> Destination:
        return self.destinations.get(env.name) or Destination.server_url(self.destination_server)

    def sync_policy(self, env: Environment) -> SyncPolicy:
        return self.production_sync if env.stage is Stage.PRODUCTION else self.development_sync


def group_kinds(objects: Iterable[tuple[str, str]]) -> tuple[set[GroupKind], set[GroupKind]]:
    """The (API group, kind) pairs of namespaced and of cluster-scoped objects, given as (apiVersion,
    kind): what a project must allow."""
    pairs = {(api_version.rpartition("/")[0], kind) for api_version, kind in objects}
    return {p for p in pairs if p[1] not in CLUSTER_SCOPED}, {p for p in pairs if p[1] in CLUSTER_SCOPED}


class GitOps(CompletingChart):
    """Argo CD's AppProjects and Applications for `props.environments`, in their own chart.

    Each environment gets a project that may only deploy from repo_url into that environment's
    namespace, exactly the namespaced kinds it emits, and at cluster scope only its own Namespace;
    and an Application syncing dist/<env>/ with its stage's sync policy. A root Application syncs
    dist/<id>/, under a project that allows nothing but Applications and AppProjects in Argo CD's
    namespace (not `default`, which allows everything everywhere).

    What it deploys and from where: environments, repo_url, target_revision, argocd_namespace.

    No Application carries the resources finalizer: removing an environment from main.py deletes
    its Application, never its running workloads. The construct id is the dist/ folder. Each
    project's whitelist is read again from the environment's objects when the app synthesizes
    (`complete`), so objects added later (also through the cdk8s-plus API) are allowed too.
    """

    COMPLETION_ORDER = 1
    """After the environments, whose kinds it reads."""

    def __init__(self, scope: Construct, id: str, props: GitOpsProps) -> None:
        dns_label("gitops id", id)
        if id in {env.name for env in props.environments}:
            raise ConfigError("gitops id", f"{id!r} is also an environment's name, and so its dist/ folder",
                              "name the GitOps chart 'argocd'")
        super().__init__(scope, id, disable_resource_name_hashes=True)
        self.name = id
        self.environments: Sequence[Environment] = props.environments
        self.argocd_namespace = props.argocd_namespace
        self.repo_url = props.repo_url
        self.target_revision = props.target_revision
        self.projects: list[str] = []
        self.applications: list[str] = []
        self.environment_projects: dict[str, AppProject] = {}
        for env in props.environments:
            destination = props.destination(env)
            cluster = f" on {destination.name or destination.server}" if env.name in props.destinations else ""
            self.environment_projects[env.name] = self._project(
                f"langflow-{env.name}", f"Langflow {env.name}: dist/{env.name}/ into {env.namespace_name}{cluster}",
                destination=destination, namespace=env.namespace_name,
                namespaced=set(), own_namespace=env.namespace_name)  # filled in at synthesis: see _Whitelists
            self._application(f"langflow-{env.name}", path=f"dist/{env.name}", destination=destination,
                              namespace=env.namespace_name, policy=props.sync_policy(env))
        # The root prunes: an environment removed from main.py loses its Application and project.
        root = f"langflow-{id}"
        home = Destination.server_url(IN_CLUSTER)
        self._project(root, f"Langflow's Argo CD objects: dist/{id}/", destination=home,
                      namespace=props.argocd_namespace, namespaced={(ARGO_GROUP, "Application"), (ARGO_GROUP, "AppProject")})
        self._application(root, path=f"dist/{id}", destination=home, namespace=props.argocd_namespace,
                          policy=SyncPolicy(prune=True, self_heal=True))
        self._whitelists = _Whitelists(props.environments, self.environment_projects)
        self.node.add_validation(self._whitelists)

    def complete(self) -> None:
        """Each environment's project allows exactly the namespaced kinds the environment now holds."""
        self._whitelists.write()

    def _metadata(self, name: str, kind: str) -> cdk8s.ApiObjectMetadata:
        return cdk8s.ApiObjectMetadata(name=name, namespace=self.argocd_namespace,
                                       labels=standard_labels(instance=f"langflow-{self.name}", component="gitops"),
                                       annotations={SYNC_WAVE: sync_wave(kind)})

    def _project(self, name: str, description: str, *, destination: Destination, namespace: str, namespaced: set[GroupKind],
                 own_namespace: str | None = None) -> AppProject:
        project = AppProject(self, f"{name}-project", metadata=self._metadata(name, "AppProject"), spec=AppProjectSpec(
            description=description,
            source_repos=[self.repo_url],
            destinations=[destination.project(namespace)],
            namespace_resource_whitelist=[AppProjectSpecNamespaceResourceWhitelist(group=group, kind=kind)
                                          for group, kind in sorted(namespaced)],
            cluster_resource_whitelist=[AppProjectSpecClusterResourceWhitelist(
                group="", kind="Namespace", name=own_namespace)] if own_namespace else None,
        ))
        self.projects.append(name)
        return project

    def _application(self, name: str, *, path: str, destination: Destination, namespace: str, policy: SyncPolicy) -> None:
        Application(self, f"{name}-application", metadata=self._metadata(name, "Application"), spec=ApplicationSpec(
            project=name,
            source=ApplicationSpecSource(repo_url=self.repo_url, path=path,
                                         target_revision=self.target_revision),
            destination=destination.application(namespace),
            sync_policy=policy.to_spec(),
        ))
        self.applications.append(name)


@jsii.implements(constructs.IValidation)
class _Whitelists:
    """Each environment's project whitelist, from the kinds the environment holds when the app
    synthesizes (a kind added after GitOps was created is allowed, not refused by Argo CD); as a
    validation, reports cluster-scoped kinds, which no environment's project may deploy. Reads the
    construct tree, not the rendered objects: kinds need no rendering (mechanics/tree.py)."""

    def __init__(self, environments: Sequence[Environment], projects: dict[str, AppProject]) -> None:
        self._environments = environments
        self._projects = projects
        self._written: dict[str, list[dict[str, str]]] = {}
        self._errors: list[str] = []

    def write(self) -> None:
        self._errors = []
        for env in self._environments:
            namespaced, cluster = group_kinds(api_version_kind(obj) for obj in api_objects(env))
            extra = sorted(kind for _, kind in cluster if kind != "Namespace")
            if extra:
                self._errors.append(f"environment {env.name!r} emits cluster-scoped {', '.join(extra)}: its AppProject "
                                    "allows only its own Namespace; deploy cluster-wide objects with the platform")
            whitelist = [{"group": group, "kind": kind} for group, kind in sorted(namespaced)]
            if self._written.get(env.name) != whitelist:
                self._projects[env.name].add_json_patch(patch_add("/spec/namespaceResourceWhitelist", whitelist))
                self._written[env.name] = whitelist

    def validate(self) -> list[str]:
        """What `write` found at this synthesis (an app that never completed is reported by its environments)."""
        return list(self._errors)

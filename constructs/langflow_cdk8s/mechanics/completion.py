"""What the library's charts do when the app synthesizes, before anything is rendered: each
Environment hardens what users added to it (hardening.py), GitOps allows the kinds the
environments now hold. `langflow_cdk8s.App` runs it before it writes; the charts' `to_json()`
before they render, so that `cdk8s.Testing.synth(chart)` writes what `make synth` writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import cdk8s

from constructs import Construct, IConstruct


class CompletingChart(cdk8s.Chart):
    """A chart of this library: `complete()` makes its objects final for this synthesis."""

    COMPLETION_ORDER: ClassVar[int] = 0
    """Charts complete in this order (lowest first)."""

    def complete(self) -> None:
        raise NotImplementedError

    def to_json(self) -> list[Any]:
        complete_app(self)
        return list(super().to_json())


def complete_app(scope: Construct) -> None:
    """Completes every chart of the app that `scope` belongs to: environments before GitOps, which
    reads the kinds they hold."""
    charts = list(_charts(scope.node.root))
    for chart in sorted(charts, key=lambda c: c.COMPLETION_ORDER):
        chart.complete()


def _charts(scope: IConstruct) -> Iterator[CompletingChart]:
    """The library's charts under `scope`, without walking into them (their objects are many)."""
    for child in scope.node.children:
        if isinstance(child, CompletingChart):
            yield child
        elif not isinstance(child, cdk8s.ApiObject):
            yield from _charts(child)


class App(cdk8s.App):
    """A cdk8s App that completes the library's charts before it writes (see module docstring).
    Takes cdk8s.App's props; `langflow_cdk8s.tooling.synth.new_app` makes the one main.py uses."""

    def synth(self) -> None:
        complete_app(self)
        super().synth()

    def synth_yaml(self) -> str:
        complete_app(self)
        return super().synth_yaml()

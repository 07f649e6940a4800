"""Create-or-update of ZenML components and stacks: change only what differs from the wish."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from src.errors import ServiceError

#: Configuration keys whose values are never printed.
_HIDDEN_KEYS = ("aws_secret_access_key", "secret_access_key", "tracking_password", "password")


@dataclass(frozen=True)
class Registration:
    """One object a set-up looked at, and what it did to it."""

    component: str
    name: str
    action: str  # created | updated | set | unchanged
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    @property
    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{'+' if self.changed else '='} {self.component} {self.name}: {self.action}{detail}"


def masked(values: Mapping[str, Any]) -> str:
    """Return ``key=value`` pairs with secret values shown as ``****``."""
    return ", ".join(f"{k}=****" if k in _HIDDEN_KEYS else f"{k}={v}" for k, v in values.items())


def ensure_component(
    client: Any, component_type: Any, name: str, flavor: str, configuration: dict[str, Any]
) -> Registration:
    """Return what was done to make component ``name`` exist with ``configuration``."""
    label = f"zenml {component_type.value.replace('_', '-')}"
    try:
        existing = client.get_stack_component(component_type, name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack_component(name, flavor, component_type, configuration)
        return Registration(label, name, "created", f"flavor {flavor}; {masked(configuration)}")
    if existing.flavor_name != flavor:
        raise ServiceError(
            f"{label} {name!r} exists with flavor {existing.flavor_name}, not "
            f"{flavor}; delete it (zenml {component_type.value.replace('_', '-')} delete "
            f"{name}) and set the stack up again"
        )
    stale = {k: v for k, v in configuration.items() if existing.configuration.get(k) != v}
    if not stale:
        return Registration(label, name, "unchanged")
    client.update_stack_component(name, component_type, configuration=stale)
    return Registration(label, name, "updated", masked(stale))


def ensure_stack(client: Any, name: str, components: Mapping[Any, str]) -> Registration:
    """Return what was done to make stack ``name`` exist with exactly ``components``."""
    described = ", ".join(f"{t.value}={n}" for t, n in components.items())
    try:
        stack = client.get_stack(name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(name, components=dict(components))
        return Registration("zenml stack", name, "created", described)
    current = {t: models[0].name for t, models in stack.components.items() if models}
    stale = {t: n for t, n in components.items() if current.get(t) != n}
    if not stale:
        return Registration("zenml stack", name, "unchanged")
    client.update_stack(name, component_updates=stale)
    return Registration(
        "zenml stack", name, "updated", ", ".join(f"{t.value}={n}" for t, n in stale.items())
    )


def ensure_active(client: Any, name: str) -> Registration:
    """Return what was done to make ``name`` the client's active stack."""
    if client.active_stack_model.name == name:
        return Registration("zenml active stack", name, "unchanged")
    client.activate_stack(name)
    return Registration("zenml active stack", name, "set")

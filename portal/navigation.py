"""Extension points through which later apps add to the core's pages without the core importing them.

Dependencies point one way (funding → certification → enterprises → portal), so
the core cannot ask the enterprises app whether a user acts for an enterprise.
Instead, each app registers, in its AppConfig.ready():

- a nav provider: (request) -> [(label, url), …] links for the main navigation;
- a dashboard provider: (request) -> [card, …] cards for the role landing page,
  where a card is {"title": str, "capabilities": [(Capability, url), …]}.
"""

from __future__ import annotations

from collections.abc import Callable

NAV_PROVIDERS: list[Callable] = []
DASHBOARD_PROVIDERS: list[Callable] = []


def nav_links(request) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    for provider in NAV_PROVIDERS:
        links += provider(request)
    return links


def dashboard_cards(request) -> list[dict]:
    cards: list[dict] = []
    for provider in DASHBOARD_PROVIDERS:
        cards += provider(request)
    return cards

"""Layout of the small relationship graph on the 360° pages (drawn as inline SVG by
``templates/panels/graph.pt``; no script, no external library)."""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 560, 360
RADIUS = 130
MAX_NODES = 12


@dataclass
class Node:
    key: tuple[str, int]
    label: str
    kind: str  # person / account
    url: str | None
    x: float = 0.0
    y: float = 0.0
    center: bool = False

    @property
    def short(self) -> str:
        return self.label if len(self.label) <= 22 else self.label[:21] + "…"


@dataclass
class Edge:
    source: Node
    target: Node
    label: str
    kind: str = "relationship"  # or "affiliation"

    @property
    def label_pos(self) -> tuple[float, float]:
        # At the middle of the line, lifted off it; away from both nodes' own labels.
        return (
            round((self.source.x + self.target.x) / 2, 1),
            round((self.source.y + self.target.y) / 2 - 5, 1),
        )


def layout(center: Node, neighbours: list[tuple[Node, str, str]]):
    """Place ``center`` in the middle and up to :data:`MAX_NODES` neighbours on a circle.

    ``neighbours`` are ``(node, edge label, edge kind)``; several edges to one node are
    merged into one line whose label joins theirs. Returns ``(nodes, edges, hidden)``.
    """
    center.x, center.y, center.center = WIDTH / 2, HEIGHT / 2, True
    merged: dict[tuple[str, int], tuple[Node, list[str], str]] = {}
    for node, label, kind in neighbours:
        if node.key == center.key:
            continue
        if node.key in merged:
            if label not in merged[node.key][1]:
                merged[node.key][1].append(label)
        else:
            merged[node.key] = (node, [label], kind)
    items = list(merged.values())
    shown, hidden = items[:MAX_NODES], len(items) - min(len(items), MAX_NODES)
    nodes, edges = [center], []
    n = max(len(shown), 1)
    for i, (node, labels, kind) in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        node.x = round(WIDTH / 2 + RADIUS * 1.55 * math.cos(angle), 1)
        node.y = round(HEIGHT / 2 + RADIUS * math.sin(angle), 1)
        nodes.append(node)
        edges.append(Edge(center, node, ", ".join(labels), kind))
    return nodes, edges, hidden

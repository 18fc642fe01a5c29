"""Voronoi cells of a jittered lattice: plausible, non-square grid outlines for the seeded city.

Each grid of the seeded city sits on one square of a lattice (grid/seeding.py
lays them out along a Hilbert curve, so a community's grids are one blob). Its
outline is the Voronoi cell of a point jittered inside that square: the cells
tile the plane without gaps or overlaps, every cell is convex and holds its
point, and neighbouring grids share their edges, so the map looks like streets
cut into blocks rather than a chessboard.

Why not scipy.spatial.Voronoi or shapely: neither is a dependency, both are
large compiled packages, and a jittered lattice needs none of their
generality. Each cell is a square clipped by the perpendicular bisectors
towards its neighbours (Sutherland–Hodgman against one half-plane at a time),
which is exact here by a short argument:

With jitter at most J (in lattice units) per axis, a point p of the cell of
seed s is no farther from s than from the seed of the square p lies in, so
|p - s| <= (1/2 + J)·√2 (1.13 for J = 0.3), and each coordinate of
p - centre(s) is at most 1.13 + J < 1.5, the starting square's half side. A
seed n bounds the cell only if |n - s| <= 2 × 1.13, so its square is at most
2.26 + 2J < 3 squares away on each axis: the 5 × 5 block around s. Every
lattice square in reach therefore needs a seed: squares without a grid get a
phantom seed (its cell is computed by nobody), including a two-square margin
round the layout, which gives the city a ragged edge as a side effect.

Cost: nearest neighbours first, and a bisector farther than the cell's current
radius is skipped without clipping; about ten clips per cell.
"""

from math import hypot

JITTER = 0.3
_REACH = 2  # the 5 × 5 block (see above)
_HALF = 1.5
_NEIGHBOURS = sorted(
    ((dx, dy) for dx in range(-_REACH, _REACH + 1) for dy in range(-_REACH, _REACH + 1) if dx or dy),
    key=lambda d: d[0] * d[0] + d[1] * d[1],
)


def _clip(polygon, a, b, c):
    """The part of a convex polygon [(x, y)] where a·x + b·y <= c."""
    out = []
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        d1, d2 = a * x1 + b * y1 - c, a * x2 + b * y2 - c
        if d1 <= 0:
            out.append((x1, y1))
        if (d1 < 0 < d2) or (d2 < 0 < d1):
            t = d1 / (d1 - d2)
            out.append((x1 + t * (x2 - x1), y1 + t * (y2 - y1)))
    return out


def jittered_seeds(cells, rng, *, jitter=JITTER):
    """{(x, y): seed point} for every lattice square in reach of `cells` (see the module docstring).

    The squares of `cells` are drawn first, in their order, so a cell's seed does not
    depend on how many phantom squares the layout needs.
    """
    seeds = {}
    for x, y in cells:
        seeds[(x, y)] = (x + 0.5 + rng.uniform(-jitter, jitter), y + 0.5 + rng.uniform(-jitter, jitter))
    xs, ys = [x for x, _ in cells], [y for _, y in cells]
    for x in range(min(xs) - _REACH, max(xs) + _REACH + 1):
        for y in range(min(ys) - _REACH, max(ys) + _REACH + 1):
            if (x, y) not in seeds:
                seeds[(x, y)] = (x + 0.5 + rng.uniform(-jitter, jitter), y + 0.5 + rng.uniform(-jitter, jitter))
    return seeds


def cell_of(square, seeds):
    """The Voronoi cell of the seed of lattice `square`: a convex polygon [(x, y)], counter-clockwise."""
    x, y = square
    sx, sy = seeds[square]
    cx, cy = x + 0.5, y + 0.5
    polygon = [(cx - _HALF, cy - _HALF), (cx + _HALF, cy - _HALF), (cx + _HALF, cy + _HALF), (cx - _HALF, cy + _HALF)]
    radius = max(hypot(px - sx, py - sy) for px, py in polygon)
    for dx, dy in _NEIGHBOURS:
        other = seeds.get((x + dx, y + dy))
        if other is None:
            continue
        nx, ny = other
        if hypot(nx - sx, ny - sy) / 2 >= radius:
            continue  # the bisector lies beyond every vertex
        # Points nearer s than n: (n - s)·p <= (|n|² - |s|²) / 2.
        a, b = nx - sx, ny - sy
        polygon = _clip(polygon, a, b, (nx * nx + ny * ny - sx * sx - sy * sy) / 2)
        radius = max(hypot(px - sx, py - sy) for px, py in polygon)
    return polygon


def centroid(polygon):
    """Area centroid of a simple polygon [(x, y)]."""
    area2 = cx = cy = 0.0
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        cross = x1 * y2 - x2 * y1
        area2 += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return cx / (3 * area2), cy / (3 * area2)


class PointSampler:
    """Uniform random points inside a convex polygon, kept off its edge (shrunk towards the centroid)."""

    def __init__(self, polygon, *, shrink=0.85):
        self.centre = centroid(polygon)
        self.shrink = shrink
        ox, oy = self.centre
        self.triangles = []
        total = 0.0
        count = len(polygon)
        for i in range(count):
            (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % count]
            ux, uy, vx, vy = x1 - ox, y1 - oy, x2 - ox, y2 - oy
            total += abs(ux * vy - uy * vx) / 2
            self.triangles.append((total, ux, uy, vx, vy))
        self.total = total

    def point(self, rng):
        pick = rng.random() * self.total
        for upto, ux, uy, vx, vy in self.triangles:
            if pick <= upto:
                break
        r, t = rng.random() ** 0.5, rng.random()
        a, b = r * (1 - t), r * t
        ox, oy = self.centre
        return ox + self.shrink * (a * ux + b * vx), oy + self.shrink * (a * uy + b * vy)

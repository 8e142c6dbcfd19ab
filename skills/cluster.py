"""Ray for the other packages (the bench, the CLI): the public names of ``skills._ray``.

:func:`init` starts or joins Ray, :func:`map_tasks` runs a function over items on worker
processes with retries, :func:`pack_folder` / :func:`unpack_folder` carry a folder between a
worker's disk and the driver's; :func:`require_ray` raises :class:`RayMissing` (one line)
where Ray is not installed. Ray itself is imported only when one of them is called.
"""

from __future__ import annotations

from skills._ray import (
    INSTALL_HINT,
    RETRIES,
    RayMissing,
    RayTaskLost,
    Retry,
    cluster_cpus,
    init,
    map_tasks,
    pack_folder,
    require_ray,
    unpack_folder,
)

__all__ = [
    "INSTALL_HINT",
    "RETRIES",
    "RayMissing",
    "RayTaskLost",
    "Retry",
    "cluster_cpus",
    "init",
    "map_tasks",
    "pack_folder",
    "require_ray",
    "unpack_folder",
]

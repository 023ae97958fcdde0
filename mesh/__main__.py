"""python -m mesh: the same as the `jobmesh` console script."""

from mesh.cli import main

main()

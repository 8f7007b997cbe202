#!/usr/bin/env bash
# Make the pictures README.md shows under "Pictures", against the engine at $DOCKER_HOST
# (e.g. a private one: scripts/engine.sh start /tmp/pictures): build the example image,
# apply examples/pictures/shop as it is, then draw the next release's plan.
#   examples/pictures/draw.sh     writes examples/pictures/shop.svg and shop.mmd
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
DOCKER_BUILDKIT=0 docker build -q -t volplan-example/redis-like:7 \
  -f ../images/redis-like.Dockerfile ../images >/dev/null
volplan apply shop --yes >/dev/null
export RELEASE=2 CACHE_STATE=running
volplan graph shop --format dot | dot -Tsvg >shop.svg
volplan graph shop --format mermaid >shop.mmd

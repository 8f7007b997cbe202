#!/bin/sh
# Like postgres's docker-entrypoint.sh: initialise the data folder only when it is empty
# (a new cluster gets a new identity in PG_VERSION), then run the server.
set -e
if [ -z "$(ls -A "$PGDATA")" ]; then
  cat /proc/sys/kernel/random/uuid > "$PGDATA/PG_VERSION"
fi
exec "$@"

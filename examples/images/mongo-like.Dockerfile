# Configured like mongo:7: two image volumes, one written once, one at every start.
FROM busybox:latest
COPY serve /usr/local/bin/serve
VOLUME /data/db /data/configdb
CMD ["sh", "-c", "[ -e /data/configdb/id ] || cat /proc/sys/kernel/random/uuid > /data/configdb/id; exec serve /data/db/journal"]

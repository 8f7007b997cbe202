# Configured like postgres:17: its data folder is an image volume, SIGINT stops it.
FROM busybox:latest
ENV PGDATA=/var/lib/postgresql/data
COPY serve /usr/local/bin/serve
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve", "/var/lib/postgresql/data/server.log"]

# Configured like redis:7: /data is an image volume and the working directory.
FROM busybox:latest
COPY serve /usr/local/bin/serve
VOLUME /data
WORKDIR /data
CMD ["serve", "appendonly.aof"]

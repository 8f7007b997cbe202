# Configured like nginx: SIGQUIT stops it (a graceful shutdown); it declares no volume.
FROM busybox:latest
COPY serve /usr/local/bin/serve
RUN mkdir -p /var/log/nginx
STOPSIGNAL SIGQUIT
CMD ["serve", "/var/log/nginx/access.log"]

# Configured like nginx: SIGQUIT stops it (a graceful shutdown); it declares no volume.
# The healthcheck is an image default a spec leaves out, as with many service images.
FROM busybox:latest
COPY serve /usr/local/bin/serve
RUN mkdir -p /var/log/nginx
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=2s --timeout=2s CMD test -s /var/log/nginx/access.log
CMD ["serve", "/var/log/nginx/access.log"]

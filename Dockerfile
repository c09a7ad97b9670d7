# syntax=docker/dockerfile:1
# The Mentorship server as a static binary on an empty base image, run as
# an unprivileged user, with its data directory as a volume.
#   docker build -t mentorship .
#   docker run -p 8080:8080 -v mentorship-data:/data -e MENTORSHIP_ENV=production mentorship
# Settings are MENTORSHIP_* environment variables (see the README).

FROM docker.io/library/golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0 makes a static binary that needs no C library. The time
# zone database is compiled in (config imports time/tzdata); the CA
# certificates, for SMTP over TLS and S3, are copied below.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/mentorship ./cmd/mentorship
# The final image's files, laid out as a tree so that each directory keeps
# its mode: root owns the binary and the certificates (read-only), /tmp is
# world-writable and sticky (uploads over 1 MiB are buffered there), and
# the data directory belongs to the unprivileged user.
RUN mkdir -p /out/root/usr/local/bin /out/root/etc/ssl/certs /out/root/tmp /out/data/data && \
    install -m 0555 /out/mentorship /out/root/usr/local/bin/mentorship && \
    install -m 0444 /etc/ssl/certs/ca-certificates.crt /out/root/etc/ssl/certs/ca-certificates.crt && \
    chmod 1777 /out/root/tmp && chmod 0700 /out/data/data

FROM scratch
COPY --from=build /out/root/ /
COPY --from=build --chown=65532:65532 /out/data/ /
USER 65532:65532
ENV MENTORSHIP_ADDR=0.0.0.0:8080 \
    MENTORSHIP_DATA_DIR=/data \
    MENTORSHIP_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080/tcp
# `mentorship health` probes /readyz at MENTORSHIP_ADDR; the image has no
# shell and no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/mentorship", "health"]
ENTRYPOINT ["/usr/local/bin/mentorship"]
CMD ["serve"]

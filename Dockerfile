# Multi-stage build: compile the release binary, then run it on a slim
# Debian as a non-root user with its data in the /data volume.
#   docker build -t palaver .
#   docker run -p 8080:8080 -v palaver-data:/data palaver
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock clippy.toml diesel.toml ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN cargo build --release --locked --bin palaver

FROM debian:bookworm-slim
# curl only for the HEALTHCHECK below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin palaver \
    && mkdir -p /data && chown palaver:palaver /data
COPY --from=build /src/target/release/palaver /usr/local/bin/palaver
USER palaver
ENV CHAT_BIND=0.0.0.0:8080 \
    CHAT_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM (docker stop) closes WebSockets with 1001 and flushes writes.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/palaver"]
CMD ["serve"]

# fgclip2-server image. The jar is built outside (./mvnw package, or ./mvnw -Pgpu package for CUDA):
#
#   GPU: docker build -t fgclip2-server:gpu .            (CUDA 12 + cuDNN 9 base, onnxruntime_gpu jar)
#   CPU: docker build -t fgclip2-server:cpu --build-arg BASE_IMAGE=<a Debian or Ubuntu image, with or without Java> .
#
# Runs with a read-only root filesystem: only /tmp and /var/cache/fgclip2 are written; the model is a mount.
ARG BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

FROM ${BASE_IMAGE} AS runtime
# The CUDA images have no Java: install a headless JRE 17 from the base's own apt sources when none is there.
# The unpack stage needs the jdk.jartool module, which Debian's and Ubuntu's JRE packages include.
RUN if ! command -v java >/dev/null 2>&1; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && java -version
# A fixed numeric user, so Kubernetes can check runAsNonRoot; its home is the cache volume.
RUN useradd --system --uid 10001 --user-group --home-dir /var/cache/fgclip2 --no-create-home \
      --shell /usr/sbin/nologin fgclip2 \
    && mkdir -p /var/cache/fgclip2 /models \
    && chown 10001:10001 /var/cache/fgclip2

FROM runtime AS unpack
# lets tests remove this stage's intermediate images, which the classic builder leaves behind
LABEL ai.fgclip2.build-stage=unpack
WORKDIR /build
COPY target/fgclip2-server.jar src/main/docker/unpack.sh ./
RUN sh unpack.sh fgclip2-server.jar /build/out

FROM runtime
# Least-changing first: native libraries, then the Spring Boot layers.
COPY --from=unpack /build/out/native/ /opt/fgclip2/native/
COPY --from=unpack /build/out/layers/dependencies/ /opt/fgclip2/app/
COPY --from=unpack /build/out/layers/spring-boot-loader/ /opt/fgclip2/app/
COPY --from=unpack /build/out/layers/snapshot-dependencies/ /opt/fgclip2/app/
COPY --from=unpack /build/out/layers/application/ /opt/fgclip2/app/
COPY src/main/docker/fgclip2 /opt/fgclip2/bin/fgclip2

# DJL_OFFLINE / OPT_OUT_TRACKING: no telemetry probe, no download of another tokenizer build.
# ORT_DISABLE_TELEMETRY: ONNX Runtime 1.29's Linux build otherwise starts an event uploader (to a Microsoft
# collector) and writes a device id and event store under ~/.cache and a session file in /tmp.
# RUST_LIBRARY_PATH: DJL loads the tokenizer library from the image instead of copying it to DJL_CACHE_DIR.
# JAVA_OPTS: the heap is a minority of the memory because ONNX Runtime keeps weights and activations
# off-heap; it is sized once and touched at start (initial = max, pre-touched) so resident memory is flat under
# load instead of following the collector; a full heap ends the JVM so the orchestrator restarts it.
ENV LANG=C.UTF-8 \
    PATH=/opt/fgclip2/bin:$PATH \
    DJL_OFFLINE=true \
    OPT_OUT_TRACKING=true \
    ORT_DISABLE_TELEMETRY=1 \
    RUST_LIBRARY_PATH=/opt/fgclip2/native/djl/libtokenizers.so \
    DJL_CACHE_DIR=/var/cache/fgclip2/djl \
    FGCLIP2_CACHE_DIR=/var/cache/fgclip2 \
    FGCLIP2_ENGINE_PROVIDER=auto \
    JAVA_OPTS="-XX:InitialRAMPercentage=40 -XX:MaxRAMPercentage=40 -XX:+AlwaysPreTouch -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData -Dfile.encoding=UTF-8"

USER 10001:10001
WORKDIR /var/cache/fgclip2
EXPOSE 8080
VOLUME ["/tmp", "/var/cache/fgclip2"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/fgclip2/bin/fgclip2"]
CMD ["serve"]

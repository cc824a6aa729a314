# One image for every role; ROLE picks what a container runs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install step fetches CUDA provider files from NuGet; `skip` keeps the
# build offline and CPU-only, `cuda12` fetches them for GPU images.
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL}
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

# Limitation: this base image has no CUDA 12 or cuDNN 9 libraries, so INFERENCE_CUDA_ENABLED
# falls back to the CPU here; a GPU image needs an nvidia/cuda runtime base with Node.js 20.
FROM node:20-bookworm-slim
# pdftotext extracts PDF text in reading order; tini forwards SIGTERM to node.
RUN apt-get update \
  && apt-get install -y --no-install-recommends poppler-utils tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOSTNAME=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data \
    HF_HOME=/models
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data /models && chown 10001:10001 /data /models
USER 10001:10001
EXPOSE 8080 8081 8090
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]

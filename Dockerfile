# The one image of every vidflux process (compose.yaml: API, worker, migrate). ffmpeg 5.1 from
# Debian, util-linux for prlimit (FFMPEG_MEMORY_LIMIT).
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg util-linux \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# npm ci builds the web client (prepare); the server is built here so start-up builds nothing
RUN npm ci && npm run build && mkdir -p /data/uploads && chown -R node:node /data
USER node
ENV NODE_ENV=production DATA_DIR=/data
EXPOSE 8000
CMD ["npm", "start"]

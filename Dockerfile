# Switchboard node. Build: docker build -t switchboard .
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# better-sqlite3 compiles when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client-sdk/package.json client-sdk/
COPY demo-app/package.json demo-app/
COPY node-sdk/package.json node-sdk/
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV PORT=3000 HOST=0.0.0.0 DATA_DIR=/data
# Owned by the unprivileged user, so a fresh volume can hold the database and generated keys.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 3000
USER node
CMD ["npm", "start"]

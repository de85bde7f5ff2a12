# The image of docs/sweeps.md's Kubernetes Indexed Job: this repository installed exactly as
# README's quick start does (npm ci, which builds in `prepare`, then npm link for the `fleetsim`
# command); test/dockerfile.test.ts checks these RUN steps are the README's.
#   docker build -t registry.example.com/fleetsim:0.1.0 .
FROM node:20-slim
WORKDIR /opt/fleetsim
COPY . .
RUN npm ci
RUN npm link
ENTRYPOINT ["fleetsim"]

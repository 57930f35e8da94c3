# The Orleans.Rft silo with the CUDA TorchSharp backend, for GPU nodes. Build from the repository root:
#   docker build -f infra/docker/silo-cuda.Dockerfile -t orleans-rft/silo-cuda:dev .
# The one backend switch is the MSBuild property TorchBackend (Directory.Build.props): cuda references
# libtorch-cuda-12.8-linux-x64 instead of libtorch-cpu-linux-x64. That package bundles libtorch's CUDA
# libraries; the node needs an NVIDIA driver for CUDA 12.8 and the NVIDIA device plugin (nvidia.com/gpu).
#
# Ubuntu 24.04 bases throughout, as in silo.Dockerfile: their libstdc++ has the GLIBCXX_3.4.32 that
# TorchSharp's native library asks for, so no patching.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
# The silo's build bundles the dashboard's charting library from npm (silo/Orleans.Rft.Silo.csproj runs npm ci).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY grain-interfaces/Orleans.Rft.GrainInterfaces.csproj grain-interfaces/
COPY engine/Orleans.Rft.Engine.csproj engine/
COPY evaluators/Orleans.Rft.Evaluators.csproj evaluators/
COPY agents/Orleans.Rft.Agents.csproj agents/
COPY grains/Orleans.Rft.Grains.csproj grains/
COPY silo/Orleans.Rft.Silo.csproj silo/
RUN dotnet restore silo/Orleans.Rft.Silo.csproj -p:TorchBackend=cuda
COPY grain-interfaces/ grain-interfaces/
COPY engine/ engine/
COPY evaluators/ evaluators/
COPY agents/ agents/
COPY grains/ grains/
COPY silo/ silo/
RUN dotnet publish silo/Orleans.Rft.Silo.csproj -c Release --no-restore -p:TorchBackend=cuda -o /app

# The ASP.NET Core runtime, taken from Microsoft's noble image, goes onto NVIDIA's CUDA runtime base.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS dotnet

FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04 AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3t64 zlib1g python3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app && useradd --uid 1654 --gid app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app /data
ENV DOTNET_RUNNING_IN_CONTAINER=true \
    Rft__ArtifactsPath=/data/artifacts \
    Rft__ArtifactCachePath=/data/cache \
    Rft__Python=/usr/bin/python3 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=build /app ./
USER 1654
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "rft-silo.dll"]

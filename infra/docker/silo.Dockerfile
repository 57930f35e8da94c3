# The Orleans.Rft silo, CPU backend. Build from the repository root:
#   docker build -f infra/docker/silo.Dockerfile -t orleans-rft/silo:dev .
#
# Base images: the Ubuntu 24.04 ("noble") tags, not the default Debian 12 ones. TorchSharp 0.107's
# libLibTorchSharp.so needs GLIBCXX_3.4.32; Debian 12's libstdc++ stops at 3.4.30, which is why a build
# on Debian 12 patches the library (build/LibTorchSharpGlibcxxFix.targets). Noble's libstdc++ (GCC 14)
# has it, so that step is a no-op in this build stage and the runtime image loads the library unpatched.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
# The silo's build bundles the dashboard's charting library from npm (silo/Orleans.Rft.Silo.csproj runs npm ci).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project files alone, so a source change does not download libtorch again.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY grain-interfaces/Orleans.Rft.GrainInterfaces.csproj grain-interfaces/
COPY engine/Orleans.Rft.Engine.csproj engine/
COPY evaluators/Orleans.Rft.Evaluators.csproj evaluators/
COPY agents/Orleans.Rft.Agents.csproj agents/
COPY grains/Orleans.Rft.Grains.csproj grains/
COPY silo/Orleans.Rft.Silo.csproj silo/
RUN dotnet restore silo/Orleans.Rft.Silo.csproj
COPY grain-interfaces/ grain-interfaces/
COPY engine/ engine/
COPY evaluators/ evaluators/
COPY agents/ agents/
COPY grains/ grains/
COPY silo/ silo/
RUN dotnet publish silo/Orleans.Rft.Silo.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
# python3 runs `python` evaluators (Rft:Python); the image has no other interpreter.
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# Artifacts (local store) and the blob cache live under /data: mount a volume there, writable by the app user.
RUN mkdir -p /data && chown "$APP_UID" /data
ENV Rft__ArtifactsPath=/data/artifacts \
    Rft__ArtifactCachePath=/data/cache \
    Rft__Python=/usr/bin/python3
# The non-root user the .NET images ship (UID 1654).
USER $APP_UID
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "rft-silo.dll"]

# The rft console, for jobs run from inside the cluster's network (a Kubernetes Job, CI):
#   docker build -f infra/docker/console.Dockerfile -t orleans-rft/console:dev .
#   docker run --rm -e RFT_AZURE_STORAGE=... orleans-rft/console:dev status
# Ubuntu 24.04 ("noble") bases for the same reason as silo.Dockerfile: the console loads TorchSharp
# (rft run, model and dataset commands), whose native library needs GLIBCXX_3.4.32, which Debian 12 lacks.

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
COPY client/Orleans.Rft.Client.csproj client/
RUN dotnet restore client/Orleans.Rft.Client.csproj
COPY grain-interfaces/ grain-interfaces/
COPY engine/ engine/
COPY evaluators/ evaluators/
COPY agents/ agents/
COPY grains/ grains/
COPY silo/ silo/
COPY client/ client/
RUN dotnet publish client/Orleans.Rft.Client.csproj -c Release --no-restore -o /app

# The console references the silo project (rft run, rft serve host one in-process), and with it ASP.NET
# Core: the plain runtime image would lack Microsoft.AspNetCore.App, so this is aspnet:10.0, not runtime:10.0.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# rft run writes .rft/ under the working directory: one the app user owns (mount a volume to keep it).
RUN mkdir -p /work && chown "$APP_UID" /work
USER $APP_UID
WORKDIR /work
ENTRYPOINT ["dotnet", "/app/rft.dll"]

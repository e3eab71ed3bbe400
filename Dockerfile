# Build and run EvidenceApi. Context: the repository root (the build needs db/ and seeds/).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig EvidenceApi.sln ./
COPY src/EvidenceApi/EvidenceApi.csproj src/EvidenceApi/
RUN dotnet restore src/EvidenceApi/EvidenceApi.csproj
COPY db/ db/
COPY seeds/ seeds/
COPY src/ src/
RUN dotnet publish src/EvidenceApi/EvidenceApi.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "EvidenceApi.dll"]

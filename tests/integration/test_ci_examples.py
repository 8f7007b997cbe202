"""The CI examples (examples/ci/) run, so they cannot rot: each job's shell, with the
variables the forge sets, against the private engine, and the comment they post sent to
a loopback HTTP server standing in for the forge's API.

What the test cannot run is the forge's own part: ``uses:`` actions (checkout, artifacts:
the jobs here share one workspace instead), ``${{ }}`` expressions in ``env:`` (resolved
from a table below; none may appear in a script, where they would be an injection), and
which jobs an event starts (each job's condition is checked as text, then its script run).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.engine import Engine

pytestmark = pytest.mark.engine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
SPEC = """\
    version: 1
    project: infra
    volumes:
      data: {}
    containers:
      app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["data:/data"]
    """
POLICY = "version: 1\nvariables: {allow: []}\n"
TOKEN = "forge-token-for-the-test"
GITHUB_EXPRESSIONS = {"github.token": TOKEN, "github.event.pull_request.number": "7"}


@dataclass(frozen=True)
class Posted:
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Forge:
    url: str
    posted: list[Posted] = field(default_factory=list)


@pytest.fixture
def forge() -> Iterator[Forge]:
    """An HTTP server on 127.0.0.1 that records every POST and answers 201."""
    recorded = Forge("")

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            recorded.posted.append(Posted(self.path, dict(self.headers.items()), body))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": 1}')

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what was posted, not the server's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _workspace(tmp_path: Path) -> Path:
    """A checkout of an infrastructure repository: specs/ and the CI's policy outside it."""
    (tmp_path / "specs").mkdir(parents=True)
    (tmp_path / "specs" / "infra.yaml").write_text(textwrap.dedent(SPEC))
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "volplan.policy.yaml").write_text(POLICY)
    return tmp_path


def _base_env(engine: Engine, workspace: Path) -> dict[str, str]:
    keep = {"HOME", "LANG", "VOLPLAN_CACHE_DIR"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    return env | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DOCKER_HOST": engine.host,
        "CI": "true",
        "NO_COLOR": "1",
        "PWD": str(workspace),
    }


def _bash(script: str, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The script as the runners run it: a file, given to bash with -e and pipefail."""
    path = cwd.parent / f"step-{abs(hash(script))}.sh"
    path.write_text(script)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", path],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _load(name: str) -> Any:
    return YAML(typ="safe").load((EXAMPLES / name).read_text())


def _github_expression(value: str) -> str:
    def resolve(found: re.Match[str]) -> str:
        return GITHUB_EXPRESSIONS[found.group(1).strip()]

    return re.sub(r"\$\{\{(.*?)\}\}", resolve, value)


def _run_github_job(
    workflow: Any, job: str, env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Every ``run:`` step of the job in order, stopping at the first that fails."""
    done = subprocess.CompletedProcess[str]([], 0, "", "")
    for step in workflow["jobs"][job]["steps"]:
        if "run" not in step:
            continue
        assert "${{" not in step["run"], f"{job}: an expression inside a script"
        step_env = {k: _github_expression(str(v)) for k, v in step.get("env", {}).items()}
        done = _bash(step["run"], {**env, **workflow["env"], **step_env}, cwd)
        if done.returncode != 0:
            return done
    return done


def test_the_github_workflow_plans_comments_applies_and_checks_drift(
    clean_engine: Engine, forge: Forge, tmp_path: Path
) -> None:
    workflow = _load("github-actions.yml")
    jobs = workflow["jobs"]
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["save-plan"]["if"] == "github.event_name == 'push'"
    assert jobs["apply"]["needs"] == "save-plan"
    assert jobs["drift"]["if"] == "github.event_name == 'schedule'"
    workspace = _workspace(tmp_path / "checkout")
    summary = tmp_path / "step-summary.md"
    env = _base_env(clean_engine, workspace) | {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": forge.url,
        "GITHUB_REPOSITORY": "acme/infra",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
    }

    pull_request = _run_github_job(
        workflow, "plan", env | {"GITHUB_EVENT_NAME": "pull_request"}, workspace
    )
    assert pull_request.returncode == 0, pull_request.stdout + pull_request.stderr
    _check_plan_and_comment(workspace, forge, "/repos/acme/infra/issues/7/comments")
    assert forge.posted[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert summary.read_text() == (workspace / "report.md").read_text()

    _merge_then_drift(
        clean_engine,
        lambda job, event: _run_github_job(workflow, job, {**env, **event}, workspace),
        push={"GITHUB_EVENT_NAME": "push"},
        schedule={"GITHUB_EVENT_NAME": "schedule"},
    )
    assert "container.app" in summary.read_text().split("## volplan drift")[-1]


def _run_gitlab_job(
    pipeline: Any, job: str, env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The job's script lines, in one shell as the runner runs them."""
    return _bash("\n".join(pipeline[job]["script"]) + "\n", {**env, **pipeline["variables"]}, cwd)


def test_the_gitlab_pipeline_plans_comments_applies_and_checks_drift(
    clean_engine: Engine, forge: Forge, tmp_path: Path
) -> None:
    pipeline = _load("gitlab-ci.yml")
    conditions = {job: pipeline[job]["rules"][0]["if"] for job in ("plan", "save-plan", "drift")}
    assert conditions == {
        "plan": '$CI_PIPELINE_SOURCE == "merge_request_event"',
        "save-plan": '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
        "drift": '$CI_PIPELINE_SOURCE == "schedule"',
    }
    assert pipeline["apply"]["needs"] == ["save-plan"]
    workspace = _workspace(tmp_path / "checkout")
    env = _base_env(clean_engine, workspace) | {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": f"{forge.url}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_DIR": str(workspace),
        "CI_DEFAULT_BRANCH": "main",
        "VOLPLAN_GITLAB_TOKEN": TOKEN,
    }
    merge_request = env | {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"}
    planned = _run_gitlab_job(pipeline, "plan", merge_request, workspace)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    _check_plan_and_comment(workspace, forge, "/api/v4/projects/42/merge_requests/7/notes")
    assert forge.posted[0].headers["PRIVATE-TOKEN"] == TOKEN

    drifted = _merge_then_drift(
        clean_engine,
        lambda job, event: _run_gitlab_job(pipeline, job, {**env, **event}, workspace),
        push={"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"},
        schedule={"CI_PIPELINE_SOURCE": "schedule"},
    )
    assert "container.app" in drifted.stdout


def _check_plan_and_comment(workspace: Path, forge: Forge, path: str) -> None:
    """The JSON plan was saved, and the markdown report posted, once, as the comment."""
    plan = json.loads((workspace / "plan.json").read_text())
    assert {a["address"] for a in plan["resource_changes"]} >= {"volume.data", "container.app"}
    report = (workspace / "report.md").read_text()
    assert report.startswith("## volplan drift")
    assert [p.path for p in forge.posted] == [path]
    assert json.loads(forge.posted[0].body) == {"body": report}


Job = Callable[[str, Mapping[str, str]], subprocess.CompletedProcess[str]]
"""Runs a job of the pipeline by name, with the event's variables added."""


def _merge_then_drift(
    engine: Engine, run_job: Job, *, push: Mapping[str, str], schedule: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """On merge the saved plan is made and applied; the scheduled drift check then passes,
    and fails (exit 2) once a container is removed by hand. Returns that failed check."""
    for job in ("save-plan", "apply"):
        merged = run_job(job, push)
        assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "data" in engine.volume_names()
    assert engine.inspect_container("app")["State"]["Running"] is True
    assert run_job("drift", schedule).returncode == 0
    engine.client.remove_container("app", force=True)
    drifted = run_job("drift", schedule)
    assert drifted.returncode == 2, drifted.stdout + drifted.stderr
    return drifted

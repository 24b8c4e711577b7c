"""The trust boundary, attacked the way a student who has read the grader would.

Each test grades a submission that exploits one hole the sandbox used to
have, and checks that it no longer works:

* the answer key (probe files, hidden tests, constant answers) must not be
  readable inside the sandbox, nor leak out through feedback encoded;
* links left in ``submitted/`` must not be followed by a trusted step;
* a grader killed mid-run must take its sandboxes with it, and its
  folders and cgroups must be swept;
* a submission's processes must share one CPU weight, whatever sessions
  they start.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zlib
from pathlib import Path

import mini_course
import pytest
from mini_course import ASSIGNMENT, HIDDEN_MARK

from autograder import sandbox
from autograder.demo.hostile import make_hostile
from autograder.grading import workdirs
from autograder.grading.grade import grade_submission
from autograder.grading.record import Recorder
from autograder.sandbox import Limits
from autograder.sandbox.cgroups import CPU_SHARES, PREFIX

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox.namespaces_available(),
                       reason="the trust boundary needs the full sandbox (root and unshare)"),
]

LIMITS = Limits(cell_seconds=8, submission_seconds=60, memory_bytes=768 * sandbox.MiB,
                max_processes=48, output_bytes=256 * 1024, disk_bytes=64 * sandbox.MiB)
SEED = 17
JUDGE_MARK = "judge_only_constant_5521"
SECRET_ANSWER = 4217  # never shown to the student: only the hidden test and the judge know it
# The notebook-only question, asked with a hidden answer this time.
HIDDEN_ANSWER_TEST = ("assert answer is not None, 'answer the question first'\n"
                      "### BEGIN HIDDEN TESTS\n"
                      f"assert answer == {SECRET_ANSWER}\n"
                      "### END HIDDEN TESTS\n")
ANSWER_PROBE = f'''

{JUDGE_MARK} = "this line lives only in judge.py"
ANSWER_PROBES = [AnswerProbe("test_notebook_only", "answer", ("answer",),
                             lambda lib, inputs: {{"answer": {SECRET_ANSWER}}})]
'''


def _course(root: Path) -> tuple[Path, Path, dict[str, Path]]:
    course, reflib = mini_course.make_mini_course(root)
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(source.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_notebook_only":
            cell["source"] = HIDDEN_ANSWER_TEST
    source.write_text(json.dumps(nb))
    judge = course / "probes" / ASSIGNMENT / "judge.py"
    judge.write_text(judge.read_text().replace(
        "from autograder.grading.probes import Probe",
        "from autograder.grading.probes import AnswerProbe, Probe") + ANSWER_PROBE)
    bases = mini_course.honest_bases(course, root / "honest")
    return course, reflib, bases


@pytest.fixture(scope="module")
def world():
    root = Path(tempfile.mkdtemp(prefix="trust-"))
    os.chmod(root, 0o755)
    course, reflib, bases = _course(root)
    yield root, course, reflib, bases
    shutil.rmtree(root, ignore_errors=True)


def _hostile(world, kind: str, base: str, student: str) -> None:
    _, course, reflib, bases = world
    make_hostile(bases[base], course / "submitted" / student / ASSIGNMENT, kind,
                 assignment=ASSIGNMENT, course_root=course, reference_lib_dir=reflib)


def _outputs_text(result: dict) -> str:
    text = []
    for cell in (result.get("notebook") or {}).get("cells", []):
        for out in cell.get("outputs", []):
            text.append(json.dumps(out))
    return "\n".join(text)


def _decoded_leaks(text: str) -> list[str]:
    found = []
    for blob in re.findall(r"LEAKED \S+ ([A-Za-z0-9+/=]{8,})", text):
        try:
            found.append(zlib.decompress(base64.b64decode(blob)).decode("utf-8", "replace"))
        except (ValueError, zlib.error):
            continue
    return found


# --------------------------------------------------------------- the answer key

def test_nothing_that_decides_a_score_is_readable_in_the_sandbox(world):
    _, course, reflib, _ = world
    _hostile(world, "steal_answer_key", "release", "mallory")
    r = grade_submission(course, ASSIGNMENT, "mallory", limits=LIMITS, seed=SEED,
                         reference_lib=reflib)
    assert r["status"] == "graded", r
    text = _outputs_text(r)
    # The search ran, and found nothing of the course or the grader's folder to steal
    # (what it may find elsewhere is public: no secret is in it, checked below).
    assert "searched" in text and "leak(s)" in text, text[-3000:]
    assert f"LEAKED {workdirs.WORK_ROOT}" not in text and f"LEAKED {course}" not in text
    for leak in _decoded_leaks(text):
        for secret in (HIDDEN_MARK, JUDGE_MARK, str(SECRET_ANSWER)):
            assert secret not in leak, leak[:300]
    for secret in (HIDDEN_MARK, JUDGE_MARK, str(SECRET_ANSWER)):
        assert secret not in json.dumps(r)
    rows = {c["grade_id"]: c for c in r["cells"]}
    assert rows["test_notebook_only"]["points"] == 0.0
    assert r["score"] == 0.0


def test_an_honest_answer_still_earns_its_points(world):
    """The hidden answer is still checked, outside: the right value passes."""
    _, course, reflib, bases = world
    folder = course / "submitted" / "honest" / ASSIGNMENT
    shutil.copytree(bases["reference"], folder)
    nb_file = folder / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(nb_file.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer":
            cell["source"] = f"answer = {SECRET_ANSWER}\n"
    nb_file.write_text(json.dumps(nb))
    r = grade_submission(course, ASSIGNMENT, "honest", limits=LIMITS, seed=SEED,
                         reference_lib=reflib)
    assert r["score"] == r["max_score"], r["cells"]


# ------------------------------------------------------------- links in submitted/

def test_links_left_in_submitted_are_never_followed(world):
    _, course, reflib, _ = world
    _hostile(world, "planted_links", "reference", "linker")
    os.environ["CS231N_TEST_CANARY"] = "instructor-token-77c1"
    r = grade_submission(course, ASSIGNMENT, "linker", limits=LIMITS, seed=SEED,
                         reference_lib=reflib)
    library = [c for c in r["cells"] if c["grade_id"] in ("test_scale", "test_shift")]
    assert all(c["points"] == c["max_points"] for c in library), r["cells"]
    assert any("timestamp.txt" in n and "symbolic link" in n for n in r["notes"]), r["notes"]
    (course / "gradebook.db").unlink(missing_ok=True)  # the mini course's stand-in
    recorder = Recorder(course)
    try:
        recorder.record(r)
    finally:
        recorder.close()
    autograded = course / "autograded" / "linker" / ASSIGNMENT
    assert autograded.is_dir()
    for path in autograded.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PATH=" not in data and b"root:x:0:0" not in data, path
    assert not (autograded / "timestamp.txt").exists()


# ----------------------------------------------------------- a grader killed mid-run

KILLED_GRADER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from autograder.grading.grade import grade_submission
    from autograder.sandbox import Limits
    grade_submission({course!r}, {assignment!r}, "looper", work_root={work!r},
                     reference_lib={reflib!r}, warm={warm!r},
                     limits=Limits(cell_seconds=100, submission_seconds=110))
""")


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _uid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if os.path.exists(f"/proc/{p}") and _state(p) != "Z"}


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
        return data[data.rindex(b")") + 2:].split()[0].decode()
    except OSError:
        return "gone"


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_killed_grader_takes_its_sandbox_with_it(world, tmp_path, warm):
    _, course, reflib, _ = world
    _hostile(world, "infinite_loop", "reference", "looper")
    work = tmp_path / "work"
    script = KILLED_GRADER.format(tests=str(Path(__file__).parent), course=str(course),
                                  assignment=ASSIGNMENT, work=str(work), reflib=str(reflib),
                                  warm=warm)
    grader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        sandboxed: set[int] = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and grader.poll() is None:
            sandboxed = {p for p in _descendants(grader.pid)
                         if (_uid_of(p) or 0) >= sandbox.UID_BASE}
            if len(sandboxed) >= 2:  # the runner and the kernel, looping
                break
            time.sleep(0.2)
        assert sandboxed, "the sandbox never started"
        time.sleep(1.0)
        everything = _descendants(grader.pid)
        uids = {_uid_of(p) for p in sandboxed}
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        deadline = time.monotonic() + 15
        while _alive(everything) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(everything), "the sandbox outlived its grader"
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
    left = [p.name for p in work.iterdir()]
    assert left and all(name.startswith(f"grade-{grader.pid}_") for name in left)
    removed = workdirs.sweep(work)
    assert not list(work.iterdir()), removed
    for uid in uids:
        for controller in ("memory", "pids", "cpu"):
            own = sandbox.cgroups._own_cgroup(controller)
            if own:
                assert not os.path.exists(os.path.join(own, f"{PREFIX}{uid}")), removed


def test_sweep_keeps_the_folders_of_live_graders(tmp_path):
    with workdirs.grading_folder(tmp_path) as mine:
        dead = tmp_path / "grade-999999999_1_abc"
        dead.mkdir()
        (dead / "inputs.npz").write_bytes(b"probe inputs")
        removed = workdirs.sweep(tmp_path)
        assert mine.is_dir() and not dead.exists()
        assert str(dead) in removed


# ------------------------------------------------------------------- CPU weight

def _cpu_cgroup(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cgroup") as fh:
            for line in fh:
                parts = line.strip().split(":", 2)
                if len(parts) == 3 and "cpu" in parts[1].split(","):
                    return parts[2]
    except OSError:
        return None
    return None


def test_a_submission_s_processes_share_one_cpu_weight_whatever_their_sessions(world):
    _, course, reflib, _ = world
    if sandbox.cgroups._own_cgroup("cpu") is None:
        pytest.skip("no cpu cgroup controller to delegate")
    _hostile(world, "setsid_hog", "reference", "hogger")
    seen: dict[int, tuple[str | None, int | None]] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            for pid in _descendants(os.getpid()):
                uid = _uid_of(pid)
                if uid is None or uid < sandbox.UID_BASE or pid in seen:
                    continue
                group = _cpu_cgroup(pid)
                # An exited process (a zombie) is shown in the root cgroup: skip it.
                if _state(pid) not in ("Z", "X", "gone"):
                    seen[pid] = (group, uid)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        r = grade_submission(course, ASSIGNMENT, "hogger", limits=LIMITS, seed=SEED,
                             reference_lib=reflib)
    finally:
        done.set()
        watcher.join()
    assert r["status"] == "graded"
    assert len(seen) >= 6, seen
    for pid, (group, uid) in seen.items():
        assert group is not None and group.rstrip("/").endswith(f"/{PREFIX}{uid}"), (pid, group)
    assert r["limits"]["in_force"]["cpu"]["enforced"]
    assert CPU_SHARES == 1024

"""Each sandbox limit works and is reported in ``limits_in_force``."""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
import tempfile
import textwrap
import threading

import pytest

from autograder import sandbox
from autograder.sandbox import Limits, run_sandboxed

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the full sandbox needs root")

SMALL = Limits(submission_seconds=20, memory_bytes=512 * sandbox.MiB, max_processes=24,
               output_bytes=4096, disk_bytes=16 * sandbox.MiB)


def run_py(tmp_path, code, limits=SMALL, **kw):
    work = tmp_path / "work"
    (work / "rw").mkdir(parents=True, exist_ok=True)
    (work / "ro").mkdir(exist_ok=True)
    (work / "ro" / "given.txt").write_text("given")
    return run_sandboxed([sys.executable, "-c", textwrap.dedent(code)], str(work), limits,
                         result_dir=str(tmp_path / "result"), **kw)


@needs_root
def test_full_sandbox_is_available_as_root():
    assert sandbox.namespaces_available()


@needs_root
def test_runs_as_unprivileged_uid_without_capabilities(tmp_path):
    r = run_py(tmp_path, """
        import os
        status = open('/proc/self/status').read()
        cap = status.split('CapEff:')[1].split()[0]
        nnp = status.split('NoNewPrivs:')[1].split()[0]
        print(os.getuid(), os.getgid(), int(cap, 16), nnp, os.getgroups())
    """)
    assert r.ended == "ok", r
    uid, gid, cap, nnp, groups = r.stdout_tail.split(maxsplit=4)
    assert int(uid) == r.uid and int(gid) == r.uid and int(uid) >= sandbox.UID_BASE
    assert cap == "0" and nnp == "1" and groups.strip() == "[]"
    assert r.limits_in_force["user"]["enforced"]


@needs_root
def test_private_copy_is_the_only_writable_place(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    r = run_py(tmp_path, f"""
        import os
        open('mine.txt', 'w').write('written')
        for target in ['../ro/given.txt', '../ro/new.txt', {str(outside)!r}, '/tmp/x',
                       '/var/tmp/x', '/dev/shm/x']:
            try:
                open(target, 'a').write('x')
                print('WROTE', target)
            except OSError as exc:
                print('refused', target, exc.errno)
    """)
    assert r.ended == "ok", r
    assert "WROTE" not in r.stdout_tail
    assert outside.read_text() == "untouched"
    assert (tmp_path / "work" / "ro" / "given.txt").read_text() == "given"
    # The host folder is never written: results come back in result_dir.
    assert not (tmp_path / "work" / "rw" / "mine.txt").exists()
    assert (tmp_path / "result" / "rw" / "mine.txt").read_text() == "written"
    assert r.limits_in_force["filesystem"]["read_only_root"]


@pytest.fixture
def open_dir():
    """A folder every user may enter (pytest's own tmp_path is root-only)."""
    path = tempfile.mkdtemp(prefix="sandbox-test-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path)


@needs_root
def test_hidden_paths_are_unreadable(tmp_path, open_dir):
    secret_dir = open_dir / "source"
    secret_dir.mkdir()
    (secret_dir / "solution.py").write_text("SECRET")
    secret_file = open_dir / "gradebook.db"
    secret_file.write_text("SECRET")
    r = run_py(tmp_path, f"""
        import os
        for path in [{str(secret_dir / "solution.py")!r}, {str(secret_file)!r}]:
            try:
                print(open(path).read())
            except OSError as exc:
                print('refused', exc.errno)
    """, hide=[str(secret_dir), str(secret_file)])
    assert r.ended == "ok", r
    assert "SECRET" not in r.stdout_tail and r.stdout_tail.count("refused") == 2
    assert str(secret_dir) in r.limits_in_force["filesystem"]["hidden"]


@needs_root
def test_hiding_also_works_inside_a_visible_folder(tmp_path, open_dir):
    (open_dir / "secret.txt").write_text("SECRET")
    r = run_py(tmp_path, f"""
        import os
        print(os.listdir({str(open_dir)!r}))
        try:
            print(open({str(open_dir / "secret.txt")!r}).read())
        except OSError as exc:
            print('refused', exc.errno)
    """, expose=[str(open_dir)], hide=[str(open_dir / "secret.txt")])
    assert r.ended == "ok", r
    assert "secret.txt" in r.stdout_tail and "SECRET" not in r.stdout_tail


@needs_root
def test_only_the_allowed_folders_exist(tmp_path):
    repo = pathlib.Path(sandbox.__file__).resolve().parents[2]
    r = run_py(tmp_path, f"""
        import os, sys
        print(sorted(os.listdir('/')))
        print(os.path.exists({str(repo / "autograder")!r}), os.path.exists('/root/.bashrc'))
        print(os.path.exists(sys.executable), os.path.exists({str(tmp_path / "result")!r}))
    """)
    assert r.ended == "ok", r
    top, hidden, visible = r.stdout_tail.strip().splitlines()[:3]
    allowed = {p.strip("/").split("/")[0] for p in sandbox.SYSTEM_PATHS} | {
        "dev", "proc", "tmp"} | {p.strip("/").split("/")[0] for p in
                                  sandbox.interpreter_paths() + [str(tmp_path)]}
    assert set(eval(top)) <= allowed
    assert hidden == "False False"
    assert visible.startswith("True")
    assert r.limits_in_force["filesystem"]["visible"]


@needs_root
def test_wall_limit_kills_code_that_ignores_sigint_and_double_forks(tmp_path):
    limits = Limits(submission_seconds=2, max_processes=24, disk_bytes=16 * sandbox.MiB)
    r = run_py(tmp_path, """
        import os, signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    pass
            os._exit(0)
        while True:
            pass
    """, limits=limits)
    assert r.ended == "timeout"
    assert r.wall_seconds < 2 + sandbox.BACKSTOP_SECONDS
    assert sandbox._processes_of_uid(r.uid) == []


@needs_root
def test_background_processes_die_with_the_command(tmp_path):
    r = run_py(tmp_path, """
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)
        print('parent leaves')
    """)
    assert r.ended == "ok"
    assert r.wall_seconds < 20
    assert sandbox._processes_of_uid(r.uid) == []


@needs_root
def test_memory_limit(tmp_path):
    r = run_py(tmp_path, """
        blocks = []
        try:
            for _ in range(64):
                blocks.append(bytearray(64 * 1024 * 1024))
        except MemoryError:
            print('stopped after', len(blocks))
    """)
    assert r.ended == "ok"
    assert "stopped after" in r.stdout_tail
    assert int(r.stdout_tail.split()[-1]) < 8
    assert "RLIMIT_AS" in r.limits_in_force["memory"]["how"]


@needs_root
@pytest.mark.slow
def test_memory_over_many_processes_is_bounded_by_the_cgroup(tmp_path):
    r = run_py(tmp_path, """
        import os
        pids = []
        for _ in range(6):
            pid = os.fork()
            if pid == 0:
                block = b"x" * (300 * 1024 * 1024)
                os._exit(0)
            pids.append(pid)
        killed = sum(os.WIFSIGNALED(os.waitpid(p, 0)[1]) for p in pids)
        print('killed', killed)
    """)
    if "memory cgroup:" not in r.limits_in_force["memory"]["how"]:
        pytest.skip("no writable memory cgroup here: " + r.limits_in_force["memory"]["how"])
    assert r.ended == "ok", r
    assert int(r.stdout_tail.split()[-1]) >= 1
    assert "memory limit was reached" in r.note


@needs_root
def test_fork_bomb_fails_alone(tmp_path):
    r = run_py(tmp_path, """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError:
            print('forks refused after', children)
    """)
    assert r.ended == "ok", r
    assert int(r.stdout_tail.split()[-1]) < SMALL.max_processes
    assert r.limits_in_force["processes"]["enforced"]


@needs_root
def test_concurrent_sandboxes_get_distinct_uids(tmp_path):
    results = {}

    def one(k):
        d = tmp_path / f"s{k}"
        d.mkdir()
        results[k] = run_py(d, "import time; time.sleep(1.0)")

    threads = [threading.Thread(target=one, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0].ended == results[1].ended == "ok"
    assert results[0].uid != results[1].uid


@needs_root
def test_disk_limit(tmp_path):
    r = run_py(tmp_path, """
        try:
            with open('big.bin', 'wb') as fh:
                for _ in range(64):
                    fh.write(b'x' * 1024 * 1024)
            print('WROTE ALL')
        except OSError as exc:
            print('disk refused', exc.errno)
    """)
    assert "disk refused" in r.stdout_tail or r.ended == "killed-by-limit"
    assert "WROTE ALL" not in r.stdout_tail
    assert not (tmp_path / "result" / "rw" / "big.bin").exists() or (
        (tmp_path / "result" / "rw" / "big.bin").stat().st_size <= SMALL.disk_bytes)


@needs_root
def test_no_network(tmp_path):
    r = run_py(tmp_path, """
        import socket
        for host in ['1.1.1.1', '10.0.0.1']:
            try:
                socket.create_connection((host, 80), timeout=2)
                print('CONNECTED')
            except OSError as exc:
                print('refused', exc.errno)
        # Loopback works (the kernel connection may use it).
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); print('loopback ok')
    """)
    assert "CONNECTED" not in r.stdout_tail and "loopback ok" in r.stdout_tail
    assert r.limits_in_force["network"]["enforced"]


def test_output_tail_is_capped(tmp_path):
    r = run_py(tmp_path, """
        import sys
        for _ in range(200):
            sys.stdout.write('y' * 10000 + '\\n')
        print('THE END')
    """)
    assert r.ended == "ok"
    assert r.stdout_tail.rstrip().endswith("THE END")
    assert len(r.stdout_tail) < SMALL.output_bytes + 200
    assert "earlier bytes dropped" in r.stdout_tail


def test_links_and_specials_do_not_come_back(tmp_path):
    r = run_py(tmp_path, """
        import os
        os.symlink('/etc/passwd', 'link.txt')
        os.mkfifo('pipe')
        os.mkdir('sub'); open('sub/ok.txt', 'w').write('ok')
    """)
    assert r.ended == "ok", r
    back = tmp_path / "result" / "rw"
    assert (back / "sub" / "ok.txt").read_text() == "ok"
    assert not (back / "link.txt").exists() and not (back / "pipe").exists()


def test_exit_status_and_crash(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    r = run_py(tmp_path / "a", "import sys; sys.exit(3)")
    assert r.ended == "crashed" and r.exit_code == 3
    r = run_py(tmp_path / "b", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert r.ended == "crashed" and r.signal == 11


@pytest.mark.slow
def test_fallback_reports_what_it_cannot_enforce(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.run, "namespaces_available", lambda: False)
    limits = Limits(submission_seconds=4, disk_bytes=16 * sandbox.MiB, output_bytes=4096)
    r = run_py(tmp_path, """
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        open('mine.txt', 'w').write('x')
        while True:
            pass
    """, limits=limits)
    assert r.ended == "timeout"
    assert r.uid is None
    assert not r.limits_in_force["processes"]["enforced"]
    assert not r.limits_in_force["network"]["enforced"]
    assert r.limits_in_force["wall_clock"]["enforced"]
    assert (tmp_path / "result" / "rw" / "mine.txt").read_text() == "x"

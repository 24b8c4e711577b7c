"""The kernel of a warm start: forked before the notebook runs, with ipykernel,
IPython, numpy and matplotlib already imported, and handed to jupyter_client
in place of a kernel process it would have started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

from autograder.inside.forks import (
    ForkedProcess,
    close_fds_except,
    die_with_parent,
    like_a_new_process,
)


class KernelTemplate(ForkedProcess):
    """A child forked before the notebook runs that becomes the kernel when
    told how (the command and environment jupyter_client would have used):
    ipykernel, IPython, numpy and matplotlib are already imported in it."""

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            self._become_kernel(read_end)
        os.close(read_end)
        super().__init__(pid)
        self.go: int | None = write_end

    @staticmethod
    def usable_for(cmd: list[str]) -> bool:
        # python -m ipykernel_launcher -f FILE [--Option=value ...]
        return (len(cmd) >= 5 and cmd[1:3] == ["-m", "ipykernel_launcher"]
                and cmd[3] == "-f" and all(a.startswith("--") for a in cmd[5:])
                and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable))

    def launch(self, cmd: list[str], env: dict, cwd: str | None) -> None:
        data = json.dumps({"argv": list(cmd), "env": dict(env), "cwd": cwd}).encode()
        go, self.go = self.go, None
        try:
            while data:
                data = data[os.write(go, data):]
        finally:
            os.close(go)

    def discard(self) -> None:
        """Not needed after all: let it go and reap it."""
        if self.go is not None:
            os.close(self.go)
            self.go = None
        try:
            self.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()

    @staticmethod
    def _become_kernel(read_end: int) -> None:
        code = 0
        try:
            # A session of its own, as jupyter_client gives a kernel: interrupts
            # go to its process group.
            os.setsid()
            die_with_parent()
            like_a_new_process()
            close_fds_except(read_end)
            chunks = []
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(read_end)
            if not chunks:
                os._exit(0)
            request = json.loads(b"".join(chunks))
            os.environ.clear()
            os.environ.update(request["env"])
            if request.get("cwd"):
                os.chdir(request["cwd"])
            # The notebook's folder (where the student's library lives) goes on
            # the path where IPython puts it in a kernel started the usual way:
            # '' just before site-packages. This interpreter runs with -I, so
            # IPython would leave it out.
            index = next((i for i, p in enumerate(sys.path) if os.path.basename(p) in (
                "site-packages", "dist-packages")), 0)
            if "" not in sys.path:
                sys.path.insert(index, "")
            argv = request["argv"]
            sys.argv = [os.path.join(os.path.dirname(sys.executable), "ipykernel_launcher")]
            sys.argv += argv[3:]
            from ipykernel.kernelapp import IPKernelApp

            IPKernelApp.launch_instance(argv=argv[3:])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - as an interpreter would report it
            traceback.print_exc()
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001
                    pass
            os._exit(int(code or 0) & 0xFF)


def warm_manager_class(template: KernelTemplate):
    """An AsyncKernelManager that starts its kernel from ``template``."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class WarmProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            if template.go is None or not KernelTemplate.usable_for(list(cmd)):
                return await super().launch_kernel(cmd, **kwargs)
            template.launch(list(cmd), kwargs.get("env") or dict(os.environ),
                            kwargs.get("cwd"))
            self.process = template
            self.pid = self.pgid = template.pid
            self.cwd = kwargs.get("cwd") or os.getcwd()
            return self.connection_info

    class WarmKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            out = await super()._async_pre_start_kernel(**kw)
            if type(self.provisioner) is LocalProvisioner:
                self.provisioner.__class__ = WarmProvisioner
            return out

    return WarmKernelManager

"""One Jupyter kernel that runs code cell by cell, with a time limit, and survives its cells.

The grader needs more than ``nbclient.execute``: each cell's own outcome (passed, raised,
timed out, killed the kernel), and a way to carry on after a cell that loops forever or calls
``os._exit``. ``Kernel.run`` returns an ``Outcome`` instead of raising; after a TIMEOUT or DEAD
outcome the caller restarts the kernel (``Kernel.restart``) and replays what it needs.

The kernel is this Python's own ipykernel (like ``pytest --nbval-current-env``), so it imports
the same ``lstm_course``, whatever kernelspecs the machine has.
"""

import logging
import os
import subprocess
import time
from dataclasses import dataclass

# nbclient logs "Kernel died" and "Timeout" as errors: the Outcome says it, quietly.
QUIET = logging.getLogger("lstm_course.grading.kernel")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
OK, ERROR, TIMEOUT, DEAD, NOT_RUN = "ok", "error", "timeout", "dead kernel", "not run"
MAX_OUTPUTS = 200  # per cell: a `while True: print(...)` must not fill the grader's memory


@dataclass
class Outcome:
    """What happened to one cell: status, and the exception's name and message if it raised."""

    status: str
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0

    @property
    def ok(self):
        return self.status == OK


def _client_class():
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    class CurrentPython(KernelSpecManager):
        """Every kernel name means: ipykernel in the Python running the grader."""

        def get_kernel_spec(self, kernel_name):
            from ipykernel import kernelspec

            return self.kernel_spec_class(
                resource_dir=kernelspec.RESOURCES, **kernelspec.get_kernel_dict()
            )

    class CappedClient(NotebookClient):
        """nbclient, keeping at most MAX_OUTPUTS outputs of a cell."""

        def create_kernel_manager(self):
            self.km = self.kernel_manager_class(
                kernel_name="python3", kernel_spec_manager=CurrentPython(), config=self.config
            )
            return self.km

        def output(self, outs, msg, display_id, cell_index):
            if len(outs) >= MAX_OUTPUTS:
                return None
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


class Kernel:
    """A restartable kernel whose working directory is workdir.

    Args:
        workdir: the kernel's current directory (the grader gives each submission its own).
        env: extra environment variables for the kernel.
        startup_timeout: seconds to wait for a kernel to start.
    """

    def __init__(self, workdir, env=None, startup_timeout=60):
        self.workdir = str(workdir)
        self.env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
        self.startup_timeout = startup_timeout
        self.client = None
        self._timeout = None
        self.starts = 0

    def start(self):
        import nbformat

        client = _client_class()(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")]),
            timeout_func=lambda cell: self._timeout,
            startup_timeout=self.startup_timeout,
            shutdown_kernel="immediate",
            record_timing=False,
            log=QUIET,
            resources={"metadata": {"path": self.workdir}},
        )
        client.create_kernel_manager()
        # The kernel's own stdout/stderr (not the cells' output, which comes by message) holds
        # only start-up chatter; it would drown the grader's progress lines.
        client.start_new_kernel(
            cwd=self.workdir, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client.start_new_kernel_client()
        self.client = client
        self.starts += 1

    def close(self):
        """Stop the kernel (also a dead or busy one)."""
        client, self.client = self.client, None
        if client is None or client.km is None:
            return
        try:
            client._cleanup_kernel()
        except Exception:  # a kernel that died badly may fail to clean up; it is gone anyway
            pass

    def restart(self):
        self.close()
        self.start()

    def run(self, source, timeout=None, store_history=True):
        """Run source in the kernel; never raises for what the code does.

        Args:
            timeout: seconds before the cell is abandoned (TIMEOUT); None waits forever.
        Returns:
            an Outcome. After TIMEOUT or DEAD the kernel must be restarted before further use.
        """
        import nbformat
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        if self.client is None:
            self.start()
        self._timeout = None if timeout is None else max(timeout, 0.1)
        cell = nbformat.v4.new_code_cell(source)
        start = time.monotonic()
        try:
            self.client.execute_cell(cell, 0, store_history=store_history)
            return Outcome(OK, seconds=time.monotonic() - start)
        except CellExecutionError as error:
            return Outcome(ERROR, error.ename, error.evalue, time.monotonic() - start)
        except CellTimeoutError:
            return Outcome(TIMEOUT, seconds=time.monotonic() - start)
        except DeadKernelError:
            return Outcome(DEAD, seconds=time.monotonic() - start)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

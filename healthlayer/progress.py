"""Progress of deploys and refreshes: a live line per view on a terminal, one log line per view otherwise."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from healthlayer.adapters.base import BuildStep

ACTIONS = {"view": "view", "table": "table, every day", "incremental": "incremental"}


def describe_step(step: BuildStep) -> str:
    """Return one line for a finished step: name, what was built, rows written and seconds."""
    action = ACTIONS[step.action]
    if step.first_day is not None:
        action += f" from {step.first_day.isoformat()}"
    rows = "" if step.rows is None else f", {step.rows:,} {'row' if step.rows == 1 else 'rows'}"
    return f"{step.name}: {action}{rows}, {step.seconds:.2f} s"


class BuildReporter:
    """Reporter of each view and table of a deploy or refresh, on the error stream.

    On a terminal, a progress bar shows the view being built and how many are done. Elsewhere,
    such as in CI logs, each finished view is one plain line.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        # Every step finished, in order.
        self.steps: list[BuildStep] = []
        self.live = console.is_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BuildReporter:
        if self.live:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def planned(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=count)

    def started(self, name: str, action: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=f"{name} ({ACTIONS[action]})")

    def finished(self, step: BuildStep) -> None:
        self.steps.append(step)
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
            if step.action != "view":
                self._progress.console.print(describe_step(step), highlight=False)
        else:
            self.console.print(describe_step(step), highlight=False, soft_wrap=True)

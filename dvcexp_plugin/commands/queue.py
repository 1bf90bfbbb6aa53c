"""``dvcexp queue ...``: start, status, logs, remove, kill and stop — no broker, no daemon."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from dvcexp_plugin.errors import DvcExpError


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    queue = subparsers.add_parser("queue", parents=parents,
                                  help="Commands to manage the experiments queue.")
    sub = queue.add_subparsers(dest="queue_cmd", metavar="COMMAND")
    start = sub.add_parser("start", parents=parents, help="Start the queue runner.")
    start.add_argument("-j", "--jobs", type=int, default=1, metavar="<number>",
                       help="Number of stages run at once, across all queued experiments.")
    start.add_argument("--retry-failed", action="store_true",
                       help="Queue the failed experiments again before starting.")
    start.set_defaults(func=run_start)
    status = sub.add_parser("status", parents=parents, help="Show the status of queued tasks.")
    status.set_defaults(func=run_status)
    logs = sub.add_parser("logs", parents=parents, help="Show the output of a queued task.")
    logs.add_argument("task", help="Task name or id.")
    logs.add_argument("-f", "--follow", action="store_true",
                      help="Follow the log until the task finishes.")
    logs.set_defaults(func=run_logs)
    remove = sub.add_parser("remove", aliases=["rm"], parents=parents,
                            help="Remove tasks from the queue.")
    remove.add_argument("task", nargs="*", help="Tasks to remove (names or ids).")
    for flag, text in (("--queued", "queued"), ("--failed", "failed"),
                       ("--success", "successful"), ("--all", "all")):
        remove.add_argument(flag, action="store_true", help=f"Remove all {text} tasks.")
    remove.set_defaults(func=run_remove)
    kill = sub.add_parser("kill", parents=parents,
                          help="Gracefully interrupt running experiment queue tasks "
                          "(equivalent to Ctrl-C); the other tasks go on.")
    kill.add_argument("-f", "--force", action="store_true",
                      help="Forcefully and immediately kill running experiment queue tasks.")
    kill.add_argument("task", nargs="*", metavar="<task>", help="Tasks in queue to kill.")
    kill.set_defaults(func=run_kill)
    stop = sub.add_parser("stop", parents=parents, help="Stop the queue runner.")
    stop.add_argument("--kill", action="store_true", help="Kill running tasks too.")
    stop.set_defaults(func=run_stop)


def _store() -> Any:
    from dvcexp_plugin.experiments.queue_store import QueueStore
    from dvcexp_plugin.repo import Repo

    return QueueStore(Repo.discover().root)


def start_runner(root: str, jobs: int) -> int | None:
    """Start the detached queue runner (unless one runs); return its pid."""
    from dvcexp_plugin.experiments.queue_store import QueueStore
    from dvcexp_plugin.experiments.queue_worker import runner_pid

    running = runner_pid(root)
    if running:
        return None
    store = QueueStore(root)
    os.makedirs(store.dir, exist_ok=True)
    with open(os.path.join(store.dir, "worker.out"), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dvcexp_plugin.experiments.queue_worker", root, str(jobs)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
    return proc.pid


def run_start(args: argparse.Namespace) -> int:
    store = _store()
    store.clear_stop()  # a start overrides an earlier `queue stop`
    if args.retry_failed:
        retried = store.requeue_failed()
        if retried:
            print(f"Queued again: {', '.join(retried)}")
    pid = start_runner(store.root, max(1, args.jobs))
    if pid is None:
        print("The queue runner is already running; it will run the queued experiments.")
    else:
        print(f"Started the queue runner (pid {pid}) with {max(1, args.jobs)} job slot(s).")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments.queue_worker import runner_pid

    store = _store()
    store.recover()
    rows = [("Task", "Name", "Created", "Status")]
    for entry in store.entries():
        created = time.strftime("%I:%M %p", time.localtime(entry.created))
        rows.append((entry.rev[:7], entry.name, created, entry.status))
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    else:
        print("No experiment tasks in the queue.")
    pid = runner_pid(store.root)
    print(f"\nWorker status: {1 if pid else 0} active, 0 idle")
    return 0


def _find(store: Any, task: str) -> Any:
    for entry in store.entries():
        if task in (entry.name, entry.id) or entry.rev.startswith(task):
            return entry
    raise DvcExpError(f"'{task}' is not a queued experiment; see 'dvcexp queue status'")


def run_logs(args: argparse.Namespace) -> int:
    store = _store()
    entry = _find(store, args.task)
    path = store.log_path(entry.id)
    while args.follow and entry.status in ("Queued", "Running"):
        time.sleep(0.5)
        entry = store.load(entry.id) or entry
    if not os.path.exists(path):
        raise DvcExpError(f"'{entry.name}' has no logs yet (status {entry.status}); wait for it "
                          "to run")
    with open(path, encoding="utf-8", errors="replace") as fobj:
        sys.stdout.write(fobj.read())
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from dvcexp_plugin.git.repo import GitRepo

    store = _store()
    wanted = {"Queued": args.queued or args.all, "Failed": args.failed or args.all,
              "Success": args.success or args.all}
    chosen = [e for e in store.entries() if wanted.get(e.status)]
    chosen += [_find(store, t) for t in args.task]
    if not chosen:
        raise DvcExpError("nothing to remove; name tasks or use --queued/--failed/--success/--all")
    git = GitRepo.find(store.root)
    removed = []
    for entry in chosen:
        if entry.status == "Running":
            raise DvcExpError(f"'{entry.name}' is running; stop it first with "
                              f"'dvcexp queue kill {entry.name}'")
        git.delete_ref(entry.ref)
        store.delete(entry)
        removed.append(entry.name)
    print(f"Removed tasks in queue: {', '.join(removed)}")
    return 0


def run_kill(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments.queue_kill import kill_entries
    from dvcexp_plugin.experiments.queue_store import RUNNING
    from dvcexp_plugin.experiments.resolve import InvalidArgumentError

    store = _store()
    store.recover()
    found = store.match(args.task, (RUNNING,))
    to_kill = {name: entry for name, entry in found.items() if entry is not None}
    if to_kill:
        kill_entries(store, list({e.id: e for e in to_kill.values()}.values()), args.force)
        for name in to_kill:
            print(f"{name} has been killed.")
    missing = [name for name, entry in found.items() if entry is None]
    if missing:  # DVC's UnresolvedRunningExpNamesError
        joined = "; ".join(missing)
        text = (f"'{joined}' are not valid running experiment names" if len(missing) > 1
                else f"'{joined}' is not a valid running experiment name")
        raise InvalidArgumentError(f"{text}; see 'dvcexp queue status'")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    """DVC's ``queue stop [--kill]``: no new work starts; running work ends or is killed.

    All claimed entries share one DAG, so "running tasks" are the entries that
    started a command; the others go back to the queue when their first
    command would start. With ``--kill`` the started ones are killed as by
    ``queue kill`` (they end ``Failed``).
    """
    from dvcexp_plugin.experiments.queue_kill import EntryControl, kill_entries
    from dvcexp_plugin.experiments.queue_store import RUNNING

    store = _store()
    store.recover()
    store.request_stop()
    if not args.kill:
        print("Queue workers will stop after running tasks finish.")
        return 0
    started = [e for e in store.entries() if e.status == RUNNING
               and EntryControl.for_entry(store, e.id).has_started()]
    kill_entries(store, started)
    for entry in started:
        print(f"{entry.name} has been killed.")
    # DVC prints these two without a newline between them
    print("All running tasks in the queue have been killed.", end="")
    print("Queue workers are stopping.")
    return 0

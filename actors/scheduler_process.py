"""Entry point of the `scheduler` process: `python -m actors.scheduler_process`.

It imports `actors` (the broker with every actor declared, the app factory handed to it)
and runs `facho.scheduling.process.SchedulerProcess` until SIGTERM / SIGINT.

Options:
    --once          run one tick now, in this process, print it, and exit (no lease)
    --every N       tick every N seconds instead of periodiq's minute cron (tests and
                    development; also FACHO_TICK_EVERY_S). Production: the minute cron.
    --threads N     threads of the in-process worker (default 4)
"""
from __future__ import annotations

import argparse
import os
import sys

from facho.config import ConfigError
from facho.middleware.app_context import get_app
from facho.scheduling.process import SchedulerProcess, run_once


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actors.scheduler_process",
                                     description="Facho scheduler: periodiq + dispatch.")
    parser.add_argument("--once", action="store_true", help="run one tick now and exit")
    parser.add_argument("--every", type=float,
                        default=float(os.environ.get("FACHO_TICK_EVERY_S") or 0),
                        help="tick every N seconds instead of the minute cron (tests)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads of the in-process worker (tick, fan-out, maintenance)")
    args = parser.parse_args(argv)
    if args.every < 0:
        parser.error("--every debe ser >= 0 (segundos entre ticks)")
    try:
        import actors   # sets up the broker (reads the configuration) and declares the actors
        app = get_app()
    except ConfigError as exc:
        print(exc.line(), file=sys.stderr)
        return 2
    if args.once:
        return run_once(app)
    return SchedulerProcess(actors.broker, app, actors.scheduler.scheduler_tick,
                            every_s=args.every, threads=args.threads).run()


if __name__ == "__main__":
    sys.exit(main())

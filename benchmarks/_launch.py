"""Measure one command: `python3 -I -S _launch.py RESULT_FILE CMD ARGS...`.

run.py starts every tool through this small launcher rather than forking the tool itself:
on Linux a child's ru_maxrss starts at the RSS of the process that forked it, so a tool forked
straight from run.py (which holds the SDK and test data) would report at least run.py's size.
This launcher is tiny (~10 MB), stdlib only and started without site-packages; it spawns the
command, waits for it with os.wait4 and writes wall time, CPU and peak RSS of that child as
JSON to RESULT_FILE. The command inherits stdin/stdout/stderr and the process group;
`_launch.py RESULT_FILE --stdout FILE CMD ARGS...` sends its stdout to FILE instead (opened
for the child by posix_spawn itself: no shell or pipe reader in the measured process tree).
"""

import json
import os
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
actions = []
if cmd[:1] == ["--stdout"]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions.append((os.POSIX_SPAWN_OPEN, 1, cmd[1], flags, 0o644))
    cmd = cmd[2:]
t0 = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    json.dump(
        {
            "wall_s": wall,
            "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime,
            "peak_rss_mb": ru.ru_maxrss / 1024,
            "exit_code": os.waitstatus_to_exitcode(status),
        },
        f,
    )

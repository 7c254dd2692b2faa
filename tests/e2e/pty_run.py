#!/usr/bin/env python3
"""Runs a command with its stdout on a pseudo-terminal of a given size and
records everything it writes there (stdin and stderr are left as they are).

usage: pty_run.py COLS ROWS OUT [--resize-on TEXT COLS2] [--term-on TEXT] -- COMMAND...
  --resize-on TEXT COLS2  once TEXT has appeared, make the terminal COLS2
                          wide (the kernel sends SIGWINCH) and write the
                          output's offset at that moment to OUT.resized
  --term-on TEXT          send SIGTERM once TEXT has appeared (after the
                          resize, when there is one)
Exits with the command's status (128+N when killed by signal N); 124 when
it did not end within 120 s."""
import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    opts, cmd = args[:sep], args[sep + 1:]
    cols, rows, out = int(opts[0]), int(opts[1]), opts[2]
    term_on = opts[opts.index("--term-on") + 1].encode() if "--term-on" in opts else None
    resize_on = None
    if "--resize-on" in opts:
        k = opts.index("--resize-on")
        resize_on, cols2 = opts[k + 1].encode(), int(opts[k + 2])
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        os.dup2(slave, 1)
        os.close(master)
        os.close(slave)
        os.environ["COLUMNS"] = str(cols)
        os.execvp(cmd[0], cmd)
    os.close(slave)
    data = bytearray()
    sent = False
    resized_at = 0
    deadline = time.monotonic() + 120
    status = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            data += chunk
            if not chunk and status is None:
                _, status = os.waitpid(pid, 0)
                break
        if resize_on is not None and resize_on in data:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols2, 0, 0))
            with open(out + ".resized", "w") as f:
                f.write(str(len(data)))
            resize_on = None
            resized_at = len(data)
        if (term_on is not None and not sent and resize_on is None
                and term_on in data[resized_at:]):
            os.kill(pid, signal.SIGTERM)
            sent = True
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            while True:  # what is left in the terminal
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    break
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            break
    with open(out, "wb") as f:
        f.write(data)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit(124)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()

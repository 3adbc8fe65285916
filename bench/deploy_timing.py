"""What bench/deploy.sh and bench/remote.sh share: the next commit to
deploy, and what they take out of a deploy's wall time to leave gitgate's
own (the app's start and the user's commands, timed on their own)."""
import os
import socket
import subprocess
import time


def commit_change(clone, n):
    """A new commit upstream: one clean line added to 10 of argo's files."""
    out = subprocess.run(["git", "-C", clone, "ls-files", "argo/src"], capture_output=True,
                         text=True, check=True).stdout.split()
    for path in out[n % 50::50][:10]:
        with open(os.path.join(clone, path), "a") as f:
            f.write("const bench_%d = %d;\n" % (n, n))
    subprocess.run(["git", "-C", clone, "commit", "-qam", "change %d" % n], check=True)
    subprocess.run(["git", "-C", clone, "push", "-q", "origin", "main"], check=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def app_start(work):
    """The tiny app (WORK/tiny-app) alone: spawned, until it accepts a connection."""
    port = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(work, "tiny-app"), str(port)])
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            pass
    elapsed = time.monotonic() - t0
    p.terminate()
    p.wait()
    return elapsed


def three_trues():
    """The targets' test, lint and build commands: `true`, three times."""
    t0 = time.monotonic()
    for _ in range(3):
        subprocess.run(["true"], check=True)
    return time.monotonic() - t0

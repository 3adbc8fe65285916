# The e2e tests' pushed attacks (sandbox.sh, remote.sh) share this: one
# attempt, reported as "WHAT: ok" or "WHAT: ERRNO-NAME", and whatever it
# took printed, as a thief would show it.
import errno


def attempt(report, what, action):
    try:
        got = action()
        report.append(what + ": ok")
        if got:
            print(got)
    except OSError as e:
        report.append(what + ": " + errno.errorcode.get(e.errno, str(e.errno)))

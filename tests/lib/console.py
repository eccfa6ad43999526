"""Steps on the serial console of a booted debug image (a Machine of
tests/e2e/qemu.py) that many tests take: reach the shell's prompt, and
restart the machine back to it."""


def prompt(m, timeout=60):
    """A fresh prompt of the debug image's shell."""
    m.send("\n")
    m.expect(r"# ", timeout)


def restart_to_shell(m, how="reboot", timeout=300):
    """Restarts the machine, by `reboot` typed in its shell or by QEMU's
    system_reset, and waits for init's `ready` and the shell's prompt.
    Returns the console position where the restart began, for
    m.expect(..., since=)."""
    mark = m.mark()
    if how == "reboot":
        m.send("reboot\n")
    else:
        m.qmp("system_reset")
    m.expect(r"init: ready: ", timeout, since=mark)
    prompt(m)
    return mark

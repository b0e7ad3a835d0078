"""Processes of the local cluster: start, identify, stop, and their listeners.

A PID alone is not proof that a process is ours (PIDs are reused), so every
recorded process also carries its kernel start time and executable; `stop`
only signals a process whose identity still matches.
"""
import os
import signal
import socket
import subprocess
import time


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        data = fh.read()
    # The command name is in parentheses and may contain spaces.
    return data[data.rindex(")") + 2:].split()


def start_time(pid):
    """Kernel start time (clock ticks since boot) of pid, or None if gone."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[19])


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def launch(name, argv, log_dir, env=None):
    """Start argv detached from our session; return its identity record."""
    log = open(os.path.join(log_dir, f"{name}.log"), "ab")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
        close_fds=True,
    )
    log.close()
    # Read the identity once the exec has happened.
    target = os.path.realpath(argv[0])
    for _attempt in range(200):
        if exe_of(proc.pid) == target:
            break
        time.sleep(0.01)
    return {"name": name, "pid": proc.pid, "start_time": start_time(proc.pid),
            "exe": exe_of(proc.pid), "argv": argv}


def is_ours(rec):
    """True if the recorded process is still the very process we started."""
    st = start_time(rec["pid"])
    return st is not None and st == rec["start_time"] and exe_of(rec["pid"]) == rec["exe"]


def stop(rec, timeout=15.0):
    """SIGTERM the recorded process (SIGKILL after timeout). Returns what was done."""
    if not is_ours(rec):
        return "gone"
    os.kill(rec["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_ours(rec):
            return "stopped"
        time.sleep(0.1)
    os.kill(rec["pid"], signal.SIGKILL)
    while is_ours(rec):
        time.sleep(0.05)
    return "killed"


def free_ports(count):
    """count distinct free TCP ports on 127.0.0.1 (held open until all are chosen)."""
    socks = []
    try:
        for _port in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _decode_addr(hexaddr, ipv6):
    host, port = hexaddr.split(":")
    raw = bytes.fromhex(host)
    if ipv6:
        # /proc stores IPv6 as four little-endian 32-bit words.
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        return socket.inet_ntop(socket.AF_INET6, raw), int(port, 16)
    return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)


def listeners(pids):
    """Listening TCP sockets and bound UDP sockets owned by pids: [(pid, proto, addr, port)]."""
    owner = {}
    for pid in pids:
        for inode in _socket_inodes(pid):
            owner[inode] = pid
    found = []
    for proto, path, ipv6 in (("tcp", "/proc/net/tcp", False), ("tcp6", "/proc/net/tcp6", True),
                              ("udp", "/proc/net/udp", False), ("udp6", "/proc/net/udp6", True)):
        try:
            with open(path, encoding="ascii") as fh:
                rows = fh.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            cols = row.split()
            state, inode = cols[3], cols[9]
            # 0A is TCP LISTEN; for UDP every bound socket can receive traffic.
            if inode in owner and (proto.startswith("udp") or state == "0A"):
                addr, port = _decode_addr(cols[1], ipv6)
                found.append((owner[inode], proto, addr, port))
    return found

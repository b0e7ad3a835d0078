"""Run a program in a network namespace of its own, with only the apiserver reachable.

    python -m testcluster.netns --apiserver 127.0.0.1:PORT --socket PATH -- program args...

Some upstream programs open servers on every interface with no setting to
change it (knative.dev/pkg's profiling and health-probe servers use ":<port>").
The tests may only listen on loopback, so such a program runs in a new network
namespace whose only interface is its own `lo`: whatever it binds is reachable
from nowhere else. Inside, 127.0.0.1:PORT forwards to a Unix socket (a path in
the file system, so it crosses namespaces), and this process, still in the
host namespace, forwards that socket to the real apiserver at 127.0.0.1:PORT.
The kubeconfig therefore works unchanged on both sides.

The program and the inner forwarder die with this process (PR_SET_PDEATHSIG),
and this process dies with the simulators that start it.
"""
import argparse
import ctypes
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
_LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """The kernel sends SIGKILL to the caller when its parent exits."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def enter_new_netns():
    if _LIBC.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")
    # A new namespace's loopback starts down.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        name = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, name))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def _pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, connect):
    """Accept forever; join each connection to a new one from connect()."""
    while True:
        conn, _addr = listener.accept()
        try:
            upstream = connect()
        except OSError:
            conn.close()
            continue
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="testcluster.netns")
    parser.add_argument("--apiserver", required=True, help="host:port of the apiserver (loopback)")
    parser.add_argument("--socket", required=True, help="path of the Unix socket between the namespaces")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    host, port = args.apiserver.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        parser.error("the apiserver must be on loopback")
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    outer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    outer.bind(args.socket)
    os.chmod(args.socket, 0o600)
    outer.listen(64)

    child = os.fork()
    if child:
        return _outside(outer, child, host, port)
    return _inside(outer, args.socket, port, command)


def _inside(outer, unix_path, port, command):
    """In the child: a namespace with only lo; 127.0.0.1:port -> the Unix socket."""
    die_with_parent()
    outer.close()
    enter_new_netns()
    inner = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    inner.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    inner.bind(("127.0.0.1", int(port)))
    inner.listen(64)

    def to_unix():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(unix_path)
        return sock

    threading.Thread(target=serve, args=(inner, to_unix), daemon=True).start()
    with subprocess.Popen(command, preexec_fn=die_with_parent) as proc:
        code = proc.wait()
    os._exit(code)  # pylint: disable=protected-access


def _outside(outer, child, host, port):
    """The Unix socket -> the apiserver, until the child ends."""
    def stop(_signum, _frame):
        os.kill(child, signal.SIGTERM)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=serve, args=(outer, lambda: socket.create_connection((host, int(port)))),
                     daemon=True).start()
    _pid, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())

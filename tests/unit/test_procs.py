"""Process identity, port choice and /proc socket decoding of the test cluster."""
import os
import socket
import subprocess
import sys
import time

from testcluster import procs


def test_decode_ipv4_and_ipv6():
    assert procs._decode_addr("0100007F:1F90", False) == ("127.0.0.1", 8080)
    assert procs._decode_addr("00000000:0050", False) == ("0.0.0.0", 80)
    assert procs._decode_addr("00000000000000000000000001000000:0016", True) == ("::1", 22)
    assert procs._decode_addr("00000000000000000000000000000000:0016", True) == ("::", 22)


def test_free_ports_are_distinct_and_bindable():
    ports = procs.free_ports(6)
    assert len(set(ports)) == 6
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_listeners_finds_a_child_loopback_listener(tmp_path):
    port = procs.free_ports(1)[0]
    code = ("import socket,time; s=socket.socket(); s.bind(('127.0.0.1', %d)); s.listen(); "
            "time.sleep(30)" % port)
    child = subprocess.Popen([sys.executable, "-c", code])  # pylint: disable=consider-using-with
    try:
        deadline = time.monotonic() + 10
        found = []
        while time.monotonic() < deadline and not found:
            found = procs.listeners([child.pid])
            time.sleep(0.05)
        assert found == [(child.pid, "tcp", "127.0.0.1", port)]
    finally:
        child.kill()
        child.wait()


def test_identity_survives_only_for_the_same_process(tmp_path):
    rec = procs.launch("sleeper", ["/bin/sleep", "30"], str(tmp_path))
    assert rec["start_time"] and rec["exe"].endswith("sleep")
    assert procs.is_ours(rec)
    # A record whose start time differs is somebody else's process: never signalled.
    impostor = dict(rec, start_time=rec["start_time"] - 1)
    assert not procs.is_ours(impostor)
    assert procs.stop(impostor) == "gone"
    assert procs.is_ours(rec)
    assert procs.stop(rec) == "stopped"
    assert not procs.is_ours(rec)
    assert procs.stop(rec) == "gone"
    assert os.path.exists(tmp_path / "sleeper.log")


def test_stop_escalates_to_sigkill(tmp_path):
    script = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    rec = procs.launch("stubborn", [sys.executable, "-c", script], str(tmp_path))
    time.sleep(0.3)  # let it install the handler
    assert procs.stop(rec, timeout=0.5) == "killed"
    assert not procs.is_ours(rec)

"""SNMP walk throughput: the project's walk path vs stock puresnmp vs net-snmp's snmpbulkwalk.

    .venv/bin/python bench/bench_snmp.py [--rounds 5]

Starts two local agents on 127.0.0.1 and walks the same subtree with each client, GetBulk
with 25 repetitions everywhere:

* net-snmp ``snmpd`` (own config, high port) serving 16 ``extend`` outputs of 1,024 lines:
  16,384 rows of nsExtendOutLine (one extend of 16,384 lines crashes snmpd 5.9.3);
* snmpsim serving a simulated Huawei OLT with 2,048 ONUs (12,288 varbinds): slow, since the
  agent is Python, but it is what the tests use.

Also measures what decoding once saves (CPU per varbind decoding the same captured GetBulk
responses: puresnmp as its walk does it, x690 decoded once, the project's codec, plus
x690 call counts per varbind in a stock walk), and the socket leak on refused ports.
Prints a table and writes ``bench/results/snmp.json``. Figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.simplefilter("ignore")  # puresnmp warns about its own API on every import

from puresnmp import V2C, Client, ObjectIdentifier, PyWrapper  # noqa: E402

from facho.ops.olt_sim import SnmpSim, write_snmprec  # noqa: E402
from facho.snmp import SnmpClient, SnmpTarget, UdpChannel, make_sender, run  # noqa: E402
from facho.snmp import codec  # noqa: E402
from facho.snmp.session import CommunitySession  # noqa: E402
from facho.snmp.walk import WalkLimits, walk_columns  # noqa: E402

BULK = 25
EXTEND_ROOT = "1.3.6.1.4.1.8072.1.3.2.4.1.2"
HUAWEI_ROOT = "1.3.6.1.4.1.2011.6.128.1.1.2"


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_snmpd(workdir: Path) -> tuple[subprocess.Popen, int]:
    port = udp_port()
    conf = workdir / "snmpd.conf"
    lines = [f"agentaddress udp:127.0.0.1:{port}", "rocommunity bench 127.0.0.1"]
    lines += [f"extend t{i:02d} /usr/bin/seq 1 1024" for i in range(1, 17)]
    conf.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(workdir / "persist"), MIBS="")
    proc = subprocess.Popen(["/usr/sbin/snmpd", "-f", "-Lf", str(workdir / "snmpd.log"), "-C",
                             "-c", str(conf)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    client = SnmpClient(SnmpTarget("127.0.0.1", port, community="bench", timeout_s=0.2, retries=0))
    for _ in range(100):
        try:
            run(client.get("1.3.6.1.2.1.1.1.0"))
            return proc, port
        except Exception:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("snmpd did not start")


def client_cpu() -> float:
    """CPU seconds of this process plus its finished children (snmpbulkwalk runs); the
    agents are still running, so their CPU is not counted."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def best(fn, rounds: int) -> dict:
    """Best wall time over ``rounds`` (the least disturbed run), with its client CPU time."""
    runs = []
    for _ in range(rounds):
        cpu, wall = client_cpu(), time.perf_counter()
        count = fn()
        runs.append((time.perf_counter() - wall, client_cpu() - cpu, count))
    wall, cpu, count = min(runs)
    return {"seconds": round(wall, 4), "client_cpu_s": round(cpu, 4), "varbinds": count,
            "varbinds_per_s": round(count / wall)}


def project_walk(port: int, community: str, root: str) -> int:
    client = SnmpClient(SnmpTarget("127.0.0.1", port, community=community, bulk_size=BULK))
    return len(run(client.walk(root)))


def stock_walk(port: int, community: str, root: str) -> int:
    async def walk() -> int:
        client = PyWrapper(Client("127.0.0.1", V2C(community), port=port))
        return sum([1 async for _ in client.bulkwalk([root], bulk_size=BULK)])
    return asyncio.run(walk())


def netsnmp_walk(port: int, community: str, root: str) -> int:
    out = subprocess.run(["snmpbulkwalk", "-v2c", "-c", community, f"-Cr{BULK}", "-On",
                          f"127.0.0.1:{port}", root], env=dict(os.environ, MIBS=""),
                         capture_output=True, text=True, check=True).stdout
    # count varbind lines only: a string holding a newline spans two lines, and at the end
    # of the MIB snmpbulkwalk also prints the endOfMibView fillers of the last GetBulk
    return sum(line.startswith(f".{root}.") and "No more variables" not in line
               for line in out.splitlines())


def measure_agent(name: str, port: int, community: str, root: str, rounds: int) -> dict:
    result = {"agent": name, "root": root}
    for label, fn in (("project", project_walk), ("puresnmp", stock_walk),
                      ("snmpbulkwalk", netsnmp_walk)):
        result[label] = best(lambda: fn(port, community, root), rounds)
    counts = {result[k]["varbinds"] for k in ("project", "puresnmp", "snmpbulkwalk")}
    result["same_rows"] = len(counts) == 1
    p, s, n = (result[k]["varbinds_per_s"] for k in ("project", "puresnmp", "snmpbulkwalk"))
    result["project_vs_puresnmp"] = round(p / s, 2)
    result["snmpbulkwalk_vs_project"] = round(n / p, 2)
    return result


def capture_responses(port: int, community: str, root: str) -> list[bytes]:
    """The raw GetBulk responses of one walk, to decode them offline."""
    packets: list[bytes] = []

    async def walk() -> None:
        async with UdpChannel("127.0.0.1", port, timeout_s=2, retries=1) as channel:
            original = channel.exchange

            async def recording(packet, accept):
                return await original(packet, lambda data: packets.append(data) or accept(data))

            channel.exchange = recording
            await walk_columns(CommunitySession(channel, codec.VERSION_V2C, community),
                               [codec.parse_oid(root)], WalkLimits(bulk_size=BULK))
    asyncio.run(walk())
    return packets


def decode_costs(packets: list[bytes], community: str, rounds: int) -> dict:
    from puresnmp.plugins.mpm import create

    mpm = create(1, None, {})
    creds = V2C(community)
    varbinds = sum(len(codec.decode_message(p)[3].varbinds) for p in packets)

    def stock() -> None:  # what puresnmp's bulkwalk does per response, values pythonized
        for p in packets:
            pdu = mpm.decode(p, creds)
            listing = {oid: value for oid, value in pdu.value.varbinds}
            [(str(oid), value.pythonize()) for oid, value in sorted(listing.items())]

    def x690_once() -> None:  # x690 decoding each value once (the design's "cache" figure)
        for p in packets:
            pdu = mpm.decode(p, creds)
            [(oid.nodes, value.pythonize()) for oid, value in pdu.value.varbinds]

    def ours() -> None:
        for p in packets:
            codec.decode_message(p)

    out = {"packets": len(packets), "varbinds": varbinds}
    for label, fn in (("puresnmp_as_walked", stock), ("x690_decoded_once", x690_once),
                      ("project_codec", ours)):
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        out[f"{label}_us_per_varbind"] = round(min(times) / varbinds * 1e6, 2)
    out["saving_vs_stock"] = round(out["puresnmp_as_walked_us_per_varbind"]
                                   / out["project_codec_us_per_varbind"], 1)
    return out


def stock_decode_counts(port: int, community: str, root: str) -> dict:
    """x690 calls per varbind in one stock puresnmp bulkwalk (cProfile call counts)."""
    profile = cProfile.Profile()
    profile.enable()
    count = stock_walk(port, community, root)
    profile.disable()
    import x690.types as t

    lines = {t.Sequence.decode_raw.__code__.co_firstlineno: "sequence_decodes",
             t.ObjectIdentifier.decode_raw.__code__.co_firstlineno: "oid_decodes",
             t.X690Type.decode_raw.__code__.co_firstlineno: "octet_string_decodes"}
    calls = {}
    for (path, line, name), (_, ncalls, *_rest) in pstats.Stats(profile).stats.items():
        if path.endswith("x690/types.py"):
            key = "tlv_parses" if name == "decode" else lines.get(line) if name == "decode_raw" \
                else None
            if key:
                calls[key] = calls.get(key, 0) + ncalls
    per = {k: round(v / count, 1) for k, v in calls.items()}
    per["project_tlv_parses"] = 3.0  # varbind, OID, value: each read once
    return per


def leak_check(failures: int = 200) -> dict:
    closed = udp_port()

    async def refused(sender) -> int:
        client = Client("127.0.0.1", V2C("x"), port=closed, **({"sender": sender} if sender else {}))
        client.configure(timeout=1, retries=1)
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(failures):
            try:
                await client.get(ObjectIdentifier("1.3.6.1.2.1.1.1.0"))
            except Exception:
                pass
        await asyncio.sleep(0)
        return len(os.listdir("/proc/self/fd")) - before

    return {"refused_requests": failures,
            "fds_leaked_stock_sender": asyncio.run(refused(None)),
            "fds_leaked_project_sender": asyncio.run(refused(make_sender(1.0, 1)))}


def print_table(agents: list[dict], decode: dict, counts: dict, leak: dict) -> None:
    print(f"\nSNMP walk throughput (GetBulk x{BULK}, best run, 127.0.0.1)")
    print(f"{'agent':9} {'client':13} {'varbinds':>8} {'seconds':>8} {'vb/s':>9} {'cpu s':>7}")
    for a in agents:
        for label in ("project", "puresnmp", "snmpbulkwalk"):
            r = a[label]
            print(f"{a['agent']:9} {label:13} {r['varbinds']:8} {r['seconds']:8.3f} "
                  f"{r['varbinds_per_s']:9} {r['client_cpu_s']:7.3f}")
        print(f"{'':9} project / puresnmp = {a['project_vs_puresnmp']}x; "
              f"snmpbulkwalk / project = {a['snmpbulkwalk_vs_project']}x; "
              f"same rows: {a['same_rows']}")
    print(f"\nDecoding {decode['varbinds']} captured varbinds ({decode['packets']} responses), "
          "µs per varbind:")
    for key in ("puresnmp_as_walked", "x690_decoded_once", "project_codec"):
        print(f"  {key:20} {decode[key + '_us_per_varbind']:8.2f}")
    print(f"  decode-once saving: {decode['saving_vs_stock']}x less CPU than stock")
    print(f"  stock walk, x690 per varbind: {counts}")
    print(f"\nRefused port, {leak['refused_requests']} requests: stock sender leaked "
          f"{leak['fds_leaked_stock_sender']} fds, project sender "
          f"{leak['fds_leaked_project_sender']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="facho-bench-snmp-"))
    snmpd, sim = None, None
    try:
        snmpd, snmpd_port = start_snmpd(workdir)
        data = workdir / "data"
        data.mkdir()
        write_snmprec(data / "huawei.snmprec", "huawei", 2048, seed=1)
        sim = SnmpSim(data, udp_port()).start()
        agents = [measure_agent("snmpd", snmpd_port, "bench", EXTEND_ROOT, args.rounds),
                  measure_agent("snmpsim", sim.port, "huawei", HUAWEI_ROOT,
                                max(1, args.rounds // 2))]
        packets = capture_responses(snmpd_port, "bench", EXTEND_ROOT)
        decode = decode_costs(packets, "bench", args.rounds)
        counts = stock_decode_counts(snmpd_port, "bench", EXTEND_ROOT)
        leak = leak_check()
    finally:
        if sim:
            sim.stop()
        if snmpd:
            snmpd.terminate()
            snmpd.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(agents, decode, counts, leak)
    results = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "platform": platform.platform()},
               "bulk_size": BULK, "agents": agents, "decode": decode,
               "stock_x690_calls_per_varbind": counts, "socket_leak": leak}
    out = ROOT / "bench" / "results" / "snmp.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

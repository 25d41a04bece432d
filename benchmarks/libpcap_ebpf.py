"""libpcap's classic BPF as the kernel runs it, for benchmarks/filter_cost.py.

Ported from the perf baseline harness (shared/perf/filter_cost.py, our own code),
so that the benchmark is self-contained and measures exactly what the baseline
table in shared/perf/results/filter_cost.md measured:

* ``make_frames()``: the fixed 15-frame mix (nothing is sent anywhere; the frames
  are only BPF_PROG_TEST_RUN input and libpcap verdict input).
* ``convert(prog, mode)``: classic BPF -> eBPF after the kernel's
  ``bpf_convert_filter()`` (net/core/filter.c, Linux 6.18).
  ``"kernel"``: exactly what SO_ATTACH_FILTER produces (inline fast path for each
  packet load, helper slow path; counted only, it uses kernel-internal offsets).
  ``"loadable"``: the same mapping in a form the verifier accepts as
  BPF_PROG_TYPE_SOCKET_FILTER (packet loads stay eBPF LD_ABS/LD_IND); this is the
  "loaded" column of the baseline table and the program that is timed.
* ``prog_info(fd)``: xlated length and JIT size from BPF_OBJ_GET_INFO_BY_FD.
"""
import ctypes
import os
import struct

# ---------------------------------------------------------------- test frames

def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def _eth(dst, src, et, vlan=None):
    m = lambda s: bytes(int(x, 16) for x in s.split(":"))
    h = m(dst) + m(src)
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", et)


def _ip4(src, dst, proto, payload, frag=0x4000, ident=1):
    a = bytes(int(x) for x in src.split(".")) + bytes(int(x) for x in dst.split("."))
    h = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0) + a
    h = h[:10] + struct.pack("!H", _csum(h)) + h[12:]
    return h + payload


def _ip6(src, dst, nh, payload):
    import ipaddress
    return (struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + ipaddress.IPv6Address(src).packed +
            ipaddress.IPv6Address(dst).packed + payload)


def _tcp(sport, dport, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000 if flags & 0x10 else 0, 0x50, flags, 65535, 0, 0) + payload


def _udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def _pad(f, n=60):
    return f + bytes(max(0, n - len(f)))


def make_frames():
    """A small, fixed mix of frames (name, bytes). Only used as BPF_PROG_TEST_RUN input and
    to compile/verify with tcpdump/libpcap offline; nothing is sent anywhere."""
    A, B, BC = "02:00:00:00:00:02", "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff"
    E4, E6 = 0x0800, 0x86DD
    fr = []
    fr.append(("tcp4_syn_443", _pad(_eth(A, B, E4) + _ip4("10.0.0.1", "1.2.3.4", 6, _tcp(40000, 443, 0x02)))))
    fr.append(("tcp4_80_1000B", _eth(B, A, E4) + _ip4("192.168.1.10", "10.1.2.3", 6,
                                                     _tcp(80, 51000, 0x18, b"x" * 946))))
    fr.append(("tcp4_http_get", _eth(A, B, E4) + _ip4("10.0.0.7", "10.9.9.9", 6,
                                                     _tcp(50000, 8080, 0x18, b"GET / HTTP/1.1\r\n\r\n"))))
    fr.append(("tcp4_22", _pad(_eth(A, B, E4) + _ip4("10.0.0.9", "10.0.0.10", 6, _tcp(50022, 22, 0x10)))))
    fr.append(("udp4_dns", _eth(A, B, E4) + _ip4("10.0.0.5", "8.8.8.8", 17, _udp(5353, 53, bytes(30)))))
    fr.append(("udp4_magic", _eth(A, B, E4) + _ip4("172.16.0.1", "172.16.0.2", 17,
                                                  _udp(4000, 4001, bytes.fromhex("12345678") + bytes(20)))))
    fr.append(("udp4_frag", _eth(A, B, E4) + _ip4("10.0.0.5", "10.0.0.6", 17, _udp(1111, 53, bytes(40)), frag=0x2000)))
    fr.append(("udp4_frag_tail", _eth(A, B, E4) + _ip4("10.0.0.5", "10.0.0.6", 17, bytes(48), frag=185)))
    fr.append(("icmp4_echo", _pad(_eth(A, B, E4) + _ip4("10.0.0.1", "10.0.0.2", 1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + bytes(16)))))
    fr.append(("gre4_1500", _eth(A, B, E4) + _ip4("10.0.0.1", "10.0.0.2", 47, bytes(1500 - 20))))
    fr.append(("tcp6_443", _eth(A, B, E6) + _ip6("2001:db8::1", "2001:db8::2", 6, _tcp(40000, 443, 0x02))))
    fr.append(("udp6_dns", _eth(A, B, E6) + _ip6("2001:db8::5", "2001:4860::8888", 17, _udp(5353, 53, bytes(30)))))
    fr.append(("icmp6_echo", _eth(A, B, E6) + _ip6("fe80::1", "fe80::2", 58, bytes([128, 0, 0, 0, 0, 1, 0, 1]))))
    fr.append(("arp_bcast", _pad(_eth(BC, B, 0x0806) + struct.pack("!HHBBH", 1, 0x800, 6, 4, 1) +
                                 bytes.fromhex("020000000001") + bytes([10, 0, 0, 1]) + bytes(6) + bytes([10, 0, 0, 2]))))
    fr.append(("vlan100_tcp4_80", _eth(A, B, 0x8100, vlan=100)[:-2] + struct.pack("!H", E4) +
               _ip4("10.0.0.1", "10.0.0.2", 6, _tcp(40001, 80, 0x18, bytes(10)))))
    return fr


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, (_, d) in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(d), len(d)) + d)

# ---------------------------------------------------------------- cBPF

# classic BPF field helpers
def CLASS(c): return c & 0x07
def SIZE(c): return c & 0x18
def MODE(c): return c & 0xE0
def OP(c): return c & 0xF0
def SRC(c): return c & 0x08
def RVAL(c): return c & 0x18

LD, LDX, ST, STX, ALU, JMP, RET, MISC = range(8)
W, H, B = 0x00, 0x08, 0x10
IMM, ABS, IND, MEM, LEN, MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xA0
K, X = 0x00, 0x08
JA, JEQ, JGT, JGE, JSET = 0x00, 0x10, 0x20, 0x30, 0x40
SIZE_BYTES = {W: 4, H: 2, B: 1}

SKF_AD_OFF = -0x1000
SKF_AD = {0: "protocol", 4: "pkttype", 8: "ifindex", 12: "nlattr", 16: "nlattr_nest", 20: "mark", 24: "queue",
          28: "hatype", 32: "rxhash", 36: "cpu", 40: "alu_xor_x", 44: "vlan_tag", 48: "vlan_tag_present",
          52: "pay_offset", 56: "random", 60: "vlan_tpid"}

# ---------------------------------------------------------------- eBPF encoding

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)
REG_A, REG_X, REG_TMP, REG_CTX, REG_D, REG_H, REG_FP = R0, R7, R2, R6, R8, R9, R10
E_ALU, E_JMP, E_ALU64, E_LDX, E_STX, E_LD = 0x04, 0x05, 0x07, 0x01, 0x03, 0x00
E_MOV, E_END, E_CALL, E_EXIT = 0xB0, 0xD0, 0x80, 0x90
E_JNE, E_JLT, E_JLE, E_JSGE, E_JSLT = 0x50, 0xA0, 0xB0, 0x70, 0xC0
E_TO_BE = 0x08
E_MEM = 0x60
E_DW = 0x18
SKB_FIELD = {  # struct __sk_buff offsets (uapi)
    "len": 0, "pkt_type": 4, "mark": 8, "queue_mapping": 12, "protocol": 16, "vlan_present": 20,
    "vlan_tci": 24, "vlan_proto": 28, "ifindex": 40, "hash": 68}
HELPER_PRANDOM, HELPER_SMP_ID = 7, 8


class I:
    """One eBPF instruction. target: cBPF index for a jump resolved at layout time;
    pseudo: text of a kernel-internal instruction (counted, never encoded)."""
    __slots__ = ("code", "dst", "src", "off", "imm", "target", "pseudo")

    def __init__(self, code, dst=0, src=0, off=0, imm=0, target=None, pseudo=None):
        self.code, self.dst, self.src, self.off, self.imm, self.target, self.pseudo = code, dst, src, off, imm, target, pseudo

    def enc(self):
        if self.pseudo:
            raise ValueError("kernel-internal instruction cannot be loaded: " + self.pseudo)
        imm = self.imm if self.imm < 0x80000000 else self.imm - (1 << 32)
        return struct.pack("<BBhi", self.code, (self.src << 4) | self.dst, self.off, imm)


def mov64_reg(d, s): return I(E_ALU64 | E_MOV | X, d, s)
def mov32_reg(d, s): return I(E_ALU | E_MOV | X, d, s)
def mov32_imm(d, k): return I(E_ALU | E_MOV | K, d, 0, 0, k & 0xFFFFFFFF)
def mov64_imm(d, k): return I(E_ALU64 | E_MOV | K, d, 0, 0, k & 0xFFFFFFFF)
def alu32_imm(op, d, k): return I(E_ALU | op | K, d, 0, 0, k & 0xFFFFFFFF)
def alu32_reg(op, d, s): return I(E_ALU | op | X, d, s)
def alu64_imm(op, d, k): return I(E_ALU64 | op | K, d, 0, 0, k & 0xFFFFFFFF)
def ldx_mem(size, d, s, off): return I(E_LDX | E_MEM | size, d, s, off)
def stx_mem(size, d, s, off): return I(E_STX | E_MEM | size, d, s, off)
def jmp_imm(op, d, k, off): return I(E_JMP | op | K, d, 0, off, k & 0xFFFFFFFF)
def ja(off): return I(E_JMP | JA, 0, 0, off)
def exit_(): return I(E_JMP | E_EXIT)
def endian_be(d, bits): return I(E_ALU | E_END | E_TO_BE, d, 0, 0, bits)
def call(helper): return I(E_JMP | E_CALL, 0, 0, 0, helper)
def pseudo(text): return I(0, pseudo=text)


class Unsupported(Exception):
    pass


def kernel_ld_abs(code, k, out):
    """convert_bpf_ld_abs(): inline fast path + helper slow path (kernel form, counted only)."""
    size = SIZE_BYTES[SIZE(code)]
    endian = SIZE(code) in (H, W)
    indirect = MODE(code) == IND
    offset = k if k < 0x80000000 else k - (1 << 32)
    if not indirect and offset >= 0:  # x86-64: HAVE_EFFICIENT_UNALIGNED_ACCESS
        ldx_off_ok = offset <= 32767
        out.append(mov64_reg(REG_TMP, REG_H))
        if offset:
            out.append(alu64_imm(0x10, REG_TMP, offset))
        out.append(jmp_imm(E_JSLT, REG_TMP, size, 2 + endian + (0 if ldx_off_ok else 2)))
        if ldx_off_ok:
            out.append(ldx_mem(SIZE(code), REG_A, REG_D, offset))
        else:
            out += [mov64_reg(REG_TMP, REG_D), alu64_imm(0x00, REG_TMP, offset), ldx_mem(SIZE(code), REG_A, REG_TMP, 0)]
        if endian:
            out.append(endian_be(REG_A, size * 8))
        out.append(ja(8))
    out += [mov64_reg(R1, REG_CTX), mov64_reg(R2, REG_D), mov64_reg(R3, REG_H)]
    if not indirect:
        out.append(mov64_imm(R4, offset))
    else:
        out.append(mov64_reg(R4, REG_X))
        if k:
            out.append(alu64_imm(0x00, R4, offset))
    out.append(pseudo("call bpf_skb_load_helper_%d" % (size * 8)))
    out += [jmp_imm(E_JSGE, REG_A, 0, 2), alu32_reg(0xA0, REG_A, REG_A), exit_()]


def loadable_ld_abs(code, k, out):
    """Native eBPF LD_ABS/LD_IND (the verifier expands it with bpf_gen_ld_abs())."""
    if MODE(code) == IND:
        out.append(I(E_LD | IND | SIZE(code), 0, REG_X, 0, k))
    else:
        out.append(I(E_LD | ABS | SIZE(code), 0, 0, 0, k))


def extension(k, kernel, out):
    """convert_bpf_extensions(); returns False if k is not an ancillary offset."""
    off = k - (1 << 32) if k >= 0x80000000 else k
    if off < SKF_AD_OFF or off >= SKF_AD_OFF + 64 or (off - SKF_AD_OFF) not in SKF_AD:
        return False
    name = SKF_AD[off - SKF_AD_OFF]
    if kernel:
        P = lambda t: pseudo(t)
        table = {
            "protocol": [P("ldxh r0, [r6+skb.protocol]"), endian_be(REG_A, 16)],
            "pkttype": [P("ldxb r0, [r6+PKT_TYPE_OFFSET]"), alu32_imm(0x50, REG_A, 7)],
            "ifindex": [P("ldxdw r2, [r6+skb.dev]"), jmp_imm(E_JNE, REG_TMP, 0, 1), exit_(), P("ldxw r0, [r2+dev.ifindex]")],
            "hatype": [P("ldxdw r2, [r6+skb.dev]"), jmp_imm(E_JNE, REG_TMP, 0, 1), exit_(), P("ldxh r0, [r2+dev.type]")],
            "mark": [P("ldxw r0, [r6+skb.mark]")],
            "rxhash": [P("ldxw r0, [r6+skb.hash]")],
            "queue": [P("ldxh r0, [r6+skb.queue_mapping]")],
            "vlan_tag": [P("ldxh r0, [r6+skb.vlan_tci]")],
            "vlan_tag_present": [P("ldxw r0, [r6+skb.vlan_all]"), jmp_imm(0x10, REG_A, 0, 1), mov32_imm(REG_A, 1)],
            "vlan_tpid": [P("ldxh r0, [r6+skb.vlan_proto]"), endian_be(REG_A, 16)],
            "alu_xor_x": [alu32_reg(0xA0, REG_A, REG_X)],
        }
        if name in table:
            out += table[name]
        else:  # pay_offset, nlattr, nlattr_nest, cpu, random
            out += [mov64_reg(R1, REG_CTX), mov64_reg(R2, REG_A), mov64_reg(R3, REG_X), P("call bpf_" + name)]
        return True
    f = SKB_FIELD
    table = {
        "protocol": [ldx_mem(W, REG_A, REG_CTX, f["protocol"]), endian_be(REG_A, 16)],
        "pkttype": [ldx_mem(W, REG_A, REG_CTX, f["pkt_type"])],
        "ifindex": [ldx_mem(W, REG_A, REG_CTX, f["ifindex"])],
        "mark": [ldx_mem(W, REG_A, REG_CTX, f["mark"])],
        "rxhash": [ldx_mem(W, REG_A, REG_CTX, f["hash"])],
        "queue": [ldx_mem(W, REG_A, REG_CTX, f["queue_mapping"])],
        "vlan_tag": [ldx_mem(W, REG_A, REG_CTX, f["vlan_tci"])],
        "vlan_tag_present": [ldx_mem(W, REG_A, REG_CTX, f["vlan_present"])],
        "vlan_tpid": [ldx_mem(W, REG_A, REG_CTX, f["vlan_proto"]), endian_be(REG_A, 16)],
        "alu_xor_x": [alu32_reg(0xA0, REG_A, REG_X)],
        "cpu": [call(HELPER_SMP_ID)],
        "random": [call(HELPER_PRANDOM)],
    }
    if name not in table:
        raise Unsupported("SKF_AD_%s has no socket-filter eBPF equivalent" % name.upper())
    out += table[name]
    return True


def convert(prog, mode):
    """Classic -> eBPF, mirroring bpf_convert_filter(). mode: "kernel" (exact kernel output,
    counted only), "loadable" (SOCKET_FILTER).
    Returns list of I."""
    kernel = mode == "kernel"
    ld_abs = {"kernel": kernel_ld_abs, "loadable": loadable_ld_abs}[mode]
    n = len(prog)
    per = []
    seen_ld_abs = False
    for i, (code, jt, jf, k) in enumerate(prog):
        out = []
        cls = CLASS(code)
        if cls == ALU or (cls == LD and MODE(code) in (ABS, IND)):
            if cls == LD and MODE(code) == ABS and extension(k, kernel, out):
                pass
            elif cls == LD:
                ld_abs(code, k, out)
                seen_ld_abs = True
            else:
                if code in (ALU | 0x30 | X, ALU | 0x90 | X):  # DIV X, MOD X
                    out += [mov32_reg(REG_X, REG_X), jmp_imm(E_JNE, REG_X, 0, 2), alu32_reg(0xA0, REG_A, REG_A), exit_()]
                out.append(I(code, REG_A, REG_X if SRC(code) == X and OP(code) != 0x80 else 0, 0,
                             k if SRC(code) == K else 0))
        elif code == JMP | JA:
            if k >= n - i - 1:  # as bpf_check_classic(): k is unsigned, jumps go forward
                raise Unsupported("backward jump: the kernel rejects this cBPF program "
                                  "(libpcap then filters in user space)")
            out.append(I(E_JMP | JA, target=i + k + 1))
        elif cls == JMP:
            op = OP(code)
            if SRC(code) == K and k >= 0x80000000:
                out.append(mov32_imm(REG_TMP, k))
                src, s, imm = X, REG_TMP, 0
            else:
                src, s, imm = SRC(code), (REG_X if SRC(code) == X else 0), (k if SRC(code) == K else 0)
            if jf == 0:
                out.append(I(E_JMP | op | src, REG_A, s, 0, imm, target=i + jt + 1))
            elif jt == 0 and op in (JEQ, JGT, JGE):
                neg = {JEQ: E_JNE, JGT: E_JLE, JGE: E_JLT}[op]
                out.append(I(E_JMP | neg | src, REG_A, s, 0, imm, target=i + jf + 1))
            else:
                out.append(I(E_JMP | op | src, REG_A, s, 0, imm, target=i + jt + 1))
                out.append(I(E_JMP | JA, target=i + jf + 1))
        elif code == LDX | B | MSH:
            seen_ld_abs = True
            out.append(mov64_reg(REG_X, REG_A))
            ld_abs(LD | ABS | B, k, out)
            out += [alu32_imm(0x50, REG_A, 0xF), alu32_imm(0x60, REG_A, 2), mov64_reg(REG_TMP, REG_X),
                    mov64_reg(REG_X, REG_A), mov64_reg(REG_A, REG_TMP)]
        elif cls == RET:
            if RVAL(code) == K:
                out.append(mov32_imm(R0, k))
            out.append(exit_())
        elif cls in (ST, STX):
            out.append(stx_mem(W, REG_FP, REG_A if cls == ST else REG_X, -(k * 4 + 4)))
        elif cls in (LD, LDX) and MODE(code) == MEM:
            out.append(ldx_mem(W, REG_A if cls == LD else REG_X, REG_FP, -(k * 4 + 4)))
        elif cls in (LD, LDX) and MODE(code) == IMM:
            out.append(mov32_imm(REG_A if cls == LD else REG_X, k))
        elif code == MISC | 0x00:  # TAX
            out.append(mov64_reg(REG_X, REG_A))
        elif code == MISC | 0x80:  # TXA
            out.append(mov64_reg(REG_A, REG_X))
        elif cls in (LD, LDX) and MODE(code) == LEN:
            dst = REG_A if cls == LD else REG_X
            out.append(pseudo("ldxw r%d, [r6+skb.len]" % dst) if kernel else ldx_mem(W, dst, REG_CTX, SKB_FIELD["len"]))
        else:
            raise Unsupported("cBPF opcode 0x%02x" % code)
        per.append(out)
    if kernel:
        pro = [alu32_reg(0xA0, REG_A, REG_A), alu32_reg(0xA0, REG_X, REG_X), mov64_reg(REG_CTX, R1)]
        if seen_ld_abs:
            pro += [pseudo("ldxdw r8, [r6+skb.data]"), pseudo("ldxw r9, [r6+skb.len]"),
                    pseudo("ldxw r2, [r6+skb.data_len]"), alu32_reg(0x10, REG_H, REG_TMP)]
    else:
        pro = [mov32_imm(REG_A, 0), mov32_imm(REG_X, 0), mov64_reg(REG_CTX, R1)]
    addrs, pos = [], len(pro)
    for out in per:
        addrs.append(pos)
        pos += len(out)
    res = list(pro)
    for i, out in enumerate(per):
        for j, ins in enumerate(out):
            if ins.target is not None:
                if not 0 <= ins.target < n:
                    raise ValueError("jump out of range")
                ins.off = addrs[ins.target] - (addrs[i] + j) - 1
                if not -32768 <= ins.off <= 32767:
                    raise ValueError("jump offset does not fit")
            res.append(ins)
    return res

# ---------------------------------------------------------------- bpf() syscall

_libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321  # x86_64
BPF_OBJ_GET_INFO_BY_FD = 15


def encode(insns):
    """Bytes of a converted program (list of I)."""
    return b"".join(i.enc() for i in insns)


def prog_info(fd):
    """jited_bytes, xlated_insns and verified_insns of a loaded program."""
    info = ctypes.create_string_buffer(256)
    attr = struct.pack("<IIQ", fd, 224, ctypes.addressof(info)).ljust(160, b"\0")
    buf = ctypes.create_string_buffer(attr, len(attr))
    if _libc.syscall(NR_BPF, BPF_OBJ_GET_INFO_BY_FD, buf, len(attr)) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    jited_len, xlated_len = struct.unpack_from("<II", info.raw, 16)
    verified = struct.unpack_from("<I", info.raw, 216)[0]
    return {"jited_bytes": jited_len, "xlated_insns": xlated_len // 8, "verified_insns": verified}

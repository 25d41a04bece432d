/*
 * pycap.h: what the C that pycap generates for a socket filter (pycap -d c,
 * pycap --backend bcc) needs, for BCC as well as for plain clang/libbpf.
 *
 * The filter's semantics are classic BPF's, as in pycap's own eBPF backend:
 *   - values are 32-bit unsigned; arithmetic wraps;
 *   - a packet load outside the packet rejects the whole packet (the program
 *     returns 0), and so does a division or modulo by zero;
 *   - multi-byte loads are big-endian (network order).
 * load_byte/load_half/load_word are LLVM's BPF_LD_ABS/BPF_LD_IND intrinsics:
 * the kernel checks the bounds and, when the load is outside the packet, ends
 * the program with return value 0, classic BPF's rule.  A variable
 * offset is checked against PYCAP_MAX_OFFSET first, because BPF_LD_IND gives
 * negative offsets (>= 2^31 as unsigned) a special meaning (SKF_NET_OFF...).
 *
 * PYCAP_LD*, PYCAP_LDX*, PYCAP_DIV/PYCAP_MOD and PYCAP_REJECT are GNU statement
 * expressions containing "return 0": use them only in the socket filter's own
 * function (an inline helper would return from itself, not reject the packet).
 */
#ifndef PYCAP_H
#define PYCAP_H

#ifdef BCC_SEC     /* BCC: its helpers.h declares load_byte & co.; it places functions itself */
#define PYCAP_SEC
#else              /* clang -O2 -target bpf, loaded with libbpf: section "socket" */
#include <linux/bpf.h>
typedef __u32 u32;
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
#define PYCAP_SEC __attribute__((section("socket"), used))
#endif

/* Largest packet offset a variable-offset load may use (the maximum snap length). */
#define PYCAP_MAX_OFFSET 0x40000U

/*
 * LLVM declares the load intrinsics as plain memory reads: it loads a field
 * once for several tests (good), and it deletes a load whose value cannot
 * change the result ("byte 1 | 256 != 0"), and with it the kernel's bounds
 * check that would reject a short packet (bad).  PYCAP_LD* below state that
 * check in C; pycap_keep (an empty volatile asm taking the value) keeps a load
 * where a "return 0" cannot reject, inside a helper function.  Values stay
 * 64-bit: the kernel zero-extends what it loads, so comparing them as they are
 * spares the truncation a u32 would cost on BCC's BPF v1 target.
 */
static __always_inline unsigned long long pycap_keep(unsigned long long value)
{
    asm volatile("" : "+r"(value));
    return value;
}

/* A byte whose load always runs: for helpers, where "return 0" would not reject. */
#define PYCAP_KEEP8(skb, off) pycap_keep(load_byte((skb), (off)))

/*
 * 1, 2 or 4 bytes at a constant offset, big-endian, zero-extended.  The
 * explicit length check is classic BPF's rule said in C, so it holds even
 * where clang drops a load whose value does not matter; and since the loads
 * themselves stay plain, clang may load a field once for several tests and
 * merge checks that one another imply.
 */
#define PYCAP_LOAD(fn, size, skb, off) ({                       \
        if ((skb)->len < (u32)(off) + (size))                   \
            return 0;                                           \
        fn((skb), (off));                                       \
    })
#define PYCAP_LD8(skb, off)  PYCAP_LOAD(load_byte, 1, skb, off)
#define PYCAP_LD16(skb, off) PYCAP_LOAD(load_half, 2, skb, off)
#define PYCAP_LD32(skb, off) PYCAP_LOAD(load_word, 4, skb, off)

/* The same at a computed offset (tcp[...], ip[...] after the IP header length). */
#define PYCAP_LDX(fn, size, skb, off) ({                        \
        u32 pycap_off_ = (off);                                 \
        if (pycap_off_ > PYCAP_MAX_OFFSET)                      \
            return 0;                                           \
        PYCAP_LOAD(fn, size, skb, pycap_off_);                  \
    })
#define PYCAP_LDX8(skb, off)  PYCAP_LDX(load_byte, 1, skb, off)
#define PYCAP_LDX16(skb, off) PYCAP_LDX(load_half, 2, skb, off)
#define PYCAP_LDX32(skb, off) PYCAP_LDX(load_word, 4, skb, off)

/* Division and modulo by a computed divisor: zero rejects the packet. */
#define PYCAP_DIV(a, b) ({ u32 pycap_d_ = (b); if (pycap_d_ == 0) return 0; (u32)(a) / pycap_d_; })
#define PYCAP_MOD(a, b) ({ u32 pycap_d_ = (b); if (pycap_d_ == 0) return 0; (u32)(a) % pycap_d_; })

/* A load that can never be inside a packet (constant offset >= PYCAP_MAX_OFFSET)
 * or a constant division by zero: the packet is rejected when it is evaluated. */
#define PYCAP_REJECT() ({ return 0; 0U; })

/*
 * protochain: libpcap's gen_protochain loop, step for step.  From the IPv4
 * (version 4) or IPv6 (version 6) header at offset "base", follow AH headers
 * (and, on IPv6, hop-by-hop, destination, routing and fragment headers) until
 * protocol "proto" or "no next header"; true if the chain reaches "proto".
 * libpcap's quirk is kept: after AH the offset is the AH length alone.
 * pycap bounds the walk at "max_steps" headers (libpcap has no bound).  A
 * load outside the packet rejects it; an offset cannot wrap (each step adds at
 * most 2048), and BPF_LD_IND fails beyond the packet like any other load.
 */
#define PYCAP_IPPROTO_NONE 59
#define PYCAP_IPPROTO_AH 51
#define PYCAP_IPV6_EXTENSION(p) ((p) == 0 || (p) == 60 || (p) == 43 || (p) == 44)

static __always_inline int pycap_protochain(void *skb, u32 version, u32 proto, u32 base,
                                            u32 max_steps)
{
    u32 a, x, step;

    if (version == 6) {
        a = PYCAP_KEEP8(skb, base + 6);
        x = 40;
    } else {
        a = PYCAP_KEEP8(skb, base + 9);
        x = (PYCAP_KEEP8(skb, base) & 0x0f) * 4;
    }
    for (step = 0; step < max_steps; step++) {
        u32 next, len;

        if (a == proto || a == PYCAP_IPPROTO_NONE)
            return a == proto;
        if (version == 6 && PYCAP_IPV6_EXTENSION(a)) {
            next = PYCAP_KEEP8(skb, base + x);
            len = PYCAP_KEEP8(skb, base + x + 1);
            a = next;
            x += (len + 1) * 8;
            continue;
        }
        if (a != PYCAP_IPPROTO_AH)
            return 0;
        next = PYCAP_KEEP8(skb, base + x);
        len = PYCAP_KEEP8(skb, base + x + 1);
        a = next;
        x = (len + 2) * 4;
    }
    return 0;
}

/*
 * transport6: find the upper-layer header of protocol "proto" behind the IPv6
 * header at offset "base" and its extension headers (hop-by-hop, routing,
 * destination options, a first fragment, AH); store its packet offset in
 * *where.  What tcp[...] and friends read over IPv6 (libpcap reads them at the
 * IPv4 header length).  At most "max_steps" headers.
 */
static __always_inline int pycap_transport6(void *skb, u32 proto, u32 base, u32 max_steps,
                                            u32 *where)
{
    u32 a = PYCAP_KEEP8(skb, base + 6), x = 40, step;

    for (step = 0; step < max_steps; step++) {
        u32 next;

        if (a == proto) {
            *where = base + x;
            return 1;
        }
        if (a == 44) {
            if (((PYCAP_KEEP8(skb, base + x + 2) << 8) | PYCAP_KEEP8(skb, base + x + 3)) & 0xfff8)
                return 0;
            next = PYCAP_KEEP8(skb, base + x);
            a = next;
            x += 8;
        } else if (a == 0 || a == 43 || a == 60) {
            next = PYCAP_KEEP8(skb, base + x);
            x += (PYCAP_KEEP8(skb, base + x + 1) + 1) * 8;
            a = next;
        } else if (a == PYCAP_IPPROTO_AH) {
            next = PYCAP_KEEP8(skb, base + x);
            x += (PYCAP_KEEP8(skb, base + x + 1) + 2) * 4;
            a = next;
        } else {
            return 0;
        }
    }
    return 0;
}

#endif /* PYCAP_H */

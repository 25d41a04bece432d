/* The -w hot path in C: savefile records for the packets of a TPACKET_V3
 * ring block, appended to a bytearray.
 *
 * It does what pycap/capture/encode.py's loops do in Python (the loops stay
 * there, and are used when this module is not built): walk the
 * tp_next_offset chain, and for each packet append the pcap record header
 * (µs or ns) or the pcapng EPB header, the cooked SLL/SLL2 header built from
 * the sockaddr_ll (-i any) or the frame with its offloaded 802.1Q tag put
 * back, the captured bytes, and for pcapng the padding and the trailing block
 * length.  Packets the layout does not want (direction "out", loopback's
 * outgoing copies) are consumed without a record.  The headers are written
 * straight into the output, so the ring is only read.
 *
 * Every offset read from the ring is checked against the length of the
 * buffer: a corrupt block raises ValueError and nothing is appended.
 * Only the buffer protocol is used: no ctypes (DESIGN.md).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* encode()'s flags, exported as module constants */
#define F_PCAPNG 1      /* EPBs instead of pcap records */
#define F_NANO 2        /* ns time stamps (pcap: the file's magic; pcapng: if_tsresol 9) */
#define F_SLL 4         /* SOCK_DGRAM: LINKTYPE_LINUX_SLL header in front */
#define F_SLL2 8        /* SOCK_DGRAM: LINKTYPE_LINUX_SLL2 header in front */
#define F_OUT 16        /* keep only PACKET_OUTGOING */
#define F_VLAN 32       /* Ethernet: reinsert offloaded 802.1Q tags */

/* struct tpacket3_hdr (linux/if_packet.h) */
#define TP_NEXT_OFFSET 0
#define TP_SEC 4
#define TP_NSEC 8
#define TP_SNAPLEN 12
#define TP_LEN 16
#define TP_STATUS 20
#define TP_MAC 24
#define TP_VLAN_TCI 32
#define TP_VLAN_TPID 36
/* struct sockaddr_ll at TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) */
#define SLL_OFFSET 48
#define SLL_PROTOCOL (SLL_OFFSET + 2)   /* network order */
#define SLL_IFINDEX (SLL_OFFSET + 4)
#define SLL_HATYPE (SLL_OFFSET + 8)
#define SLL_PKTTYPE (SLL_OFFSET + 10)
#define SLL_HALEN (SLL_OFFSET + 11)
#define SLL_ADDR (SLL_OFFSET + 12)
#define HDR_END (SLL_OFFSET + 20)

/* The first pass reads one header after another, each saying where the
 * next one is: without help every header is a cache miss (the kernel wrote
 * it on another CPU), one after the other.  So the pass also asks for the
 * ring bytes this far ahead, as many as it walks over; the second pass then
 * copies packet data that is in the cache as well. */
#define PREFETCH_AHEAD 8192
#define CACHE_LINE 64

#define TP_STATUS_VLAN_VALID (1u << 4)
#define TP_STATUS_VLAN_TPID_VALID (1u << 6)
#define PACKET_OUTGOING 4
#define ETH_ALEN2 12
#define VLAN_TAG_LEN 4
#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define PCAP_RECORD_LEN 16
#define EPB_HEAD_LEN 28
#define EPB_TYPE 6

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static inline uint8_t *le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

static inline uint8_t *be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
    return p + 2;
}

static inline uint8_t *be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
    return p + 4;
}

typedef struct {
    unsigned flags;
    uint32_t snap;
    long lo_ifindex;            /* < 0: none */
    uint32_t ifid;
} Params;

/* One packet, checked: what its record holds. */
typedef struct {
    uint32_t next, sec, nsec, status;
    size_t frame;               /* ring offset of the captured bytes */
    uint32_t cap;               /* bytes taken from the ring */
    uint32_t head;              /* 0, or the cooked header's or the tag's length */
    uint32_t reccap, wire;      /* the record's caplen and len (head included, cut to snap) */
    size_t size;                /* the whole record */
} Packet;

static int corrupt(size_t off, const char *what)
{
    PyErr_Format(PyExc_ValueError, "corrupt ring block: packet at offset %zu: %s", off, what);
    return -1;
}

/* Fill *pk for the packet at ring offset off: 1 if it makes a record, 0 if
 * the layout skips it, -1 (ValueError set) if it does not fit the buffer. */
static int decode(const uint8_t *ring, size_t len, size_t off, const Params *p, Packet *pk)
{
    if (off > len || len - off < HDR_END)
        return corrupt(off, "header beyond the end of the ring");
    const uint8_t *h = ring + off;
    pk->next = rd32(h + TP_NEXT_OFFSET);
    pk->sec = rd32(h + TP_SEC);
    pk->nsec = rd32(h + TP_NSEC);
    pk->cap = rd32(h + TP_SNAPLEN);
    pk->wire = rd32(h + TP_LEN);
    pk->status = rd32(h + TP_STATUS);
    uint32_t mac = rd16(h + TP_MAC);
    if ((uint64_t)off + mac + pk->cap > len)
        return corrupt(off, "captured bytes beyond the end of the ring");
    pk->frame = off + mac;
    if (p->flags & (F_SLL | F_SLL2 | F_OUT) || p->lo_ifindex >= 0) {
        uint8_t pkttype = h[SLL_PKTTYPE];
        if (p->flags & F_OUT && pkttype != PACKET_OUTGOING)
            return 0;
        /* the loopback device hands us each packet twice, as libpcap knows */
        if (pkttype == PACKET_OUTGOING && (long)(int32_t)rd32(h + SLL_IFINDEX) == p->lo_ifindex)
            return 0;
    }
    pk->head = 0;
    if (p->flags & F_SLL2)
        pk->head = SLL2_HDR_LEN;
    else if (p->flags & F_SLL)
        pk->head = SLL_HDR_LEN;
    else if (p->flags & F_VLAN && pk->status & TP_STATUS_VLAN_VALID && pk->cap >= ETH_ALEN2)
        pk->head = VLAN_TAG_LEN;
    if (pk->wire > UINT32_MAX - pk->head)
        return corrupt(off, "wire length out of range");
    pk->wire += pk->head;
    pk->reccap = pk->cap + pk->head;
    if (pk->reccap > p->snap)
        pk->reccap = p->snap;
    if (p->flags & F_PCAPNG)
        pk->size = EPB_HEAD_LEN + pk->reccap + (-pk->reccap & 3) + 4;
    else
        pk->size = PCAP_RECORD_LEN + pk->reccap;
    return 1;
}

/* Write the record of a decoded packet at dst; return the end. */
static uint8_t *emit(uint8_t *dst, const uint8_t *ring, size_t off, const Params *p, const Packet *pk)
{
    const uint8_t *h = ring + off;
    uint32_t cap = pk->reccap;
    if (p->flags & F_PCAPNG) {
        uint64_t ticks = p->flags & F_NANO ? (uint64_t)pk->sec * 1000000000u + pk->nsec
                                           : (uint64_t)pk->sec * 1000000u + pk->nsec / 1000u;
        uint32_t blen = EPB_HEAD_LEN + cap + (-cap & 3) + 4;
        dst = le32(dst, EPB_TYPE);
        dst = le32(dst, blen);
        dst = le32(dst, p->ifid);
        dst = le32(dst, (uint32_t)(ticks >> 32));
        dst = le32(dst, (uint32_t)ticks);
        dst = le32(dst, cap);
        dst = le32(dst, pk->wire);
    } else {
        dst = le32(dst, pk->sec);
        dst = le32(dst, p->flags & F_NANO ? pk->nsec : pk->nsec / 1000u);
        dst = le32(dst, cap);
        dst = le32(dst, pk->wire);
    }
    /* the link-layer part in front, then as much of the frame as the snap leaves */
    uint8_t head[SLL2_HDR_LEN + ETH_ALEN2];
    uint32_t hn = 0;
    const uint8_t *frame = ring + pk->frame;
    uint32_t from = 0;
    if (p->flags & F_SLL2) {
        uint8_t *q = head;
        memcpy(q, h + SLL_PROTOCOL, 2); q += 2;
        *q++ = 0; *q++ = 0;
        q = be32(q, rd32(h + SLL_IFINDEX));
        q = be16(q, rd16(h + SLL_HATYPE));
        *q++ = h[SLL_PKTTYPE];
        *q++ = h[SLL_HALEN];
        memcpy(q, h + SLL_ADDR, 8);
        hn = SLL2_HDR_LEN;
    } else if (p->flags & F_SLL) {
        uint8_t *q = head;
        q = be16(q, h[SLL_PKTTYPE]);
        q = be16(q, rd16(h + SLL_HATYPE));
        q = be16(q, h[SLL_HALEN]);
        memcpy(q, h + SLL_ADDR, 8); q += 8;
        memcpy(q, h + SLL_PROTOCOL, 2);
        hn = SLL_HDR_LEN;
    } else if (pk->head == VLAN_TAG_LEN) {
        /* the two MAC addresses, then the tag */
        memcpy(head, frame, ETH_ALEN2);
        uint8_t *q = head + ETH_ALEN2;
        q = be16(q, pk->status & TP_STATUS_VLAN_TPID_VALID ? rd16(h + TP_VLAN_TPID) : 0x8100);
        be16(q, rd32(h + TP_VLAN_TCI) & 0xFFFF);
        hn = ETH_ALEN2 + VLAN_TAG_LEN;
        from = ETH_ALEN2;
    }
    uint32_t n = hn < cap ? hn : cap;
    memcpy(dst, head, n);
    dst += n;
    n = cap - n;               /* what is left of the snap for the frame */
    memcpy(dst, frame + from, n);
    dst += n;
    if (p->flags & F_PCAPNG) {
        uint32_t pad = -cap & 3;
        memset(dst, 0, pad);
        dst = le32(dst + pad, EPB_HEAD_LEN + cap + pad + 4);
    }
    return dst;
}

static int as_ssize(PyObject *o, Py_ssize_t *v, const char *name)
{
    *v = PyLong_AsSsize_t(o);
    if (*v == -1 && PyErr_Occurred())
        return -1;
    if (*v < 0) {
        PyErr_Format(PyExc_ValueError, "%s must not be negative", name);
        return -1;
    }
    return 0;
}

static int as_u32(PyObject *o, uint32_t *v, const char *name)
{
    unsigned long long x = PyLong_AsUnsignedLongLong(o);
    if (x == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    if (x > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s does not fit in 32 bits", name);
        return -1;
    }
    *v = (uint32_t)x;
    return 0;
}

PyDoc_STRVAR(encode_doc,
"encode(ring, out, pos, count, flags, snaplen, lo_ifindex, ifid) -> (records, pos)\n\n"
"Consume ``count`` packets of a TPACKET_V3 block, the first at offset ``pos``\n"
"of the buffer ``ring``, and append their savefile records to the bytearray\n"
"``out``.  ``flags`` is an OR of PCAPNG, NANO, SLL, SLL2, OUT and VLAN;\n"
"records are cut to ``snaplen``; with ``lo_ifindex >= 0`` the outgoing copies\n"
"on that interface are skipped; ``ifid`` is the pcapng interface.  Returns the\n"
"number of records appended and the offset after the last packet consumed.\n"
"Raises ValueError, appending nothing, if a packet lies outside ``ring``.");

static PyObject *encode(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 8) {
        PyErr_Format(PyExc_TypeError, "encode() takes 8 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *out = args[1];
    if (!PyByteArray_Check(out)) {
        PyErr_SetString(PyExc_TypeError, "encode(): out must be a bytearray");
        return NULL;
    }
    Py_ssize_t pos, count;
    Params p;
    uint32_t flags;
    long lo;
    if (as_ssize(args[2], &pos, "pos") || as_ssize(args[3], &count, "count")
        || as_u32(args[4], &flags, "flags") || as_u32(args[5], &p.snap, "snaplen")
        || as_u32(args[7], &p.ifid, "ifid"))
        return NULL;
    lo = PyLong_AsLong(args[6]);
    if (lo == -1 && PyErr_Occurred())
        return NULL;
    p.flags = flags;
    p.lo_ifindex = lo;

    Py_buffer ring;
    if (PyObject_GetBuffer(args[0], &ring, PyBUF_SIMPLE) < 0)
        return NULL;
    const uint8_t *base = ring.buf;
    size_t len = (size_t)ring.len;
    PyObject *result = NULL;

    /* first pass: check every packet and add up the record sizes */
    size_t total = 0, off = (size_t)pos;
    Py_ssize_t records = 0;
    Packet pk;
    size_t ahead = off;                          /* asked for up to here */
    for (Py_ssize_t i = 0; i < count; i++) {
        for (; ahead < off + PREFETCH_AHEAD && ahead < len; ahead += CACHE_LINE)
            __builtin_prefetch(base + ahead);
        int r = decode(base, len, off, &p, &pk);
        if (r < 0)
            goto done;
        if (r) {
            total += pk.size;
            records++;
        }
        off += pk.next;
    }
    size_t end = off;
    /* second pass: the records, straight into the grown buffer */
    if (total) {
        Py_ssize_t start = PyByteArray_GET_SIZE(out);
        if ((size_t)PY_SSIZE_T_MAX - (size_t)start < total) {
            PyErr_NoMemory();
            goto done;
        }
        if (PyByteArray_Resize(out, start + (Py_ssize_t)total) < 0)
            goto done;
        uint8_t *dst = (uint8_t *)PyByteArray_AS_STRING(out) + start;
        uint8_t *limit = dst + total;
        off = (size_t)pos;
        for (Py_ssize_t i = 0; i < count; i++) {
            /* the block is ours until released, so this decodes what the first
             * pass did; should the bytes have changed all the same, stop
             * rather than write past what was reserved */
            int r = decode(base, len, off, &p, &pk);
            if (r < 0 || (r && (size_t)(limit - dst) < pk.size)) {
                if (r >= 0)
                    corrupt(off, "the block changed while it was encoded");
                PyByteArray_Resize(out, start);
                goto done;
            }
            if (r)
                dst = emit(dst, base, off, &p, &pk);
            off += pk.next;
        }
    }
    result = Py_BuildValue("(nn)", records, (Py_ssize_t)end);
done:
    PyBuffer_Release(&ring);
    return result;
}

PyDoc_STRVAR(retain_heap_doc,
"retain_heap() -> bool\n\n"
"Ask the C library to keep freed memory of up to a few MiB for reuse: the\n"
"-w loop fills and empties a write buffer of about 128 KiB thousands of\n"
"times a second, which is glibc's default threshold for giving a block its\n"
"own mapping, so each slab could cost a fresh mmap, ~30 page faults and a\n"
"munmap.  False where the C library has no mallopt (not glibc).");

static PyObject *retain_heap(PyObject *self, PyObject *unused)
{
    (void)self; (void)unused;
#ifdef __GLIBC__
    if (mallopt(M_MMAP_THRESHOLD, 4 << 20) && mallopt(M_TRIM_THRESHOLD, 16 << 20))
        Py_RETURN_TRUE;
#endif
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL, encode_doc},
    {"retain_heap", retain_heap, METH_NOARGS, retain_heap_doc},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *m)
{
    if (PyModule_AddIntConstant(m, "PCAPNG", F_PCAPNG) || PyModule_AddIntConstant(m, "NANO", F_NANO)
        || PyModule_AddIntConstant(m, "SLL", F_SLL) || PyModule_AddIntConstant(m, "SLL2", F_SLL2)
        || PyModule_AddIntConstant(m, "OUT", F_OUT) || PyModule_AddIntConstant(m, "VLAN", F_VLAN))
        return -1;
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pycap.capture._ringcodec",
    .m_doc = "Savefile records straight out of a TPACKET_V3 ring block (the -w hot path).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC PyInit__ringcodec(void)
{
    return PyModuleDef_Init(&module);
}

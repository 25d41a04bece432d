/*
 * pcapc — small libpcap helper for the pycap perf baseline (needs libpcap-dev).
 * Copied from shared/perf/pcapc.c (our own code) for benchmarks/filter_cost.py, plus a
 * batch mode for `dump`.
 *
 *   pcapc bench [-l DLT] [-s SNAPLEN] [-O 0|1] [-T SECONDS] [-r REPEATS] < EXPRS
 *       In-process compile-time benchmark: for each expression (one per line on stdin)
 *       calls pcap_compile()+pcap_freecode() in a loop on a pcap_open_dead() handle.
 *       The loop count is calibrated so that one measurement takes about -T seconds
 *       (default 0.1); -r measurements (default 5) are taken. Prints one JSON object
 *       per line: expr, ok/error, insns, iters, us_per_compile (all measurements),
 *       us_median.
 *   pcapc dump [-l DLT] [-s SNAPLEN] [-O 0|1] EXPR
 *       Prints the compiled program as "code jt jf k" lines (decimal), preceded by the
 *       instruction count, like tcpdump -ddd.
 *   pcapc dump [-l DLT] [-s SNAPLEN] [-O 0|1] < EXPRS
 *       Batch form (benchmarks/filter_cost.py): one expression per line on stdin, one
 *       JSON object per line out: expr, ok, insns ([[code, jt, jf, k], ...]) or error.
 *   pcapc verdict [-l DLT] [-s SNAPLEN] [-O 0|1] EXPR FILE.pcap
 *       Runs libpcap's own BPF interpreter (bpf_filter) over each packet of FILE and
 *       prints the return value (bytes to keep, 0 = drop), one per line.
 *
 * DLT defaults to 1 (EN10MB), snaplen to 262144, optimisation to on (as tcpdump).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int dlt = DLT_EN10MB, snaplen = 262144, optimize = 1, repeats = 5;
static double target_s = 0.1;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static int bench(void)
{
    pcap_t *p = pcap_open_dead(dlt, snaplen);
    if (!p) return 1;
    char line[65536];
    while (fgets(line, sizeof(line), stdin)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        struct bpf_program prog;
        printf("{\"expr\": ");
        json_str(line);
        if (pcap_compile(p, &prog, line, optimize, PCAP_NETMASK_UNKNOWN) != 0) {
            printf(", \"ok\": false, \"error\": ");
            json_str(pcap_geterr(p));
            printf("}\n");
            fflush(stdout);
            continue;
        }
        unsigned insns = prog.bf_len;
        pcap_freecode(&prog);
        /* calibrate */
        long iters = 1;
        for (;;) {
            double t0 = now_s();
            for (long i = 0; i < iters; i++) {
                pcap_compile(p, &prog, line, optimize, PCAP_NETMASK_UNKNOWN);
                pcap_freecode(&prog);
            }
            double dt = now_s() - t0;
            if (dt >= target_s / 4 || iters >= (1L << 24)) {
                iters = dt > 0 ? (long)(iters * target_s / dt) : iters * 2;
                if (iters < 1) iters = 1;
                break;
            }
            iters *= 4;
        }
        double us[64];
        if (repeats > 64) repeats = 64;
        for (int r = 0; r < repeats; r++) {
            double t0 = now_s();
            for (long i = 0; i < iters; i++) {
                pcap_compile(p, &prog, line, optimize, PCAP_NETMASK_UNKNOWN);
                pcap_freecode(&prog);
            }
            us[r] = (now_s() - t0) * 1e6 / iters;
        }
        /* median */
        double s[64];
        memcpy(s, us, sizeof(double) * repeats);
        for (int i = 1; i < repeats; i++)
            for (int j = i; j > 0 && s[j - 1] > s[j]; j--) { double t = s[j]; s[j] = s[j - 1]; s[j - 1] = t; }
        double medv = repeats % 2 ? s[repeats / 2] : (s[repeats / 2 - 1] + s[repeats / 2]) / 2;
        printf(", \"ok\": true, \"insns\": %u, \"optimize\": %d, \"iters\": %ld, \"us_per_compile\": [", insns,
               optimize, iters);
        for (int r = 0; r < repeats; r++) printf("%s%.3f", r ? ", " : "", us[r]);
        printf("], \"us_median\": %.3f}\n", medv);
        fflush(stdout);
    }
    pcap_close(p);
    return 0;
}

static int compile1(const char *expr, struct bpf_program *prog)
{
    pcap_t *p = pcap_open_dead(dlt, snaplen);
    if (pcap_compile(p, prog, expr, optimize, PCAP_NETMASK_UNKNOWN) != 0) {
        fprintf(stderr, "pcapc: %s\n", pcap_geterr(p));
        return -1;
    }
    pcap_close(p);
    return 0;
}

static int dump(const char *expr)
{
    struct bpf_program prog;
    if (compile1(expr, &prog)) return 1;
    printf("%u\n", prog.bf_len);
    for (unsigned i = 0; i < prog.bf_len; i++) {
        struct bpf_insn *in = &prog.bf_insns[i];
        printf("%u %u %u %u\n", in->code, in->jt, in->jf, in->k);
    }
    pcap_freecode(&prog);
    return 0;
}

static int dump_batch(void)
{
    pcap_t *p = pcap_open_dead(dlt, snaplen);
    if (!p) return 1;
    char line[65536];
    while (fgets(line, sizeof(line), stdin)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        struct bpf_program prog;
        printf("{\"expr\": ");
        json_str(line);
        if (pcap_compile(p, &prog, line, optimize, PCAP_NETMASK_UNKNOWN) != 0) {
            printf(", \"ok\": false, \"error\": ");
            json_str(pcap_geterr(p));
            printf("}\n");
        } else {
            printf(", \"ok\": true, \"insns\": [");
            for (unsigned i = 0; i < prog.bf_len; i++) {
                struct bpf_insn *in = &prog.bf_insns[i];
                printf("%s[%u, %u, %u, %u]", i ? ", " : "", in->code, in->jt, in->jf, in->k);
            }
            printf("]}\n");
            pcap_freecode(&prog);
        }
        fflush(stdout);
    }
    pcap_close(p);
    return 0;
}

static int verdict(const char *expr, const char *file)
{
    struct bpf_program prog;
    if (compile1(expr, &prog)) return 1;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(file, err);
    if (!p) { fprintf(stderr, "pcapc: %s\n", err); return 1; }
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(p, &h, &d) == 1) printf("%u\n", bpf_filter(prog.bf_insns, d, h->len, h->caplen));
    pcap_close(p);
    pcap_freecode(&prog);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: pcapc bench [-l DLT] [-s SNAPLEN] [-O 0|1] [-T SECONDS] [-r REPEATS] < exprs\n"
                    "       pcapc dump [-l DLT] [-s SNAPLEN] [-O 0|1] [EXPR]   (no EXPR: batch, one per line on stdin)\n"
                    "       pcapc verdict [-l DLT] [-s SNAPLEN] [-O 0|1] EXPR FILE.pcap\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    const char *cmd = argv[1];
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "l:s:O:T:r:")) != -1) {
        switch (c) {
        case 'l': dlt = atoi(optarg); break;
        case 's': snaplen = atoi(optarg); break;
        case 'O': optimize = atoi(optarg); break;
        case 'T': target_s = atof(optarg); break;
        case 'r': repeats = atoi(optarg); break;
        default: usage();
        }
    }
    if (!strcmp(cmd, "bench")) return bench();
    if (!strcmp(cmd, "dump") && optind == argc - 1) return dump(argv[optind]);
    if (!strcmp(cmd, "dump") && optind == argc) return dump_batch();
    if (!strcmp(cmd, "verdict") && optind == argc - 2) return verdict(argv[optind], argv[optind + 1]);
    usage();
    return 2;
}

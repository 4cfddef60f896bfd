/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Differential test of the CSV splitter against libcsv (Debian libcsv-dev).
 *
 * A seeded generator writes well-formed CSV: fields unquoted or quoted,
 * quoted ones holding delimiters, doubled quotes, CR, LF and CRLF; records
 * ended by LF, CRLF or a lone CR, sometimes none at end of input; blank
 * lines in between. Three results must agree: what the generator meant,
 * what libcsv (CSV_STRICT | CSV_STRICT_FINI, no CSV_APPEND_NULL) splits in
 * one call, and what lia_csv splits from random-size chunks.
 *
 * Intentional differences, kept out of the generated inputs:
 *  - libcsv trims spaces and tabs around unquoted fields by default; we
 *    never do (RFC 4180: spaces are part of a field). Its space function is
 *    set here to treat no byte as a space.
 *  - libcsv accepts NUL bytes; we report "NUL byte in record".
 *  - libcsv does not skip a UTF-8 BOM; we skip one at the start of input.
 *  - libcsv has no field, record or column limits; we report them.
 *  - libcsv has no line numbers or raw record; not compared.
 *  - On malformed input libcsv stops with CSV_EPARSE; we report the record
 *    and resynchronise at the next line end. Only well-formed input is
 *    generated here; malformed input is covered by test_csv.c.
 * Agreements worth noting: both end a record at a lone CR, both treat CRLF
 * as one line end, both skip blank lines (libcsv unless CSV_REPALL_NL), and
 * both keep a CR or LF inside quotes as field text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <csv.h>

#include "liaison/csv.h"
#include "liaison/error.h"
#include "liaison/slice.h"

#define NCASES 5000

/* xorshift64*: deterministic across platforms. */
static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

/* Records are rendered as fields separated by 0x1F and ended by 0x1E, with
 * those two bytes never generated inside fields. */
#define US '\x1f'
#define RS '\x1e'

static void gen_text(lia_buf *in, lia_buf *want, int quoted)
{
    static const char plain[] = "abcxyz0129 .-:/@\t'\x80\xff";
    static const char inq[] = "abc ,,\"\r\n";
    uint32_t n = rnd(4) == 0 ? rnd(40) : rnd(8);
    for (uint32_t i = 0; i < n; i++) {
        char ch;
        if (quoted && rnd(3) == 0)
            ch = inq[rnd(sizeof inq - 1)];
        else
            ch = plain[rnd(sizeof plain - 1)];
        if (ch == '"')
            lia_buf_putc(in, '"'); /* doubled */
        lia_buf_putc(in, ch);
        lia_buf_putc(want, ch);
    }
}

static void gen(lia_buf *in, lia_buf *want)
{
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    uint32_t nrec = rnd(12);
    for (uint32_t r = 0; r < nrec; r++) {
        uint32_t nf = 1 + rnd(rnd(4) == 0 ? 30 : 5);
        while (rnd(6) == 0) /* blank lines */
            lia_buf_puts(in, ends[rnd(3)]);
        for (uint32_t f = 0; f < nf; f++) {
            int quoted = rnd(3) == 0;
            size_t at = in->len;
            if (f)
                lia_buf_putc(in, ',');
            if (quoted)
                lia_buf_putc(in, '"');
            gen_text(in, want, quoted);
            /* A lone empty unquoted field is a blank line: quote it. */
            if (!quoted && nf == 1 && in->len == at) {
                lia_buf_puts(in, "\"\"");
                quoted = 0;
            }
            if (quoted)
                lia_buf_putc(in, '"');
            lia_buf_putc(want, f + 1 < nf ? US : RS);
        }
        if (r + 1 < nrec || rnd(3))
            lia_buf_puts(in, ends[rnd(3)]);
    }
    if (rnd(8) == 0)
        lia_buf_puts(in, ends[rnd(3)]);
}

/* ---- libcsv side ---- */

typedef struct lc_out {
    lia_buf out;
    int pending; /* a field was written in the current row */
} lc_out;

static void lc_field(void *s, size_t len, void *ud)
{
    lc_out *o = ud;
    if (o->pending)
        lia_buf_putc(&o->out, US);
    lia_buf_append(&o->out, s, len);
    o->pending = 1;
}

static void lc_row(int c, void *ud)
{
    lc_out *o = ud;
    (void)c;
    lia_buf_putc(&o->out, RS);
    o->pending = 0;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void run_libcsv(const lia_buf *in, lia_buf *out)
{
    struct csv_parser p;
    lc_out o = {.pending = 0};
    lia_buf_init(&o.out, 1u << 24);
    assert_int_equal(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    csv_set_space_func(&p, no_space);
    if (in->len)
        assert_int_equal(csv_parse(&p, in->ptr, in->len, lc_field, lc_row, &o), in->len);
    assert_int_equal(csv_fini(&p, lc_field, lc_row, &o), 0);
    csv_free(&p);
    *out = o.out;
}

/* ---- our side ---- */

static int on_row(void *ud, const lia_csv_row *r)
{
    lia_buf *out = ud;
    assert_int_equal(r->err, 0);
    for (size_t i = 0; i < r->nfields; i++) {
        lia_buf_append(out, r->fields[i].ptr, r->fields[i].len);
        lia_buf_putc(out, i + 1 < r->nfields ? US : RS);
    }
    return 0;
}

static void run_ours(lia_csv *c, const lia_buf *in, lia_buf *out)
{
    size_t at = 0;
    lia_buf_init(out, 1u << 24);
    lia_csv_reset(c);
    while (at < in->len) {
        size_t n = 1 + rnd(rnd(2) ? 8 : 300);
        char *copy;
        if (n > in->len - at)
            n = in->len - at;
        copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, in->ptr + at, n);
        assert_int_equal(lia_csv_feed(c, copy, n, on_row, out), LIA_OK);
        free(copy);
        at += n;
    }
    assert_int_equal(lia_csv_finish(c, on_row, out), LIA_OK);
}

static void show(const char *what, const lia_buf *b)
{
    print_error("%s (%zu bytes):", what, b->len);
    for (size_t i = 0; i < b->len; i++) {
        unsigned char ch = (unsigned char)b->ptr[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            print_error("%c", ch);
        else
            print_error("\\x%02X", ch);
    }
    print_error("\n");
}

static int same(const lia_buf *a, const lia_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

static void test_against_libcsv(void **state)
{
    lia_csv *c = NULL;
    size_t bytes = 0;
    (void)state;
    assert_int_equal(lia_csv_create(NULL, &c), LIA_OK);
    rng_state = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < NCASES; i++) {
        lia_buf in, want, lc, ours;
        lia_buf_init(&in, 1u << 20);
        lia_buf_init(&want, 1u << 20);
        gen(&in, &want);
        assert_int_equal(in.err, 0);
        bytes += in.len;
        run_libcsv(&in, &lc);
        run_ours(c, &in, &ours);
        if (!same(&want, &lc) || !same(&want, &ours)) {
            print_error("case %d differs\n", i);
            show("input", &in);
            show("generator", &want);
            show("libcsv", &lc);
            show("lia_csv", &ours);
            fail();
        }
        lia_buf_free(&in);
        lia_buf_free(&want);
        lia_buf_free(&lc);
        lia_buf_free(&ours);
    }
    print_message("%d cases, %zu bytes\n", NCASES, bytes);
    lia_csv_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_libcsv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

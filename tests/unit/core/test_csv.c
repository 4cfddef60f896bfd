/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Unit tests for the CSV record splitter (src/core/csv.c).
 *
 * Each table case is an input, a set of options and the expected records in
 * a compact text form (see render()). Every case is also fed split at every
 * byte offset, byte by byte, and (short inputs) split at every pair of
 * offsets; the output, raw bytes included, must equal the one-chunk run. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(LIA_NO_MALLINFO)
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif

#include "liaison/csv.h"
#include "liaison/error.h"
#include "liaison/limits.h"
#include "liaison/slice.h"

/* ---- rendering ---------------------------------------------------------- */

static void put_esc(lia_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '\n': lia_buf_puts(b, "\\n"); break;
        case '\r': lia_buf_puts(b, "\\r"); break;
        case '\0': lia_buf_puts(b, "\\0"); break;
        case '\\': lia_buf_puts(b, "\\\\"); break;
        case ']': lia_buf_puts(b, "\\]"); break;
        default:
            if (ch < 0x20 || ch >= 0x7f)
                lia_buf_printf(b, "\\x%02X", ch);
            else
                lia_buf_putc(b, (char)ch);
        }
    }
}

typedef struct sink {
    lia_buf out;
    int with_raw;
    int stop_after; /* stop (return 42) after this many rows; 0 = never */
    int rows;
} sink;

/* One line per record: "LINE+NLINES [f1][f2]", errors as
 * "LINE+NLINES !why [fields]", raw appended as " raw=..." if asked. */
static int on_row(void *ud, const lia_csv_row *r)
{
    sink *s = ud;
    assert_non_null(r->fields);
    assert_non_null(r->raw.ptr);
    lia_buf_printf(&s->out, "%llu+%llu ", (unsigned long long)r->line,
                   (unsigned long long)r->nlines);
    if (r->err) {
        assert_true(r->err < 0);
        assert_non_null(r->why);
        lia_buf_printf(&s->out, "!%s ", r->why);
    } else {
        assert_null(r->why);
    }
    for (size_t i = 0; i < r->nfields; i++) {
        assert_non_null(r->fields[i].ptr);
        lia_buf_putc(&s->out, '[');
        put_esc(&s->out, r->fields[i].ptr, r->fields[i].len);
        lia_buf_putc(&s->out, ']');
    }
    if (s->with_raw) {
        lia_buf_puts(&s->out, " raw=");
        put_esc(&s->out, r->raw.ptr, r->raw.len);
    }
    lia_buf_putc(&s->out, '\n');
    s->rows++;
    if (s->stop_after && s->rows == s->stop_after)
        return 42;
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

enum { O_DEF, O_COMMENT, O_KEEPBLANK, O_SMALL, O_NOQUOTE, O_TAB, O_FEWCOLS };

static void make_opts(int which, lia_csv_opts *o)
{
    lia_csv_opts_default(o);
    switch (which) {
    case O_COMMENT: o->comment = '#'; break;
    case O_KEEPBLANK: o->skip_blank = 0; break;
    case O_SMALL: o->max_field = 4; o->max_row = 8; break;
    case O_NOQUOTE: o->quote = '\0'; break;
    case O_TAB: o->delim = '\t'; break;
    case O_FEWCOLS: o->max_fields = 3; break;
    default: break;
    }
}

typedef struct tcase {
    const char *name;
    const char *in;
    size_t len; /* 0 = strlen(in) */
    int opts;
    const char *want;
} tcase;

#define NUL_CASE(name, lit, opts, want) {name, lit, sizeof(lit) - 1, opts, want}

static const tcase cases[] = {
    {"simple", "a,b,c\n1,2,3\n", 0, O_DEF, "1+1 [a][b][c]\n2+1 [1][2][3]\n"},
    {"empty input", "", 0, O_DEF, ""},
    {"quoted", "\"a\",\"b,c\",d\n", 0, O_DEF, "1+1 [a][b,c][d]\n"},
    {"doubled quotes", "\"a\"\"b\",\"\"\"\"\n", 0, O_DEF, "1+1 [a\"b][\"]\n"},
    {"doubled quote at field end", "\"x\"\"\",y\n", 0, O_DEF, "1+1 [x\"][y]\n"},
    {"empty quoted", "\"\"\n\"\",\"\"\n", 0, O_DEF, "1+1 []\n2+1 [][]\n"},
    {"empty fields", ",,\n", 0, O_DEF, "1+1 [][][]\n"},
    {"trailing delimiter", "a,b,\n", 0, O_DEF, "1+1 [a][b][]\n"},
    {"trailing delimiter at eof", "a,", 0, O_DEF, "1+1 [a][]\n"},
    {"missing final newline", "a,b\nc,d", 0, O_DEF, "1+1 [a][b]\n2+1 [c][d]\n"},
    {"quoted at eof", "a,\"b\"", 0, O_DEF, "1+1 [a][b]\n"},
    {"embedded newline", "\"a\nb\",c\nd\n", 0, O_DEF, "1+2 [a\\nb][c]\n3+1 [d]\n"},
    {"embedded crlf", "\"a\r\nb\"\r\nc\r\n", 0, O_DEF, "1+2 [a\\r\\nb]\n3+1 [c]\n"},
    {"embedded lone cr", "\"a\rb\"\nc\n", 0, O_DEF, "1+2 [a\\rb]\n3+1 [c]\n"},
    {"embedded lf cr", "\"a\n\rb\"\nc\n", 0, O_DEF, "1+3 [a\\n\\rb]\n4+1 [c]\n"},
    {"embedded blank lines", "\"\n\n\"\nx\n", 0, O_DEF, "1+3 [\\n\\n]\n4+1 [x]\n"},
    {"crlf", "a,b\r\nc,d\r\n", 0, O_DEF, "1+1 [a][b]\n2+1 [c][d]\n"},
    {"crlf and lf mixed", "a\r\nb\nc\r\nd", 0, O_DEF, "1+1 [a]\n2+1 [b]\n3+1 [c]\n4+1 [d]\n"},
    {"lone cr", "a\rb\r\nc\rd", 0, O_DEF, "1+1 [a]\n2+1 [b]\n3+1 [c]\n4+1 [d]\n"},
    {"cr cr lf", "a\r\r\nb\n", 0, O_DEF, "1+1 [a]\n3+1 [b]\n"},
    {"quoted then cr", "\"a\"\r\"b\"\r", 0, O_DEF, "1+1 [a]\n2+1 [b]\n"},
    {"bom", "\xEF\xBB\xBF" "a,b\n", 0, O_DEF, "1+1 [a][b]\n"},
    {"bom only", "\xEF\xBB\xBF", 0, O_DEF, ""},
    {"bom then quote", "\xEF\xBB\xBF\"a\"\n", 0, O_DEF, "1+1 [a]\n"},
    {"partial bom", "\xEF\xBBx\n", 0, O_DEF, "1+1 [\\xEF\\xBBx]\n"},
    {"partial bom at eof", "\xEF\xBB", 0, O_DEF, "1+1 [\\xEF\\xBB]\n"},
    {"partial bom newline", "\xEF\n", 0, O_DEF, "1+1 [\\xEF]\n"},
    {"bom not at start", "a\n\xEF\xBB\xBF" "b\n", 0, O_DEF, "1+1 [a]\n2+1 [\\xEF\\xBB\\xBFb]\n"},
    {"double bom", "\xEF\xBB\xBF\xEF\xBB\xBF\n", 0, O_DEF, "1+1 [\\xEF\\xBB\\xBF]\n"},
    {"comments", "#c\na\n# x,\"y\n\nb\n", 0, O_COMMENT, "2+1 [a]\n5+1 [b]\n"},
    {"comment crlf", "#c\r\n#d\r\na\r\n#e", 0, O_COMMENT, "3+1 [a]\n"},
    {"comment after bom", "\xEF\xBB\xBF#x\ny\n", 0, O_COMMENT, "2+1 [y]\n"},
    {"comment char inside", "a#b\n\"#\"\n", 0, O_COMMENT, "1+1 [a#b]\n2+1 [#]\n"},
    {"comment in quoted continuation", "\"a\n#b\"\n", 0, O_COMMENT, "1+2 [a\\n#b]\n"},
    {"hash without comment opt", "#c\n", 0, O_DEF, "1+1 [#c]\n"},
    {"blank lines", "\n\na\n\r\n\rb\n\n", 0, O_DEF, "3+1 [a]\n6+1 [b]\n"},
    {"blank lines kept", "a\n\nb\n\r\n", 0, O_KEEPBLANK, "1+1 [a]\n2+1 []\n3+1 [b]\n4+1 []\n"},
    {"spaces are data", " a , \"b\"x\n", 0, O_DEF, "1+1 !quote in unquoted field [ a ]\n"},
    /* malformed: reported with the fields split so far, then resync */
    {"quote in unquoted", "a,b\"c,d\ne,f\n", 0, O_DEF,
     "1+1 !quote in unquoted field [a]\n2+1 [e][f]\n"},
    {"quote in unquoted at eof", "x\na\"b", 0, O_DEF,
     "1+1 [x]\n2+1 !quote in unquoted field \n"},
    {"quote after space", "a, \"b\"\nc\n", 0, O_DEF,
     "1+1 !quote in unquoted field [a]\n2+1 [c]\n"},
    {"junk after closing quote", "\"a\"x,b\nc\n", 0, O_DEF,
     "1+1 !junk after closing quote \n2+1 [c]\n"},
    {"junk after multiline quote", "z\n\"a\nb\"x\nc\n", 0, O_DEF,
     "1+1 [z]\n2+2 !junk after closing quote \n4+1 [c]\n"},
    {"junk then quotes ignored", "\"a\" \"b\nc\"\nd\n", 0, O_DEF,
     "1+1 !junk after closing quote \n2+1 !quote in unquoted field \n3+1 [d]\n"},
    {"unclosed quote", "a\n\"b,c\nd\n", 0, O_DEF,
     "1+1 [a]\n2+3 !unclosed quote at end of input \n"},
    {"unclosed quote after fields", "a,b,\"c", 0, O_DEF,
     "1+1 !unclosed quote at end of input [a][b]\n"},
    {"unbalanced quote swallows to eof", "\"a,b\nc,d\ne,f", 0, O_DEF,
     "1+3 !unclosed quote at end of input \n"},
    {"field too long", "abcde,f\nok\n", 0, O_SMALL, "1+1 !field too long \n2+1 [ok]\n"},
    {"field at limit", "abcd,f\n", 0, O_SMALL, "1+1 [abcd][f]\n"},
    {"quoted field too long", "\"abcde\"\nok\n", 0, O_SMALL, "1+1 !field too long \n2+1 [ok]\n"},
    {"escaped quote in small row", "\"a\"\"b\"\n", 0, O_SMALL, "1+1 [a\"b]\n"},
    {"record too long", "a,b,c,d,e\nok\n", 0, O_SMALL,
     "1+1 !record too long [a][b][c][d]\n2+1 [ok]\n"},
    {"record at limit", "a,b,c,de\n", 0, O_SMALL, "1+1 [a][b][c][de]\n"},
    {"record too long at eof", "ok\na,b,c,d,e", 0, O_SMALL,
     "1+1 [ok]\n2+1 !record too long [a][b][c][d]\n"},
    {"record too long in quotes", "\"a\",\"b\nc\",\"d\nok\n", 0, O_SMALL,
     "1+2 !record too long [a]\n3+1 [ok]\n"},
    {"field too long at quoted newline", "\"a\n\nb\nc\nd\"\nok\n", 0, O_SMALL,
     "1+3 !field too long \n4+1 [c]\n5+1 !quote in unquoted field \n6+1 [ok]\n"},
    {"too many fields", "a,b,c,d\nx\n", 0, O_FEWCOLS,
     "1+1 !too many fields [a][b][c]\n2+1 [x]\n"},
    {"fields at limit", "a,b,c\n", 0, O_FEWCOLS, "1+1 [a][b][c]\n"},
    {"too many via trailing delim", "a,b,c,\n\"x\"\n", 0, O_FEWCOLS,
     "1+1 !too many fields [a][b][c]\n2+1 [x]\n"},
    NUL_CASE("nul", "a,b\0c\nd\n", O_DEF, "1+1 !NUL byte in record [a]\n2+1 [d]\n"),
    NUL_CASE("nul in quotes", "\"a\0\"\nd\n", O_DEF, "1+1 !NUL byte in record \n2+1 [d]\n"),
    NUL_CASE("nul after quote", "\"a\"\0\nd\n", O_DEF, "1+1 !NUL byte in record \n2+1 [d]\n"),
    NUL_CASE("nul alone", "\0", O_DEF, "1+1 !NUL byte in record \n"),
    NUL_CASE("nul in comment", "#\0\nd\n", O_COMMENT, "2+1 [d]\n"),
    {"no quoting", "a\"b,\"c\n", 0, O_NOQUOTE, "1+1 [a\"b][\"c]\n"},
    {"tab delimiter", "a\tb,c\t\"d\te\"\n", 0, O_TAB, "1+1 [a][b,c][d\\x09e]\n"},
    {"shadowserver",
     "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\"\n"
     "\"2018-04-19 00:02:26\",\"75.74.78.113\",\"tcp\",8080,\"c-75.comcast.net\"\n"
     "\"2018-04-19 00:02:26\",\"88.162.174.130\",\"tcp\",8080,,\n",
     0, O_DEF,
     "1+1 [timestamp][ip][protocol][port][hostname]\n"
     "2+1 [2018-04-19 00:02:26][75.74.78.113][tcp][8080][c-75.comcast.net]\n"
     "3+1 [2018-04-19 00:02:26][88.162.174.130][tcp][8080][][]\n"},
};

#define NCASES (sizeof cases / sizeof cases[0])

static size_t case_len(const tcase *t) { return t->len ? t->len : strlen(t->in); }

/* Split in with cuts (sorted offsets) and render everything. */
static void split(const tcase *t, const size_t *cuts, size_t ncuts, int with_raw, lia_buf *out)
{
    lia_csv_opts o;
    lia_csv *c = NULL;
    sink s = {.with_raw = with_raw};
    size_t len = case_len(t), at = 0;
    char *copy;

    lia_buf_init(&s.out, 1u << 24);
    make_opts(t->opts, &o);
    assert_int_equal(lia_csv_create(&o, &c), LIA_OK);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        /* A private copy per chunk, so that ASan catches reads outside it. */
        copy = malloc(to - at + 1);
        assert_non_null(copy);
        memcpy(copy, t->in + at, to - at);
        assert_int_equal(lia_csv_feed(c, copy, to - at, on_row, &s), LIA_OK);
        free(copy);
        at = to;
    }
    assert_int_equal(lia_csv_finish(c, on_row, &s), LIA_OK);
    lia_csv_destroy(c);
    assert_int_equal(s.out.err, 0);
    *out = s.out;
}

static void check_eq(const char *name, const char *what, const char *want, const char *got)
{
    if (strcmp(want, got) != 0) {
        print_error("case \"%s\" (%s)\n--- want\n%s--- got\n%s", name, what, want, got);
        fail();
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        lia_buf got;
        split(&cases[i], NULL, 0, 0, &got);
        check_eq(cases[i].name, "one chunk", cases[i].want, lia_buf_cstr(&got));
        lia_buf_free(&got);
    }
}

static void test_chunking(void **state)
{
    char what[64];
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        const tcase *t = &cases[i];
        size_t len = case_len(t);
        lia_buf ref, got;
        size_t *cuts;

        split(t, NULL, 0, 1, &ref);
        /* one cut at every offset (0 and len give an empty chunk) */
        for (size_t k = 0; k <= len; k++) {
            split(t, &k, 1, 1, &got);
            snprintf(what, sizeof what, "cut at %zu", k);
            check_eq(t->name, what, lia_buf_cstr(&ref), lia_buf_cstr(&got));
            lia_buf_free(&got);
        }
        /* two cuts at every pair of offsets, for short inputs */
        if (len <= 48) {
            for (size_t a = 1; a < len; a++)
                for (size_t b = a; b < len; b++) {
                    size_t two[2] = {a, b};
                    split(t, two, 2, 1, &got);
                    snprintf(what, sizeof what, "cuts at %zu,%zu", a, b);
                    check_eq(t->name, what, lia_buf_cstr(&ref), lia_buf_cstr(&got));
                    lia_buf_free(&got);
                }
        }
        /* byte by byte */
        cuts = malloc((len ? len : 1) * sizeof *cuts);
        assert_non_null(cuts);
        for (size_t k = 0; k < len; k++)
            cuts[k] = k + 1;
        split(t, cuts, len ? len - 1 : 0, 1, &got);
        check_eq(t->name, "byte by byte", lia_buf_cstr(&ref), lia_buf_cstr(&got));
        lia_buf_free(&got);
        free(cuts);
        lia_buf_free(&ref);
    }
}

/* ---- single-purpose tests ----------------------------------------------- */

static lia_csv *make(int which)
{
    lia_csv_opts o;
    lia_csv *c = NULL;
    make_opts(which, &o);
    assert_int_equal(lia_csv_create(&o, &c), LIA_OK);
    return c;
}

static void test_raw(void **state)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"a,\"b\"\"c\"\r\nx", "1+1 [a][b\"c] raw=a,\"b\"\"c\"\n2+1 [x] raw=x\n"},
        {"\"a\nb\"\n", "1+2 [a\\nb] raw=\"a\\nb\"\n"},
        {"a\"b,c\nd\n", "1+1 !quote in unquoted field  raw=a\"b,c\n2+1 [d] raw=d\n"},
        {"\"a\"\r", "1+1 [a] raw=\"a\"\n"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tcase c = {"raw", t[i].in, 0, O_DEF, NULL};
        lia_buf got;
        split(&c, NULL, 0, 1, &got);
        check_eq(t[i].in, "raw", t[i].want, lia_buf_cstr(&got));
        lia_buf_free(&got);
    }
}

static void test_oversize_raw_truncated(void **state)
{
    tcase t = {"oversize", "ab,cd,ef,gh\"m\nok\n", 0, O_SMALL, NULL};
    lia_buf got;
    (void)state;
    split(&t, NULL, 0, 1, &got);
    check_eq(t.name, "raw", "1+1 !record too long [ab][cd] raw=ab,cd,ef\n2+1 [ok] raw=ok\n",
             lia_buf_cstr(&got));
    lia_buf_free(&got);
}

typedef struct big_sink {
    int rows;
    size_t raw_len;
    int err;
    const char *why;
    uint64_t line, nlines;
    char last[8];
} big_sink;

static int on_big(void *ud, const lia_csv_row *r)
{
    big_sink *s = ud;
    s->rows++;
    if (s->rows == 1) {
        s->raw_len = r->raw.len;
        s->err = r->err;
        s->why = r->why;
        s->line = r->line;
        s->nlines = r->nlines;
    } else if (r->nfields == 1 && r->fields[0].len < sizeof s->last) {
        memcpy(s->last, r->fields[0].ptr, r->fields[0].len);
        s->last[r->fields[0].len] = '\0';
        s->line = r->line;
    }
    return 0;
}

/* A 100 MB line streamed in read-sized chunks: reported once as too long,
 * raw truncated to max_row, the next record still delivered, and memory
 * bounded (the splitter never holds more than max_row of it). */
static void test_huge_line(void **state)
{
    const size_t total = 100u << 20, chunk = LIA_READ_CHUNK;
    char *buf = malloc(chunk);
    lia_csv *c = make(O_DEF);
    big_sink s = {0};
#ifdef HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();
    size_t before = mi.uordblks + mi.hblkhd;
#endif
    (void)state;
    assert_non_null(buf);
    memset(buf, 'x', chunk);
    for (size_t i = 0; i < chunk; i += 2000)
        buf[i] = ','; /* fields too, within max_field and max_fields */
    for (size_t done = 0; done < total; done += chunk)
        assert_int_equal(lia_csv_feed(c, buf, chunk, on_big, &s), LIA_OK);
#ifdef HAVE_MALLINFO2
    /* raw and field text buffers, max_row each, plus slack */
    mi = mallinfo2();
    assert_in_range(mi.uordblks + mi.hblkhd - before, 0, 2 * LIA_MAX_ROW + (64u << 10));
#endif
    assert_int_equal(lia_csv_feed(c, "\nnext\n", 6, on_big, &s), LIA_OK);
    assert_int_equal(lia_csv_finish(c, on_big, &s), LIA_OK);
    assert_int_equal(s.rows, 2);
    assert_int_equal(s.err, LIA_ELIMIT);
    assert_string_equal(s.why, "record too long");
    assert_int_equal(s.raw_len, LIA_MAX_ROW);
    assert_string_equal(s.last, "next");
    assert_int_equal(s.line, 2);
    lia_csv_destroy(c);
    free(buf);
}

/* The same in one 100 MB chunk: the fast path must give up after max_row
 * bytes, not scan the whole line twice, and still find the next record. */
static void test_huge_line_one_chunk(void **state)
{
    const size_t total = 100u << 20;
    char *buf = malloc(total + 16);
    lia_csv *c = make(O_DEF);
    big_sink s = {0};
    (void)state;
    assert_non_null(buf);
    memset(buf, 'y', total);
    for (size_t i = 1; i < total; i += 2000)
        buf[i] = ',';
    memcpy(buf + total, "\"\nnext\n", 7);
    assert_int_equal(lia_csv_feed(c, buf, total + 7, on_big, &s), LIA_OK);
    assert_int_equal(lia_csv_finish(c, on_big, &s), LIA_OK);
    assert_int_equal(s.rows, 2);
    assert_string_equal(s.why, "record too long");
    assert_int_equal(s.raw_len, LIA_MAX_ROW);
    assert_string_equal(s.last, "next");
    lia_csv_destroy(c);
    free(buf);
}

static void test_stop(void **state)
{
    static const char in[] = "a\nb\nc\n";
    lia_csv *c = make(O_DEF);
    sink s = {.stop_after = 2};
    (void)state;
    lia_buf_init(&s.out, 4096);
    assert_int_equal(lia_csv_feed(c, in, sizeof in - 1, on_row, &s), 42);
    check_eq("stop", "rows", "1+1 [a]\n2+1 [b]\n", lia_buf_cstr(&s.out));
    /* stopping in finish */
    lia_csv_reset(c);
    lia_buf_reset(&s.out);
    s.rows = 0;
    s.stop_after = 1;
    assert_int_equal(lia_csv_feed(c, "\"x", 2, on_row, &s), LIA_OK);
    assert_int_equal(lia_csv_finish(c, on_row, &s), 42);
    check_eq("stop", "finish", "1+1 !unclosed quote at end of input \n", lia_buf_cstr(&s.out));
    lia_buf_free(&s.out);
    lia_csv_destroy(c);
}

static void test_reset(void **state)
{
    lia_csv *c = make(O_DEF);
    sink s = {0};
    (void)state;
    lia_buf_init(&s.out, 4096);
    assert_int_equal(lia_csv_feed(c, "a\n\"b", 4, on_row, &s), LIA_OK);
    lia_csv_reset(c);
    assert_int_equal(lia_csv_feed(c, "\xEF\xBB\xBF" "c\n", 5, on_row, &s), LIA_OK);
    assert_int_equal(lia_csv_finish(c, on_row, &s), LIA_OK);
    assert_int_equal(lia_csv_finish(c, on_row, &s), LIA_OK); /* twice: nothing */
    check_eq("reset", "rows", "1+1 [a]\n1+1 [c]\n", lia_buf_cstr(&s.out));
    lia_buf_free(&s.out);
    lia_csv_destroy(c);
}

static void test_bad_opts(void **state)
{
    static const struct {
        char delim, quote, comment;
    } bad[] = {
        {'\0', '"', 0}, {'\n', '"', 0}, {'\r', '"', 0}, {',', ',', 0},
        {',', '\n', 0}, {',', '"', ','}, {',', '"', '"'}, {',', '"', '\n'},
    };
    lia_csv *c = NULL;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lia_csv_opts o;
        lia_csv_opts_default(&o);
        o.delim = bad[i].delim;
        o.quote = bad[i].quote;
        o.comment = bad[i].comment;
        assert_int_equal(lia_csv_create(&o, &c), LIA_EINVAL);
        assert_null(c);
    }
    assert_int_equal(lia_csv_create(NULL, &c), LIA_OK);
    assert_non_null(c);
    lia_csv_destroy(c);
    lia_csv_destroy(NULL);
}

/* Many records in one chunk with a few slow ones among them: the fast and
 * slow paths hand over correctly in both directions. */
static void test_mixed_long(void **state)
{
    lia_buf in, want, got;
    (void)state;
    lia_buf_init(&in, 1u << 24);
    lia_buf_init(&want, 1u << 24);
    for (int i = 0; i < 2000; i++) {
        switch (i % 5) {
        case 0:
            lia_buf_printf(&in, "%d,plain,x\n", i);
            lia_buf_printf(&want, "%d+1 [%d][plain][x]\n", i + 1, i);
            break;
        case 1:
            lia_buf_printf(&in, "%d,\"q\"\"d\",x\r\n", i);
            lia_buf_printf(&want, "%d+1 [%d][q\"d][x]\n", i + 1, i);
            break;
        case 2:
            lia_buf_printf(&in, "%d,\"simple\",\"\"\n", i);
            lia_buf_printf(&want, "%d+1 [%d][simple][]\n", i + 1, i);
            break;
        case 3:
            lia_buf_printf(&in, "%d,b\"ad\n", i);
            lia_buf_printf(&want, "%d+1 !quote in unquoted field [%d]\n", i + 1, i);
            break;
        default:
            lia_buf_printf(&in, "%d\r", i);
            lia_buf_printf(&want, "%d+1 [%d]\n", i + 1, i);
            break;
        }
    }
    assert_int_equal(in.err, 0);
    {
        tcase t = {"mixed", in.ptr, in.len, O_DEF, NULL};
        size_t cuts[3] = {in.len / 3, in.len / 2, in.len / 2 + 1};
        split(&t, NULL, 0, 0, &got);
        check_eq("mixed", "one chunk", lia_buf_cstr(&want), lia_buf_cstr(&got));
        lia_buf_free(&got);
        split(&t, cuts, 3, 0, &got);
        check_eq("mixed", "cut", lia_buf_cstr(&want), lia_buf_cstr(&got));
        lia_buf_free(&got);
    }
    lia_buf_free(&in);
    lia_buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_oversize_raw_truncated),
        cmocka_unit_test(test_huge_line),
        cmocka_unit_test(test_huge_line_one_chunk),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_bad_opts),
        cmocka_unit_test(test_mixed_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

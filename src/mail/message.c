/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The message reader: header fields (RFC 5322 2.2: unfolding, names
 * case-insensitive), MIME structure (RFC 2045, 2046: Content-Type and its
 * parameters, multipart boundaries), the text/plain body, the parts of a
 * PGP/MIME signed message (RFC 3156 5). A pure function of (buf, len). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/internal.h"

typedef struct mail_header {
    lia_slice name; /* into raw */
    char *value;    /* unfolded, decoded; owned */
} mail_header;

typedef struct mail_part {
    char type[80];    /* "type/subtype", lower-case */
    lia_slice entity; /* headers and body, into raw */
    lia_slice body;   /* into raw */
} mail_part;

struct lia_mail {
    char *raw;
    size_t len;
    mail_header *h;
    size_t nh;
    mail_part parts[LIA_MAIL_MAX_PARTS];
    size_t nparts;
    lia_buf text;
    int have_text;
    char note[160];
    char from[LIA_MAIL_MAX_ADDR + 1];
    int have_from;
    int is_signed;
    lia_slice signed_entity, signature;
};

/* The MIME fields of one entity, before decoding. */
typedef struct mime_fields {
    lia_slice ctype, cte, disposition;
} mime_fields;

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The end of the line at p[i]: index of its '\n', or n. */
static size_t line_end(const char *p, size_t n, size_t i)
{
    const char *nl = memchr(p + i, '\n', n - i);
    return nl ? (size_t)(nl - p) : n;
}

/* Unfold a raw header value: line ends of folding removed (the white space
 * that follows them kept). */
static void unfold(lia_slice v, lia_buf *out)
{
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] != '\r' && v.ptr[i] != '\n')
            lia_buf_putc(out, v.ptr[i]);
}

typedef int (*header_cb)(void *ud, lia_slice name, lia_slice raw_value, lia_error *err);

/* Walk the header block of entity p[0..n): each field to cb; *body gets the
 * offset where the body starts (after the empty line; n if none). */
static int walk_headers(const char *p, size_t n, header_cb cb, void *ud, size_t *body, lia_error *err)
{
    size_t i = 0, count = 0, lineno = 1;
    int rc;
    while (i < n) {
        size_t e = line_end(p, n, i), start = i, colon;
        size_t vstart, vend;
        /* an empty line ends the header block */
        if (e == i || (e == i + 1 && p[i] == '\r')) {
            *body = e < n ? e + 1 : n;
            return LIA_OK;
        }
        for (colon = i; colon < e && p[colon] != ':'; colon++)
            if ((unsigned char)p[colon] <= ' ' || (unsigned char)p[colon] >= 0x7f)
                break;
        if (colon == e || p[colon] != ':' || colon == i)
            return lia_error_set(err, LIA_EPARSE, "header", p + start, e - start,
                                 "line %zu of the header block is not a field (NAME: value)", lineno);
        if (++count > LIA_MAIL_MAX_HEADERS)
            return lia_error_set(err, LIA_ELIMIT, "header", NULL, 0, "more than %u header fields",
                                 LIA_MAIL_MAX_HEADERS);
        vstart = colon + 1;
        vend = e;
        i = e < n ? e + 1 : n;
        lineno++;
        /* continuation lines begin with white space */
        while (i < n && (p[i] == ' ' || p[i] == '\t')) {
            vend = line_end(p, n, i);
            i = vend < n ? vend + 1 : n;
            lineno++;
        }
        if (vend - vstart > LIA_MAIL_MAX_HEADER)
            return lia_error_set(err, LIA_ELIMIT, "header", p + start, colon - start, "longer than %u bytes",
                                 LIA_MAIL_MAX_HEADER);
        if ((rc = cb(ud, (lia_slice){p + start, colon - start}, (lia_slice){p + vstart, vend - vstart}, err)))
            return rc;
    }
    *body = n;
    return LIA_OK;
}

static int keep_mime(void *ud, lia_slice name, lia_slice v, lia_error *err)
{
    mime_fields *f = ud;
    (void)err;
    if (lia_slice_ieq(name, "content-type"))
        f->ctype = v;
    else if (lia_slice_ieq(name, "content-transfer-encoding"))
        f->cte = v;
    else if (lia_slice_ieq(name, "content-disposition"))
        f->disposition = v;
    return LIA_OK;
}

static int keep_top(void *ud, lia_slice name, lia_slice v, lia_error *err)
{
    lia_mail *m = ud;
    lia_buf un, dec;
    mail_header *nh;
    if (!(nh = realloc(m->h, (m->nh + 1) * sizeof *nh)))
        return lia_error_set(err, LIA_ENOMEM, "header", NULL, 0, "out of memory");
    m->h = nh;
    lia_buf_init(&un, LIA_MAIL_MAX_HEADER);
    lia_buf_init(&dec, 4 * LIA_MAIL_MAX_HEADER);
    unfold(v, &un);
    lia__mail_words(lia_buf_cstr(&un), un.len, &dec);
    lia_buf_free(&un);
    if (dec.err) {
        lia_buf_free(&dec);
        return lia_error_set(err, dec.err == LIA_ENOMEM ? LIA_ENOMEM : LIA_ELIMIT, "header", name.ptr,
                             name.len, "too long once decoded");
    }
    lia_buf_putc(&dec, '\0');
    {
        /* control characters become spaces; ends trimmed */
        char *s = dec.ptr;
        size_t k = 0, len = dec.len - 1, a = 0;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                s[i] = ' ';
        while (a < len && s[a] == ' ')
            a++;
        while (len > a && s[len - 1] == ' ')
            len--;
        memmove(s, s + a, len - a);
        k = len - a;
        s[k] = '\0';
    }
    m->h[m->nh].name = name;
    m->h[m->nh].value = dec.ptr; /* the buffer's memory is taken over */
    m->nh++;
    return LIA_OK;
}

/* Skip white space and (nested) comments. */
static size_t skip_cfws(const char *p, size_t n, size_t i)
{
    int depth = 0;
    for (; i < n; i++) {
        char c = p[i];
        if (depth) {
            if (c == '\\' && i + 1 < n)
                i++;
            else if (c == '(')
                depth++;
            else if (c == ')')
                depth--;
        } else if (c == '(')
            depth = 1;
        else if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
    }
    return i;
}

static int tspecial(char c)
{
    return strchr("()<>@,;:\\\"/[]?=", c) != NULL || (unsigned char)c <= ' ' || (unsigned char)c >= 0x7f;
}

/* "type/subtype" of a Content-Type value, lower-cased into out. */
static void media_type(lia_slice v, char out[80])
{
    size_t i = skip_cfws(v.ptr, v.len, 0), k = 0;
    while (i < v.len && k < 79 && (v.ptr[i] == '/' || !tspecial(v.ptr[i])))
        out[k++] = (char)lower((unsigned char)v.ptr[i++]);
    out[k] = '\0';
    if (k == 0 || !strchr(out, '/'))
        memcpy(out, "text/plain", 11);
}

/* The value of parameter `name` of a Content-Type / -Disposition value,
 * unquoted, into out (size n); 1 if found. */
static int param(lia_slice v, const char *name, char *out, size_t n)
{
    size_t i = 0;
    const char *p = v.ptr;
    /* skip the value itself */
    while (i < v.len && p[i] != ';') {
        if (p[i] == '"') {
            for (i++; i < v.len && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
        }
        i++;
    }
    while (i < v.len) {
        size_t a, alen, k = 0;
        i = skip_cfws(p, v.len, i + 1); /* past ';' */
        a = i;
        while (i < v.len && !tspecial(p[i]))
            i++;
        alen = i - a;
        i = skip_cfws(p, v.len, i);
        if (i >= v.len || p[i] != '=') {
            while (i < v.len && p[i] != ';')
                i++;
            continue;
        }
        i = skip_cfws(p, v.len, i + 1);
        int match = alen == strlen(name);
        for (size_t j = 0; match && j < alen; j++)
            match = lower((unsigned char)p[a + j]) == name[j];
        if (i < v.len && p[i] == '"') {
            for (i++; i < v.len && p[i] != '"'; i++) {
                if (p[i] == '\\' && i + 1 < v.len)
                    i++;
                if (match && k + 1 < n && p[i] != '\r' && p[i] != '\n')
                    out[k++] = p[i];
            }
            if (i < v.len)
                i++;
        } else {
            while (i < v.len && !tspecial(p[i])) {
                if (match && k + 1 < n)
                    out[k++] = p[i];
                i++;
            }
        }
        if (match) {
            out[k] = '\0';
            return 1;
        }
        while (i < v.len && p[i] != ';')
            i++;
    }
    return 0;
}

static int is_attachment(lia_slice disp)
{
    size_t i = skip_cfws(disp.ptr, disp.len, 0);
    lia_slice w = {disp.ptr + i, 0};
    while (i + w.len < disp.len && !tspecial(disp.ptr[i + w.len]))
        w.len++;
    return lia_slice_ieq(w, "attachment");
}

static lia_slice cte_word(lia_slice cte)
{
    size_t i = skip_cfws(cte.ptr, cte.len, 0);
    lia_slice w = {cte.ptr + i, 0};
    while (i + w.len < cte.len && !tspecial(cte.ptr[i + w.len]))
        w.len++;
    return w;
}

static int take_text(lia_mail *m, const mime_fields *f, lia_slice body, lia_error *err)
{
    lia_buf dec;
    lia_slice cte = cte_word(f->cte);
    char charset[64] = "";
    int unknown = 0;
    lia_buf_init(&dec, LIA_MAIL_MAX_TEXT);
    if (lia_slice_ieq(cte, "quoted-printable"))
        lia__mail_qp(body.ptr, body.len, &dec);
    else if (lia_slice_ieq(cte, "base64"))
        lia__mail_b64(body.ptr, body.len, &dec);
    else
        lia_buf_append(&dec, body.ptr, body.len);
    if (f->ctype.ptr)
        param(f->ctype, "charset", charset, sizeof charset);
    if (!dec.err) {
        /* line ends LF */
        lia_buf tmp;
        lia_buf_init(&tmp, LIA_MAIL_MAX_TEXT);
        lia__mail_to_utf8(charset[0] ? charset : NULL, lia_buf_cstr(&dec), dec.len, &tmp, &unknown);
        for (size_t i = 0; i < tmp.len && !m->text.err; i++)
            if (!(tmp.ptr[i] == '\r' && i + 1 < tmp.len && tmp.ptr[i + 1] == '\n'))
                lia_buf_putc(&m->text, tmp.ptr[i]);
        if (tmp.err)
            m->text.err = tmp.err;
        lia_buf_free(&tmp);
    }
    if (dec.err || m->text.err) {
        int e = dec.err ? dec.err : m->text.err;
        lia_buf_free(&dec);
        return lia_error_set(err, e == LIA_ENOMEM ? LIA_ENOMEM : LIA_ELIMIT, "text", NULL, 0,
                             "the text part is larger than %u bytes once decoded", LIA_MAIL_MAX_TEXT);
    }
    lia_buf_free(&dec);
    lia_buf_append(&m->text, "", 0);
    m->have_text = 1;
    if (unknown) {
        char esc[64];
        lia_escape(charset, strlen(charset), esc, sizeof esc);
        snprintf(m->note, sizeof m->note, "charset %s unknown to iconv: read as UTF-8", esc);
    }
    return LIA_OK;
}

/* Find the next delimiter line "--boundary" (or "--boundary--") at or after
 * i; its start (including the line end before it) in *dstart, the offset
 * after its own line in *next, *close = 1 for the closing one. 0 if none. */
static int find_delim(const char *p, size_t n, size_t i, const char *b, size_t blen, size_t *dstart,
                      size_t *next, int *close)
{
    while (i < n) {
        size_t e = line_end(p, n, i);
        if (e - i >= blen + 2 && p[i] == '-' && p[i + 1] == '-' && memcmp(p + i + 2, b, blen) == 0) {
            size_t k = i + 2 + blen;
            int c = 0;
            if (k + 2 <= e && p[k] == '-' && p[k + 1] == '-') {
                c = 1;
                k += 2;
            }
            while (k < e && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
                k++;
            if (k == e) {
                size_t d = i;
                /* the line end before the delimiter belongs to it */
                if (d > 0 && p[d - 1] == '\n') {
                    d--;
                    if (d > 0 && p[d - 1] == '\r')
                        d--;
                }
                *dstart = d;
                *next = e < n ? e + 1 : n;
                *close = c;
                return 1;
            }
        }
        i = e < n ? e + 1 : n;
    }
    return 0;
}

static int entity(lia_mail *m, size_t off, size_t len, int depth, int top, lia_error *err)
{
    const char *p = m->raw + off;
    mime_fields f = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    size_t body = 0, idx;
    mail_part *part;
    int rc;
    if (m->nparts >= LIA_MAIL_MAX_PARTS)
        return lia_error_set(err, LIA_ELIMIT, "mime", NULL, 0, "more than %u MIME parts", LIA_MAIL_MAX_PARTS);
    if (depth > LIA_MAIL_MAX_DEPTH)
        return lia_error_set(err, LIA_ELIMIT, "mime", NULL, 0, "multiparts nested deeper than %u",
                             LIA_MAIL_MAX_DEPTH);
    rc =
        top ? walk_headers(p, len, keep_top, m, &body, err) : walk_headers(p, len, keep_mime, &f, &body, err);
    if (rc)
        return rc;
    if (top) {
        /* the raw MIME values: a second, cheap walk */
        if ((rc = walk_headers(p, len, keep_mime, &f, &body, err)))
            return rc;
    }
    idx = m->nparts++;
    part = &m->parts[idx];
    if (f.ctype.ptr)
        media_type(f.ctype, part->type);
    else
        memcpy(part->type, "text/plain", 11);
    part->entity = (lia_slice){p, len};
    part->body = (lia_slice){p + body, len - body};
    if (strncmp(part->type, "multipart/", 10) == 0) {
        char b[80];
        size_t blen, i, dstart, next;
        int close = 0, nsub = 0;
        size_t sub_off[2] = {0, 0}, sub_len[2] = {0, 0};
        if (!param(f.ctype, "boundary", b, sizeof b) || !b[0])
            return lia_error_set(err, LIA_EPARSE, "content-type", part->type, strlen(part->type),
                                 "a multipart without its boundary parameter");
        blen = strlen(b);
        i = body;
        if (!find_delim(p, len, i, b, blen, &dstart, &next, &close) || close)
            return lia_error_set(err, LIA_EPARSE, "mime", b, blen, "no part begins with this boundary");
        for (;;) {
            size_t s = next;
            if (!find_delim(p, len, s, b, blen, &dstart, &next, &close))
                return lia_error_set(err, LIA_EPARSE, "mime", b, blen,
                                     "the multipart has no closing delimiter");
            if (dstart < s)
                dstart = s;
            if (nsub < 2) {
                sub_off[nsub] = off + s;
                sub_len[nsub] = dstart - s;
            }
            nsub++;
            if ((rc = entity(m, off + s, dstart - s, depth + 1, 0, err)))
                return rc;
            if (close)
                break;
        }
        if (strcmp(part->type, "multipart/signed") == 0 && nsub == 2 && !m->is_signed) {
            char proto[64];
            if (param(f.ctype, "protocol", proto, sizeof proto) &&
                lia_slice_ieq(lia_slice_from(proto), "application/pgp-signature")) {
                /* the signature part's body */
                size_t sb = 0;
                mime_fields sf = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
                if (walk_headers(m->raw + sub_off[1], sub_len[1], keep_mime, &sf, &sb, err) == LIA_OK) {
                    m->is_signed = 1;
                    m->signed_entity = (lia_slice){m->raw + sub_off[0], sub_len[0]};
                    m->signature = (lia_slice){m->raw + sub_off[1] + sb, sub_len[1] - sb};
                }
            }
        }
        return LIA_OK;
    }
    if (!m->have_text && strcmp(part->type, "text/plain") == 0 &&
        !(f.disposition.ptr && is_attachment(f.disposition)))
        return take_text(m, &f, part->body, err);
    return LIA_OK;
}

static void take_from(lia_mail *m)
{
    const char *v = lia_mail_header(m, "from", 0);
    if (v && lia_mail_addr(v, m->from, NULL) == LIA_OK)
        m->have_from = 1;
}

int lia_mail_parse(const char *buf, size_t len, lia_mail **out, lia_error *err)
{
    lia_mail *m;
    size_t start = 0;
    int rc;
    if (len > LIA_MAIL_MAX_MESSAGE)
        return lia_error_set(err, LIA_ELIMIT, "message", NULL, 0, "larger than %u bytes",
                             LIA_MAIL_MAX_MESSAGE);
    if (len == 0)
        return lia_error_set(err, LIA_EPARSE, "message", NULL, 0, "empty");
    if (!(m = calloc(1, sizeof *m)) || !(m->raw = malloc(len + 1))) {
        free(m);
        return lia_error_set(err, LIA_ENOMEM, "message", NULL, 0, "out of memory");
    }
    memcpy(m->raw, buf, len);
    m->raw[len] = '\0';
    m->len = len;
    lia_buf_init(&m->text, LIA_MAIL_MAX_TEXT);
    /* an mbox "From " line (as some MTA pipes deliver) is not a header */
    if (len > 5 && memcmp(buf, "From ", 5) == 0) {
        size_t e = line_end(buf, len, 0);
        start = e < len ? e + 1 : len;
    }
    if (start >= len || buf[start] == '\n' || buf[start] == '\r') {
        rc = lia_error_set(err, LIA_EPARSE, "message", NULL, 0, "no header fields");
        goto fail;
    }
    if ((rc = entity(m, start, len - start, 0, 1, err)))
        goto fail;
    if (!m->have_text) {
        lia_buf_append(&m->text, "", 0);
        if (!m->note[0])
            snprintf(m->note, sizeof m->note, "no text/plain part");
    }
    take_from(m);
    *out = m;
    return LIA_OK;
fail:
    lia_mail_free(m);
    return rc;
}

void lia_mail_free(lia_mail *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nh; i++)
        free(m->h[i].value);
    free(m->h);
    lia_buf_free(&m->text);
    free(m->raw);
    free(m);
}

const char *lia_mail_header(const lia_mail *m, const char *name, size_t nth)
{
    for (size_t i = 0; i < m->nh; i++)
        if (lia_slice_ieq(m->h[i].name, name) && nth-- == 0)
            return m->h[i].value;
    return NULL;
}

size_t lia_mail_nheaders(const lia_mail *m)
{
    return m->nh;
}

const char *lia_mail_text(const lia_mail *m, size_t *len)
{
    if (len)
        *len = m->text.len;
    return lia_buf_cstr(&m->text);
}

const char *lia_mail_text_note(const lia_mail *m)
{
    return m->note[0] ? m->note : NULL;
}

const char *lia_mail_from(const lia_mail *m)
{
    return m->have_from ? m->from : NULL;
}

int lia_mail_pgp_signed(const lia_mail *m, lia_slice *entity_out, lia_slice *signature)
{
    if (!m->is_signed)
        return 0;
    *entity_out = m->signed_entity;
    *signature = m->signature;
    return 1;
}

size_t lia_mail_nparts(const lia_mail *m)
{
    return m->nparts;
}

const char *lia_mail_part_type(const lia_mail *m, size_t i)
{
    return i < m->nparts ? m->parts[i].type : NULL;
}

int lia_mail_addr(const char *value, char out[LIA_MAIL_MAX_ADDR + 1], lia_error *err)
{
    size_t n = value ? strlen(value) : 0, i = 0, a = 0, e = 0;
    const char *lt = NULL;
    /* the first <...> outside quotes and comments, else the first word with '@' */
    while (i < n) {
        i = skip_cfws(value, n, i);
        if (i >= n)
            break;
        if (value[i] == '"') {
            for (i++; i < n && value[i] != '"'; i++)
                if (value[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (value[i] == '<') {
            lt = value + i;
            break;
        }
        i++;
    }
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - value));
        if (!gt)
            goto bad;
        a = (size_t)(lt - value) + 1;
        e = (size_t)(gt - value);
    } else {
        for (i = 0; i < n;) {
            size_t w;
            i = skip_cfws(value, n, i);
            for (w = i; w < n && value[w] != ' ' && value[w] != '\t' && value[w] != '(' && value[w] != ',';)
                w++;
            if (memchr(value + i, '@', w - i)) {
                a = i, e = w;
                break;
            }
            i = w + 1;
        }
    }
    /* a source route "@a,@b:user@host" is dropped */
    for (i = a; i < e; i++)
        if (value[i] == ':')
            a = i + 1;
    while (a < e && (value[a] == ' ' || value[a] == '\t'))
        a++;
    while (e > a && (value[e - 1] == ' ' || value[e - 1] == '\t'))
        e--;
    if (e <= a || e - a > LIA_MAIL_MAX_ADDR || !memchr(value + a, '@', e - a))
        goto bad;
    for (i = a; i < e; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '(' || c == ')')
            goto bad;
        out[i - a] = (char)lower(c);
    }
    out[e - a] = '\0';
    return LIA_OK;
bad:
    return lia_error_set(err, LIA_EINVAL, "address", value, n, "no e-mail address (user@host)");
}

int64_t lia_mail_incident_ref(const char *subject)
{
    static const char tag[] = "[liaison#";
    size_t n = subject ? strlen(subject) : 0;
    for (size_t i = 0; i + sizeof tag - 1 < n; i++) {
        size_t k = 0, j;
        int64_t id = 0;
        while (k < sizeof tag - 1 && lower((unsigned char)subject[i + k]) == tag[k])
            k++;
        if (k < sizeof tag - 1)
            continue;
        for (j = i + k; j < n && subject[j] >= '0' && subject[j] <= '9' && id < INT64_MAX / 10 - 10; j++)
            id = id * 10 + (subject[j] - '0');
        if (j < n && subject[j] == ']' && j > i + k && id > 0)
            return id;
    }
    return 0;
}

/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* SQLite's dialect to PostgreSQL's (pg_sql.h): a lexer splits the text into
 * tokens (white space, comments, literals, quoted identifiers, words,
 * parameters, punctuation), then one pass over the tokens writes the
 * PostgreSQL text. Words are compared only outside literals, quoted
 * identifiers and comments, so a value or a column that happens to be
 * spelled `?` or `blob` is never touched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_sql.h"

enum {
    T_SPACE,
    T_COMMENT,
    T_STRING,
    T_QIDENT,
    T_WORD,
    T_PARAM,
    T_NAMED,
    T_SEMI,
    T_OPEN,
    T_CLOSE,
    T_COMMA,
    T_EQEQ,
    T_PUNCT
};

typedef struct tok {
    int type;
    size_t at, len;
    int depth; /* parentheses open before it */
} tok;

typedef struct lexed {
    tok *t;
    size_t n, cap;
} lexed;

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

static int push(lexed *x, int type, size_t at, size_t len, int depth)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        tok *t = realloc(x->t, cap * sizeof *t);
        if (!t)
            return LIA_ENOMEM;
        x->t = t;
        x->cap = cap;
    }
    x->t[x->n++] = (tok){type, at, len, depth};
    return LIA_OK;
}

/* End of a literal or quoted identifier opened by q at s[i] (closed by
 * close, doubled to escape it), or 0 if unterminated. */
static size_t quoted_end(const char *s, size_t len, size_t i, char close)
{
    for (size_t k = i + 1; k < len; k++)
        if (s[k] == close) {
            if (close != ']' && k + 1 < len && s[k + 1] == close) {
                k++;
                continue;
            }
            return k + 1;
        }
    return 0;
}

static int lex(const char *s, size_t len, lexed *x, lia_error *err)
{
    int depth = 0, rc = LIA_OK;
    size_t i = 0;
    while (i < len && rc == LIA_OK) {
        unsigned char c = (unsigned char)s[i];
        size_t j = i + 1;
        int type = T_PUNCT;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            while (j < len && strchr(" \t\n\r\f\v", s[j]) && s[j])
                j++;
            type = T_SPACE;
        } else if (c == '-' && j < len && s[j] == '-') {
            while (j < len && s[j] != '\n')
                j++;
            type = T_COMMENT;
        } else if (c == '/' && j < len && s[j] == '*') {
            const char *e = NULL;
            for (size_t k = i + 2; k + 1 < len; k++)
                if (s[k] == '*' && s[k + 1] == '/') {
                    e = s + k + 2;
                    break;
                }
            if (!e)
                return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "SQL: unterminated comment at byte %zu",
                                     i);
            j = (size_t)(e - s);
            type = T_COMMENT;
        } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : (char)c;
            if (!(j = quoted_end(s, len, i, close)))
                return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "SQL: unterminated %s at byte %zu",
                                     c == '\'' ? "string literal" : "quoted identifier", i);
            type = c == '\'' ? T_STRING : T_QIDENT;
        } else if (c == '?') {
            while (j < len && s[j] >= '0' && s[j] <= '9')
                j++;
            type = T_PARAM;
        } else if ((c == ':' || c == '@' || c == '$') && j < len && is_word_char((unsigned char)s[j]) &&
                   !(c == ':' && s[j] == ':')) {
            while (j < len && is_word_char((unsigned char)s[j]))
                j++;
            type = T_NAMED;
        } else if (is_word_char(c)) {
            while (j < len && is_word_char((unsigned char)s[j]))
                j++;
            type = T_WORD;
        } else if (c == ';') {
            type = T_SEMI;
        } else if (c == '(') {
            type = T_OPEN;
        } else if (c == ')') {
            type = T_CLOSE;
        } else if (c == ',') {
            type = T_COMMA;
        } else if (c == '=' && j < len && s[j] == '=') {
            j++;
            type = T_EQEQ;
        } else if (c == ':' && j < len && s[j] == ':') {
            j++; /* PostgreSQL's cast, in a module's PostgreSQL text */
        }
        if (type == T_CLOSE)
            depth--;
        rc = push(x, type, i, j - i, depth);
        if (type == T_OPEN)
            depth++;
        i = j;
    }
    return rc;
}

typedef struct rw {
    const char *s;
    const lexed *x;
    lia_buf *out;
    lia_error *err;
    int native; /* PostgreSQL's own text: only read, $N counted */
} rw;

static int word_is(const rw *r, size_t k, const char *w)
{
    const tok *t;
    size_t n = strlen(w);
    if (k >= r->x->n)
        return 0;
    t = &r->x->t[k];
    if (t->type != T_WORD || t->len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = r->s[t->at + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

/* The next token from k on that is not white space or a comment. */
static size_t next_sig(const rw *r, size_t k)
{
    while (k < r->x->n && (r->x->t[k].type == T_SPACE || r->x->t[k].type == T_COMMENT))
        k++;
    return k;
}

static void put(rw *r, const char *s, size_t n)
{
    lia_buf_append(r->out, s, n);
}
static void puts_(rw *r, const char *s)
{
    lia_buf_puts(r->out, s);
}

/* Arguments of the call whose '(' is token k: commas at its depth + 1. */
static int call_args(const rw *r, size_t k)
{
    int depth = r->x->t[k].depth, args = 1;
    for (size_t i = k + 1; i < r->x->n; i++) {
        const tok *t = &r->x->t[i];
        if (t->type == T_CLOSE && t->depth == depth)
            return args;
        if (t->type == T_COMMA && t->depth == depth + 1)
            args++;
    }
    return args;
}

static int refuse(rw *r, const char *what)
{
    return lia_error_set(r->err, LIA_EUNSUPPORTED, NULL, NULL, 0,
                         "SQL for PostgreSQL: %s has no mechanical translation (the module must give the "
                         "statement's PostgreSQL text)",
                         what);
}

/* Words SQLite has and PostgreSQL has not, or means otherwise: the first
 * N_REFUSED_WORDS anywhere, the rest as functions (followed by '('), so a
 * column may still be called `total`. */
#define N_REFUSED_WORDS 5
static const char *const refused[] = {
    "glob",     "rowid",  "pragma", "sqlite_master",     "sqlite_schema", "json_extract", "json_each",
    "strftime", "typeof", "total",  "last_insert_rowid", "julianday",     "unixepoch"};

/* The column list of an INSERT whose table is followed by token k. */
static void cols(const rw *r, size_t k, size_t to, lia_pg_info *info)
{
    size_t n = 1;
    memcpy(info->insert_cols, "*", 2);
    if (k >= to || r->x->t[k].type != T_OPEN)
        return; /* VALUES, SELECT, DEFAULT VALUES: every column */
    info->insert_cols[0] = ' ';
    for (size_t i = k + 1; i < to && r->x->t[i].depth > r->x->t[k].depth; i++) {
        const tok *t = &r->x->t[i];
        if (t->type != T_WORD && t->type != T_QIDENT)
            continue;
        if (n + t->len + 2 > sizeof info->insert_cols) {
            memcpy(info->insert_cols, "?", 2);
            return;
        }
        for (size_t j = 0; j < t->len; j++) {
            char c = r->s[t->at + j];
            info->insert_cols[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        info->insert_cols[n++] = ' ';
    }
    info->insert_cols[n] = '\0';
}

/* The table of an INSERT (first is its INSERT token), and whether it has a
 * RETURNING at depth 0. */
static void insert_info(const rw *r, size_t first, size_t to, lia_pg_info *info)
{
    size_t k = first + 1;
    info->insert_table[0] = '\0';
    info->insert_cols[0] = '\0';
    info->returning = 0;
    for (size_t i = first; i < to; i++)
        if (r->x->t[i].depth == 0 && word_is(r, i, "returning"))
            info->returning = 1;
    if (!word_is(r, first, "insert"))
        return;
    while ((k = next_sig(r, k)) < to && !word_is(r, k, "into"))
        k++;
    k = next_sig(r, k + 1);
    if (k < to && r->x->t[k].type == T_WORD && r->x->t[k].len < sizeof info->insert_table) {
        size_t d = next_sig(r, k + 1);
        if (d < to && r->x->t[d].type == T_PUNCT && r->s[r->x->t[d].at] == '.')
            return;                                   /* schema.table: not looked up */
        for (size_t j = 0; j < r->x->t[k].len; j++) { /* folded, as PostgreSQL folds it */
            char c = r->s[r->x->t[k].at + j];
            info->insert_table[j] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        info->insert_table[r->x->t[k].len] = '\0';
        cols(r, d, to, info);
    }
}

static int statement(rw *r, size_t from, size_t to, int *maxp, lia_pg_info *info)
{
    int ignore = 0, rc;
    size_t first = next_sig(r, from), conflict_at = to;
    if (first >= to)
        return LIA_OK; /* only white space or comments */
    info->statements++;
    insert_info(r, first, to, info);
    if (r->native) {
        for (size_t k = first; k < to; k++) {
            const tok *t = &r->x->t[k];
            long n = 0;
            if (t->type != T_NAMED || r->s[t->at] != '$')
                continue;
            for (size_t i = 1; i < t->len && n <= 32766; i++)
                n = r->s[t->at + i] >= '0' && r->s[t->at + i] <= '9' ? n * 10 + (r->s[t->at + i] - '0')
                                                                     : 32767;
            if (n > 32766)
                return lia_error_set(r->err, LIA_EPARSE, NULL, NULL, 0, "SQL: parameter %.*s out of range",
                                     (int)t->len, r->s + t->at);
            if (n > *maxp)
                *maxp = (int)n;
            if (n >= 1 && n <= 256)
                info->used[(n - 1) / 8] |= (unsigned char)(1u << ((n - 1) % 8));
        }
        return LIA_OK;
    }
    /* INSERT OR <conflict> at the start */
    if (word_is(r, first, "insert")) {
        size_t o = next_sig(r, first + 1);
        if (word_is(r, o, "or")) {
            size_t what = next_sig(r, o + 1);
            if (!word_is(r, what, "ignore"))
                return refuse(r, "INSERT OR REPLACE / ROLLBACK / ABORT / FAIL (write INSERT ... ON "
                                 "CONFLICT(key) DO UPDATE)");
            ignore = 1;
        }
    } else if (word_is(r, first, "replace")) {
        return refuse(r, "REPLACE INTO (write INSERT ... ON CONFLICT(key) DO UPDATE)");
    } else if (word_is(r, first, "create")) {
        for (size_t k = next_sig(r, first + 1); k < to && r->x->t[k].type == T_WORD; k = next_sig(r, k + 1))
            if (word_is(r, k, "trigger"))
                return refuse(r, "CREATE TRIGGER");
    }
    if (ignore) { /* ON CONFLICT DO NOTHING goes before a RETURNING, else at the end */
        for (size_t k = first; k < to; k++) {
            if (r->x->t[k].depth == 0 && word_is(r, k, "on") && word_is(r, next_sig(r, k + 1), "conflict"))
                return refuse(r, "INSERT OR IGNORE with an ON CONFLICT clause");
            if (r->x->t[k].depth == 0 && word_is(r, k, "returning")) {
                conflict_at = k;
                break;
            }
        }
        if (conflict_at == to) /* not after trailing white space and comments */
            while (conflict_at > first &&
                   (r->x->t[conflict_at - 1].type == T_SPACE || r->x->t[conflict_at - 1].type == T_COMMENT))
                conflict_at--;
    }
    size_t limit_param = to; /* the parameter of a LIMIT ?, closed after it */
    for (size_t k = from; k < to; k++) {
        const tok *t = &r->x->t[k];
        const char *p = r->s + t->at;
        if (k > limit_param) {
            puts_(r, "::bigint, -1), -1)");
            limit_param = to;
        }
        if (ignore && k == conflict_at)
            puts_(r, conflict_at < to && r->x->t[conflict_at].type == T_WORD ? "ON CONFLICT DO NOTHING "
                                                                             : " ON CONFLICT DO NOTHING");
        switch (t->type) {
        case T_PARAM: {
            long n = 0;
            if (t->len == 1) {
                n = ++*maxp;
            } else {
                for (size_t i = 1; i < t->len && n <= 32766; i++)
                    n = n * 10 + (p[i] - '0');
                if (n < 1 || n > 32766)
                    return lia_error_set(r->err, LIA_EPARSE, NULL, NULL, 0,
                                         "SQL: parameter number %.*s out of range", (int)t->len, p);
                if (n > *maxp)
                    *maxp = (int)n;
            }
            if (n <= 256)
                info->used[(n - 1) / 8] |= (unsigned char)(1u << ((n - 1) % 8));
            lia_buf_printf(r->out, "$%ld", n);
            continue;
        }
        case T_NAMED: return refuse(r, "a named parameter (:name, @name, $name; use ? or ?N)");
        case T_EQEQ: puts_(r, "="); continue;
        case T_QIDENT:
            if (*p == '`' || *p == '[') {
                if (memchr(p + 1, '"', t->len - 2))
                    return refuse(r, "a quoted identifier holding a double quote");
                puts_(r, "\"");
                put(r, p + 1, t->len - 2);
                puts_(r, "\"");
                continue;
            }
            break;
        case T_WORD: {
            size_t nx = next_sig(r, k + 1);
            if (ignore && k == next_sig(r, first + 1)) { /* OR IGNORE: gone, with the space after it */
                k = next_sig(r, nx + 1) - 1;
                continue;
            }
            if (word_is(r, k, "integer")) {
                size_t k2 = next_sig(r, nx + 1);
                if (word_is(r, nx, "primary") && word_is(r, k2, "key")) {
                    size_t k3 = next_sig(r, k2 + 1);
                    puts_(r, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
                    k = word_is(r, k3, "autoincrement") ? k3 : k2;
                } else {
                    puts_(r, "BIGINT");
                }
                continue;
            }
            if (word_is(r, k, "real")) {
                puts_(r, "DOUBLE PRECISION");
                continue;
            }
            if (word_is(r, k, "blob")) {
                puts_(r, "BYTEA");
                continue;
            }
            if (word_is(r, k, "autoincrement"))
                continue;
            /* a negative LIMIT is none in SQLite, an error in PostgreSQL */
            if (word_is(r, k, "limit") && nx < to && r->x->t[nx].type == T_PARAM) {
                puts_(r, "LIMIT NULLIF(GREATEST(");
                limit_param = nx;
                k = nx - 1;
                continue;
            }
            if (word_is(r, k, "limit") && nx + 1 < to && r->x->t[nx].type == T_PUNCT &&
                r->s[r->x->t[nx].at] == '-' && r->x->t[nx + 1].type == T_WORD && r->x->t[nx + 1].len == 1 &&
                r->s[r->x->t[nx + 1].at] == '1') {
                puts_(r, "LIMIT ALL");
                k = nx + 1;
                continue;
            }
            if (word_is(r, k, "without") && word_is(r, nx, "rowid")) {
                k = nx;
                continue;
            }
            if (word_is(r, k, "begin") &&
                (word_is(r, nx, "immediate") || word_is(r, nx, "exclusive") || word_is(r, nx, "deferred"))) {
                puts_(r, "BEGIN");
                k = nx;
                continue;
            }
            /* SQLite's schema of temporary tables is temp, PostgreSQL's pg_temp */
            if (word_is(r, k, "temp") && nx == k + 1 && nx < to && r->x->t[nx].type == T_PUNCT &&
                r->s[r->x->t[nx].at] == '.') {
                puts_(r, "pg_temp");
                continue;
            }
            if (nx < to && r->x->t[nx].type == T_OPEN) {
                if (word_is(r, k, "ifnull")) {
                    puts_(r, "COALESCE");
                    continue;
                }
                if (word_is(r, k, "instr")) { /* same arguments, same 1-based answer, 0 when absent */
                    puts_(r, "strpos");
                    continue;
                }
                if ((word_is(r, k, "max") || word_is(r, k, "min")) && call_args(r, nx) >= 2) {
                    puts_(r, word_is(r, k, "max") ? "GREATEST" : "LEAST");
                    continue;
                }
            }
            for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
                if (word_is(r, k, refused[i]) &&
                    (i < N_REFUSED_WORDS || (nx < to && r->x->t[nx].type == T_OPEN))) {
                    char what[48];
                    size_t n = t->len < sizeof what - 10 ? t->len : sizeof what - 10;
                    memcpy(what, "SQLite's ", 9);
                    memcpy(what + 9, p, n);
                    what[9 + n] = '\0';
                    return refuse(r, what);
                }
            break;
        }
        default: break;
        }
        put(r, p, t->len);
    }
    if (limit_param < to)
        puts_(r, "::bigint, -1), -1)");
    if (ignore && conflict_at == to)
        puts_(r, " ON CONFLICT DO NOTHING");
    if ((rc = r->out->err))
        return lia_error_set(r->err, rc, NULL, NULL, 0, "SQL for PostgreSQL: %s", lia_strerror(rc));
    return LIA_OK;
}

static int run(const char *sql, size_t len, lia_buf *out, lia_pg_info *info, int native, lia_error *err)
{
    lexed x = {0};
    rw r = {sql, &x, out, err, native};
    lia_pg_info in = {0};
    int maxp = 0, rc;
    size_t from = 0;
    if (len > LIA_PG_SQL_MAX)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "SQL for PostgreSQL: %zu bytes, above %u", len,
                             LIA_PG_SQL_MAX);
    if (memchr(sql, '\0', len)) /* a C string's end inside the text (fuzz_pg_sql) */
        return lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "SQL: a NUL byte at byte %zu",
                             (size_t)((const char *)memchr(sql, '\0', len) - sql));
    if ((rc = lex(sql, len, &x, err)))
        goto out;
    for (size_t k = 0; k <= x.n; k++)
        if (k == x.n || (x.t[k].type == T_SEMI && x.t[k].depth == 0)) {
            if ((rc = statement(&r, from, k, &maxp, &in)))
                goto out;
            if (k < x.n && !native)
                put(&r, ";", 1);
            from = k + 1;
        }
    if ((rc = out->err)) {
        rc = lia_error_set(err, rc, NULL, NULL, 0, "SQL for PostgreSQL: %s", lia_strerror(rc));
        goto out;
    }
    if (!native && !out->ptr) /* an empty text: still a string */
        lia_buf_append(out, "", 0);
    in.nparams = maxp;
    *info = in;
out:
    free(x.t);
    return rc;
}

int lia__pg_rewrite(const char *sql, size_t len, lia_buf *out, lia_pg_info *info, lia_error *err)
{
    return run(sql, len, out, info, 0, err);
}

int lia__pg_scan(const char *sql, size_t len, lia_pg_info *info, lia_error *err)
{
    lia_buf none;
    int rc;
    lia_buf_init(&none, 0);
    rc = run(sql, len, &none, info, 1, err);
    lia_buf_free(&none);
    return rc;
}

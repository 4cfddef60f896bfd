/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The answer links of digests, served at /answer/ without log-in (the
 * signed link is the credential; include/liaison/incident.h):
 *
 *   GET  /answer/...   a page naming the incident and what the link does,
 *                      with one button (and a reason field for reject)
 *   POST /answer/...   does it: the recipient's hand-off moves, recorded
 *                      with the channel "link" and the client's address
 *
 * GET never changes anything: mail filters and link scanners fetch the
 * links of every message they pass, and an acknowledgement must be a
 * person's. A changed link is 403, an expired one 410, an answer the
 * hand-off's state no longer allows 409 (already acknowledged: the page
 * says when); each a page that says what happened and what to do. The
 * pages load nothing (CSP default-src 'none'), are not cached and send no
 * Referer (the URL is the credential). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "console/console.h"
#include "core/clock.h"
#include "http/handler.h"
#include "http/parse.h"
#include "liaison/incident.h"

#define REASON_MAX 2000

static void esc(lia_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': lia_buf_puts(b, "&lt;"); break;
        case '>': lia_buf_puts(b, "&gt;"); break;
        case '&': lia_buf_puts(b, "&amp;"); break;
        case '"': lia_buf_puts(b, "&quot;"); break;
        case '\'': lia_buf_puts(b, "&#39;"); break;
        default: lia_buf_putc(b, *s);
        }
    }
}

static void page_start(lia__req *r, int status, const char *title)
{
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = "text/html; charset=utf-8";
    r->nresp = r->resp_used = 0;
    lia__req_add_header(
        r, "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    lia__req_add_header(r, "Cache-Control", "no-store");
    lia__req_add_header(r, "Referrer-Policy", "no-referrer");
    lia__req_add_header(r, "X-Content-Type-Options", "nosniff");
    lia_buf_puts(&r->out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    esc(&r->out, title);
    lia_buf_puts(&r->out,
                 " - Liaison</title><style>body{font-family:sans-serif;max-width:40em;margin:3em auto;"
                 "padding:0 1em;line-height:1.5}h1{font-size:1.4em}button{font-size:1em;padding:.5em "
                 "1.2em}textarea{width:100%;min-height:6em}.muted{color:#555}</style></head><body><h1>");
    esc(&r->out, title);
    lia_buf_puts(&r->out, "</h1>\n");
}

static void page_end(lia__req *r)
{
    lia_buf_puts(&r->out, "<p class=\"muted\">Liaison, the incident tracker of the CERT that sent you this "
                          "link.</p></body></html>\n");
}

/* A page of one paragraph (escaped). */
static void page(lia__req *r, int status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void page(lia__req *r, int status, const char *title, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    page_start(r, status, title);
    lia_buf_puts(&r->out, "<p>");
    esc(&r->out, msg);
    lia_buf_puts(&r->out, "</p>\n");
    page_end(r);
}

/* The server's own errors (413, 429, ...) as a page. */
static void server_error(lia__req *r, int status, const char *title, const char *detail)
{
    page(r, status, title, "%s", detail);
}

typedef struct found {
    const char *rcpt;
    int have;
    lia_handoff h;
    char reason[512];
} found;

static int ho_cb(void *ud, const lia_handoff *h)
{
    found *f = ud;
    if (strcmp(h->recipient, f->rcpt) != 0)
        return 0;
    f->have = 1;
    f->h = *h;
    f->h.recipient = f->rcpt;
    snprintf(f->reason, sizeof f->reason, "%s", h->reason ? h->reason : "");
    f->h.reason = f->h.by = f->h.channel = NULL;
    return 1;
}

static int reason_cb(void *ud, const char *key, const char *value)
{
    if (strcmp(key, "reason") == 0)
        snprintf(ud, REASON_MAX + 1, "%s", value);
    return 0;
}

static const char *const verbs[LIA_ANSWER__COUNT] = {"Acknowledge", "Report resolved", "Reject"};
static const char *const done_words[LIA_ANSWER__COUNT] = {"acknowledged", "reported resolved", "rejected"};

/* What a link answered: the page's words for a person, and for the
 * console's answer page (web/src/views/AnswerView.vue, which asks with
 * X-Requested-With and says it in the user's language) the same as JSON:
 * {"outcome", "message", "incident", "title", "recipient", "action",
 *  "state", "expires", "when", "reason"}. */
typedef struct outcome {
    int json;
    const lia_answer_ref *a; /* NULL before the link is read */
    const char *title;       /* the incident's */
    const char *state;       /* the hand-off's */
    int64_t when_us;         /* already done: when */
} outcome;

static const char *const action_names[LIA_ANSWER__COUNT] = {"ack", "resolve", "reject"};

static void reply(lia__req *r, const outcome *o, int status, const char *code, const char *head,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void reply(lia__req *r, const outcome *o, int status, const char *code, const char *head,
                  const char *fmt, ...)
{
    char msg[1024], t[LIA_TIME_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!o->json) {
        page(r, status, head, "%s", msg);
        return;
    }
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = "application/json";
    r->nresp = r->resp_used = 0;
    lia__req_add_header(r, "Cache-Control", "no-store");
    lia__req_add_header(r, "Referrer-Policy", "no-referrer");
    json_t *j = json_pack("{s:s, s:s}", "outcome", code, "message", msg);
    if (j && o->a) {
        json_object_set_new(j, "incident", json_integer(o->a->incident));
        json_object_set_new(j, "recipient", json_string(o->a->recipient));
        json_object_set_new(j, "action", json_string(action_names[o->a->action]));
        lia_time_format(o->a->expires_us, t, sizeof t);
        json_object_set_new(j, "expires", json_string(t));
    }
    if (j && o->title)
        json_object_set_new(j, "title", json_string(o->title));
    if (j && o->state)
        json_object_set_new(j, "state", json_string(o->state));
    if (j && o->when_us) {
        lia_time_format(o->when_us, t, sizeof t);
        json_object_set_new(j, "when", json_string(t));
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        r->status = 500;
        lia_buf_puts(&r->out, "{\"outcome\":\"internal\",\"message\":\"out of memory\"}\n");
        return;
    }
    lia_buf_puts(&r->out, text);
    lia_buf_putc(&r->out, '\n');
    free(text);
}

/* A person's browser opening a link goes to the console's answer page (in
 * the user's language, beside the portal) when the console is installed;
 * ?plain keeps this page (no script at all). Every byte of the path outside
 * the unreserved set is escaped (the links carry none). */
static int to_console(lia__req *r)
{
    lia_buf loc;
    for (size_t i = 0; i < r->nargs; i++)
        if (r->args[i].name.len == 5 && memcmp(r->args[i].name.ptr, "plain", 5) == 0)
            return 0;
    if (!lia__console_installed(r))
        return 0;
    lia_buf_init(&loc, 3 * LIA_ANSWER_PATH_MAX + 16);
    lia_buf_puts(&loc, "/console");
    for (const unsigned char *p = (const unsigned char *)r->path; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            lia_buf_putc(&loc, (char)*p);
        else
            lia_buf_printf(&loc, "%%%02X", *p);
    }
    lia_buf_reset(&r->out);
    r->status = 303;
    r->ctype = "text/plain; charset=utf-8";
    r->nresp = r->resp_used = 0;
    if (loc.err || lia__req_add_header(r, "Location", lia_buf_cstr(&loc))) {
        lia_buf_free(&loc);
        return 0; /* too long for a header: this page answers */
    }
    lia__req_add_header(r, "Cache-Control", "no-store");
    lia__req_add_header(r, "Referrer-Policy", "no-referrer");
    lia_buf_puts(&r->out, "See the console's answer page.\n");
    lia_buf_free(&loc);
    return 1;
}

static void handle(void *ud, lia__req *r)
{
    lia_answer_ref a;
    lia_incident inc;
    lia_buf hold;
    lia_error e;
    found f;
    outcome o = {0};
    char t[LIA_TIME_TEXT], reason[REASON_MAX + 1] = "";
    int post = strcmp(r->method, "POST") == 0, rc;
    int64_t when;
    (void)ud;
    lia_error_clear(&e);
    lia_buf_init(&hold, 0);
    o.json = lia__req_header(r, "X-Requested-With").ptr != NULL;
    if (!post && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        reply(r, &o, 405, "method", "Method not allowed",
              "An answer link is opened (GET) and confirmed (POST).");
        lia__req_add_header(r, "Allow", "GET, POST");
        return;
    }
    if (!post && !o.json && to_console(r))
        return;
    if ((rc = lia_answer_check(r->store, r->path, lia__now_us(), &a, &e))) {
        if (rc != LIA_EAUTH) {
            lia__req_store_error(r, &e);
            return;
        }
        reply(r, &o, 403, "invalid", "This link is not valid",
              "This answer link is not one we sent, or it was changed on the way (%s). Answer by replying to "
              "the e-mail instead: the reply keeps the incident's reference.",
              e.reason);
        return;
    }
    o.a = &a;
    if (a.expired) {
        lia_time_format(a.expires_us, t, sizeof t);
        reply(r, &o, 410, "expired", "This link has expired",
              "This link to answer incident LIAISON#%lld expired on %.10s. Answer by replying to the e-mail, "
              "or ask us for a new one: the next digest carries new links.",
              (long long)a.incident, t);
        return;
    }
    memset(&f, 0, sizeof f);
    f.rcpt = a.recipient;
    if ((rc = lia_handoff_list(r->store, a.incident, -1, a.recipient, ho_cb, &f, &e)) ||
        (rc = lia_incident_get(r->store, a.incident, &inc, &hold, &e))) {
        if (rc == LIA_ENOTFOUND)
            reply(r, &o, 404, "not_found", "No such incident", "Incident LIAISON#%lld is not here any more.",
                  (long long)a.incident);
        else
            lia__req_store_error(r, &e);
        goto out;
    }
    o.title = inc.title;
    o.state = lia_handoff_state_name(f.h.state);
    if (!f.have || f.h.state == LIA_HO_WITHDRAWN) {
        reply(r, &o, 404, "nothing", "Nothing to answer",
              "Incident LIAISON#%lld is no longer handed off to %s: there is nothing to answer.",
              (long long)a.incident, a.recipient);
        goto out;
    }
    if (f.h.state == lia_answer_state(a.action)) {
        when = a.action == LIA_ANSWER_ACK       ? f.h.acknowledged_us
               : a.action == LIA_ANSWER_RESOLVE ? f.h.resolved_us
                                                : f.h.rejected_us;
        lia_time_format(when, t, sizeof t);
        o.when_us = when;
        reply(r, &o, 200, "already", "Already done",
              "Incident LIAISON#%lld was %s for %s on %.10s at %.5s UTC. Nothing more to do.",
              (long long)a.incident, done_words[a.action], a.recipient, t, t + 11);
        goto out;
    }
    if (post) {
        lia_actor who = {a.recipient, "link", r->peer};
        const char *why = NULL;
        if (r->body_len && lia__http_query_each(r->body, r->body_len, reason_cb, reason, &why)) {
            reply(r, &o, 400, "bad_form", "The form could not be read", "%s", why ? why : "a bad form");
            goto out;
        }
        if (a.action == LIA_ANSWER_REJECT && !reason[0]) {
            reply(r, &o, 400, "reason_required", "A reason is needed",
                  "To reject incident LIAISON#%lld, say why (go back and fill in the reason).",
                  (long long)a.incident);
            goto out;
        }
        rc = lia_handoff_set(r->store, a.incident, a.recipient, lia_answer_state(a.action),
                             a.action == LIA_ANSWER_REJECT ? reason : NULL, &who, &e);
        if (rc == LIA_ESTATE) {
            reply(r, &o, 409, "conflict", "This answer no longer applies",
                  "The hand-off of incident LIAISON#%lld to %s is %s now: %s.", (long long)a.incident,
                  a.recipient, lia_handoff_state_name(f.h.state), e.reason);
            goto out;
        }
        if (rc) {
            lia__req_store_error(r, &e);
            goto out;
        }
        o.state = lia_handoff_state_name(lia_answer_state(a.action));
        reply(r, &o, 200, "done", "Thank you",
              "Incident LIAISON#%lld is %s for %s. The team that sent it sees your answer now.",
              (long long)a.incident, done_words[a.action], a.recipient);
        goto out;
    }
    if (o.json) {
        reply(r, &o, 200, "ready", verbs[a.action], "%s incident LIAISON#%lld", verbs[a.action],
              (long long)a.incident);
        goto out;
    }
    /* GET: what the link does, and the button that does it */
    {
        char title[96];
        snprintf(title, sizeof title, "%s incident LIAISON#%lld", verbs[a.action], (long long)a.incident);
        page_start(r, 200, title);
        lia_buf_puts(&r->out, "<p><strong>");
        esc(&r->out, inc.title);
        lia_buf_puts(&r->out, "</strong></p>\n<p>Handed off to <code>");
        esc(&r->out, a.recipient);
        lia_buf_printf(&r->out, "</code>; the hand-off is %s.</p>\n<form method=\"post\">",
                       lia_handoff_state_name(f.h.state));
        if (a.action == LIA_ANSWER_REJECT)
            lia_buf_printf(&r->out,
                           "<p><label for=\"reason\">Why (required)</label><br><textarea id=\"reason\" "
                           "name=\"reason\" maxlength=\"%d\" required></textarea></p>",
                           REASON_MAX);
        lia_buf_puts(&r->out, "<p><button type=\"submit\">");
        esc(&r->out, verbs[a.action]);
        lia_buf_puts(&r->out, "</button></p></form>\n");
        page_end(r);
    }
out:
    lia_buf_free(&hold);
}

int lia__answer_mount(lia_http *h, lia_error *err)
{
    static const lia__http_handler answer = {.name = "answer",
                                             .prefix = "/answer",
                                             .auth = LIA__HTTP_AUTH_NONE,
                                             .store = 1,
                                             .max_body = 3 * REASON_MAX + 64,
                                             .handle = handle,
                                             .error = server_error};
    return lia__http_register(h, &answer, err);
}

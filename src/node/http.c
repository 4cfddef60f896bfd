/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The exchange's HTTP side: POST /node/v1/inbox (one message) and POST
 * /node/v1/checkpoint (the peer's log head), for a partner's API key whose
 * organisation is linked to a peer of ours. Errors in the REST API's shape
 * {"error":{"code","status","message"}}, codes in docs/nodes.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/handler.h"
#include "liaison/accounts.h"
#include "node/http.h"
#include "node/internal.h"

#define PREFIX "/node/v1"

static void node_error(lia__req *r, int status, const char *code, const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void node_error(lia__req *r, int status, const char *code, const char *extra, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lia_buf_reset(&r->out);
    r->status = status;
    r->ctype = "application/json";
    lia_buf_printf(&r->out, "{\"error\":{\"code\":\"%s\",\"status\":%d,%s\"message\":", code, status,
                   extra ? extra : "");
    lia_buf_json_str(&r->out, msg, strlen(msg));
    lia_buf_puts(&r->out, "}}");
}

static void server_error(lia__req *r, int status, const char *title, const char *detail)
{
    (void)title;
    r->nresp = r->resp_used = 0;
    node_error(r, status,
               status == 401   ? "unauthenticated"
               : status == 429 ? "rate_limited"
                               : "bad_request",
               NULL, "%s", detail);
}

static void failure(lia__req *r, int rc, const lia_error *e)
{
    char m[512];
    snprintf(m, sizeof m, "%s%s%s", e->field, e->field[0] ? ": " : "", e->reason);
    switch (rc) {
    case LIA_EINVAL:
    case LIA_EPARSE:
    case LIA_ELIMIT:
    case LIA_EUNSUPPORTED: node_error(r, 400, "invalid_message", NULL, "%s", m); break;
    case LIA_EAUTH: node_error(r, 403, "forbidden", NULL, "%s", m); break;
    case LIA_ENOTFOUND: node_error(r, 404, "not_found", NULL, "%s", m); break;
    default: lia__req_store_error(r, e);
    }
}

static void inbox(lia__req *r, const char *peer)
{
    lia_node_result res;
    lia_error e;
    char extra[64];
    int rc;
    lia_error_clear(&e);
    rc = lia_node_receive(r->store, peer, r->peer, r->body, r->body_len, &res, &e);
    if (rc == LIA_ESTATE) {
        snprintf(extra, sizeof extra, "\"expected\":%lld,", (long long)res.expected);
        node_error(r, 409, "out_of_order", extra, "%s", e.reason);
        return;
    }
    if (rc) {
        failure(r, rc, &e);
        return;
    }
    lia_buf_printf(&r->out, "{\"applied\":%s,\"incident\":%lld,\"note\":", res.applied ? "true" : "false",
                   (long long)res.incident);
    lia_buf_json_str(&r->out, res.note, strlen(res.note));
    lia_buf_putc(&r->out, '}');
    r->status = 200;
    r->ctype = "application/json";
}

static void checkpoint(lia__req *r, const char *peer)
{
    uint64_t need = 0;
    lia_error e;
    char extra[64];
    int rc;
    lia_error_clear(&e);
    rc = lia_node_checkpoint_in(r->store, peer, r->peer, r->body, r->body_len, &need, &e);
    if (rc == LIA_ESTATE) {
        snprintf(extra, sizeof extra, "\"from\":%llu,", (unsigned long long)need);
        node_error(r, 409, "proof_from", extra, "%s", e.reason);
        return;
    }
    if (rc == LIA_EAUTH && strcmp(e.field, "checkpoint") == 0) {
        node_error(r, 409, "checkpoint_refused", NULL, "%s", e.reason);
        return;
    }
    if (rc) {
        failure(r, rc, &e);
        return;
    }
    lia_buf_puts(&r->out, "{\"taken\":true}");
    r->status = 200;
    r->ctype = "application/json";
}

static void handle(void *ud, lia__req *r)
{
    const char *rest = r->path + strlen(PREFIX);
    lia_org org;
    lia_error e;
    (void)ud;
    lia_error_clear(&e);
    if (strcmp(rest, "/inbox") != 0 && strcmp(rest, "/checkpoint") != 0) {
        node_error(r, 404, "not_found", NULL, "no such resource: %s (POST " PREFIX "/inbox or /checkpoint)",
                   r->path);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        node_error(r, 405, "method_not_allowed", NULL, "%s %s: allowed: POST", r->method, r->path);
        lia__req_add_header(r, "Allow", "POST");
        return;
    }
    if (r->who.org_kind != LIA_ORG_PARTNER) {
        node_error(r, 403, "forbidden", NULL, "the node exchange takes a partner CERT's key");
        return;
    }
    if (lia_accounts_org_get(r->store, r->who.org, &org, &e)) {
        lia__req_store_error(r, &e);
        return;
    }
    if (!org.party[0]) {
        node_error(r, 403, "forbidden", NULL, "organisation %s is linked to no partner of the directory",
                   r->who.org);
        return;
    }
    if (strcmp(rest, "/inbox") == 0)
        inbox(r, org.party);
    else
        checkpoint(r, org.party);
}

int lia__node_mount(lia_http *h, lia_error *err)
{
    static const lia__http_handler node = {.name = "node",
                                           .prefix = PREFIX,
                                           .auth = LIA__HTTP_AUTH_REQUIRED,
                                           .store = 1,
                                           .max_body = LIA_NODE_MSG_MAX,
                                           .handle = handle,
                                           .error = server_error};
    return lia__http_register(h, &node, err);
}

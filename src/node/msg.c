/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The node-exchange message reader (pure): one JSON object per message,
 * layout in docs/nodes.md. Every member is checked for its type and limit;
 * an unknown member is refused, so that a message from a newer node is not
 * half applied. Fuzzed by fuzz/fuzz_node.c. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonget.h"
#include "liaison/field.h"
#include "liaison/incident.h"
#include "liaison/node.h"

static const char *const type_names[LIA_NODE__COUNT] = {"offer", "comment", "withdraw",
                                                        "ack",   "resolve", "reject"};

const char *lia_node_type_name(lia_node_type t)
{
    return (unsigned)t < LIA_NODE__COUNT ? type_names[t] : NULL;
}

void lia_node_msg_free(lia_node_msg *m)
{
    if (!m)
        return;
    json_decref(m->json_);
    free(m->lines_);
    memset(m, 0, sizeof *m);
}

static int bad(lia_error *err, int code, const char *member, const char *why)
{
    return lia_error_set(err, code, member, NULL, 0, "%s", why);
}

/* A string member of at most max bytes; NULL when absent and optional. */
static int text(json_t *o, const char *key, size_t max, int required, const char **out, lia_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? bad(err, LIA_EINVAL, key, "is required") : LIA_OK;
    if (!json_is_string(v))
        return bad(err, LIA_EINVAL, key, "must be a string");
    if (json_string_length(v) > max)
        return lia_error_set(err, LIA_ELIMIT, key, NULL, 0, "longer than %zu bytes", max);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(err, LIA_EINVAL, key, "contains a NUL character");
    *out = json_string_value(v);
    return LIA_OK;
}

/* A whole number member in [min, INT64_MAX]. */
static int number(json_t *o, const char *key, int64_t min, int required, int64_t *out, lia_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? bad(err, LIA_EINVAL, key, "is required") : LIA_OK;
    if (!json_is_integer(v))
        return bad(err, LIA_EINVAL, key, "must be a whole number");
    if (json_integer_value(v) < min)
        return lia_error_set(err, LIA_EINVAL, key, NULL, 0, "must be at least %lld", (long long)min);
    *out = json_integer_value(v);
    return LIA_OK;
}

static int only(json_t *o, const char *const *allowed, const char *where, lia_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed[i])
            return lia_error_set(err, LIA_EINVAL, where, k, strlen(k), "unknown member");
    }
    return LIA_OK;
}

/* The offer's events: an array of flat JSON objects, joined as JSON lines. */
static int events(json_t *a, lia_node_msg *m, lia_error *err)
{
    size_t i, len = 0, cap = 0;
    json_t *ev;
    if (!json_is_array(a))
        return bad(err, LIA_EINVAL, "offer.events", "must be an array of events");
    if (json_array_size(a) > LIA_NODE_OFFER_MAX)
        return lia_error_set(err, LIA_ELIMIT, "offer.events", NULL, 0, "more than %u events",
                             (unsigned)LIA_NODE_OFFER_MAX);
    json_array_foreach(a, i, ev)
    {
        char *t;
        size_t n;
        if (!json_is_object(ev))
            return lia_error_set(err, LIA_EINVAL, "offer.events", NULL, 0, "event %zu is not an object",
                                 i + 1);
        if (!(t = json_dumps(ev, JSON_COMPACT)))
            return bad(err, LIA_ENOMEM, "offer.events", "out of memory");
        n = strlen(t);
        if (len + n + 2 > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            char *nw;
            while (nc < len + n + 2)
                nc *= 2;
            if (!(nw = realloc(m->lines_, nc))) {
                free(t);
                return bad(err, LIA_ENOMEM, "offer.events", "out of memory");
            }
            m->lines_ = nw;
            cap = nc;
        }
        memcpy(m->lines_ + len, t, n);
        len += n;
        m->lines_[len++] = '\n';
        m->lines_[len] = '\0';
        free(t);
    }
    m->events = m->lines_;
    m->events_len = len;
    m->nevents = json_array_size(a);
    return LIA_OK;
}

static int offer(json_t *o, lia_node_msg *m, lia_error *err)
{
    static const char *const allowed[] = {"title",     "description", "classification", "severity", "tlp",
                                          "countries", "sectors",     "events",         "withheld", NULL};
    const size_t max = LIA_INCIDENT_TEXT_MAX;
    lia_severity sev;
    int rc, tlp;
    const char *why;
    if (!json_is_object(o))
        return bad(err, LIA_EINVAL, "offer", "is required for an offer, as an object");
    if ((rc = only(o, allowed, "offer", err)) || (rc = text(o, "title", max, 1, &m->title, err)) ||
        (rc = text(o, "description", max, 0, &m->description, err)) ||
        (rc = text(o, "classification", 64, 0, &m->classification, err)) ||
        (rc = text(o, "severity", 16, 1, &m->severity, err)) || (rc = text(o, "tlp", 16, 1, &m->tlp, err)) ||
        (rc = text(o, "countries", 1024, 0, &m->countries, err)) ||
        (rc = text(o, "sectors", 1024, 0, &m->sectors, err)) ||
        (rc = number(o, "withheld", 0, 0, &m->withheld, err)))
        return rc;
    if (!*m->title)
        return bad(err, LIA_EINVAL, "offer.title", "is empty");
    if ((rc = lia_severity_parse(m->severity, &sev, err)))
        return rc;
    if (lia_parse_tlp(m->tlp, strlen(m->tlp), &tlp, &why))
        return lia_error_set(err, LIA_EINVAL, "offer.tlp", m->tlp, strlen(m->tlp), "%s", why);
    return json_object_get(o, "events") ? events(json_object_get(o, "events"), m, err) : LIA_OK;
}

int lia_node_msg_parse(const char *json, size_t len, lia_node_msg *out, lia_error *err)
{
    static const char *const allowed[] = {"liaison_node", "type", "seq",  "incident", "yours", "mine",
                                          "at",           "by",   "text", "offer",    NULL};
    json_error_t je;
    json_t *o;
    const char *type, *at, *why;
    int64_t v = 0;
    size_t t;
    int rc;
    memset(out, 0, sizeof *out);
    if (len > LIA_NODE_MSG_MAX)
        return lia_error_set(err, LIA_ELIMIT, "message", NULL, 0, "longer than %u bytes",
                             (unsigned)LIA_NODE_MSG_MAX);
    if (!(o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)))
        return lia__json_oom(&je)
                   ? bad(err, LIA_ENOMEM, "message", "out of memory")
                   : lia_error_set(err, LIA_EPARSE, "message", NULL, 0, "not JSON: line %d, column %d: %s",
                                   je.line, je.column, je.text);
    out->json_ = o;
    if (!json_is_object(o))
        return bad(err, LIA_EPARSE, "message", "not a JSON object");
    if ((rc = only(o, allowed, "message", err)) || (rc = number(o, "liaison_node", 1, 1, &v, err)))
        return rc;
    if (v != 1)
        return lia_error_set(err, LIA_EUNSUPPORTED, "liaison_node", NULL, 0,
                             "version %lld; this node reads version 1", (long long)v);
    if ((rc = text(o, "type", 16, 1, &type, err)))
        return rc;
    for (t = 0; t < LIA_NODE__COUNT && strcmp(type_names[t], type) != 0; t++)
        ;
    if (t == LIA_NODE__COUNT)
        return lia_error_set(err, LIA_EINVAL, "type", type, strlen(type),
                             "one of offer, comment, withdraw, ack, resolve, reject");
    out->type = (lia_node_type)t;
    if ((rc = number(o, "seq", 1, 1, &out->seq, err)) || (rc = text(o, "at", 64, 1, &at, err)) ||
        (rc = text(o, "by", 128, 0, &out->by, err)) ||
        (rc = text(o, "text", LIA_INCIDENT_TEXT_MAX, 0, &out->text, err)))
        return rc;
    if (lia_parse_time(at, strlen(at), &out->at_us, &why))
        return lia_error_set(err, LIA_EINVAL, "at", at, strlen(at), "%s", why);
    /* whose incident: exactly one of incident (the sender's) and yours */
    if (!json_object_get(o, "incident") == !json_object_get(o, "yours"))
        return bad(err, LIA_EINVAL, "incident",
                   "exactly one of incident (the sender's) and yours is required");
    out->yours = json_object_get(o, "yours") != NULL;
    if ((rc = number(o, out->yours ? "yours" : "incident", 1, 1, &out->incident, err)) ||
        (rc = number(o, "mine", 1, 0, &out->sender_incident, err)))
        return rc;
    if (!out->yours && json_object_get(o, "mine"))
        return bad(err, LIA_EINVAL, "mine", "goes with yours only");
    /* the sender's incident travels with offer, comment, withdraw; answers
     * are about ours */
    if ((out->type <= LIA_NODE_WITHDRAW) == out->yours && out->type != LIA_NODE_COMMENT)
        return lia_error_set(err, LIA_EINVAL, out->yours ? "yours" : "incident", NULL, 0,
                             "type %s is about %s incident", type_names[out->type],
                             out->type <= LIA_NODE_WITHDRAW ? "the sender's" : "the receiver's");
    if ((out->type == LIA_NODE_COMMENT || out->type == LIA_NODE_REJECT) && (!out->text || !*out->text))
        return bad(err, LIA_EINVAL, "text",
                   out->type == LIA_NODE_REJECT ? "a reject needs a reason" : "a comment needs its text");
    if ((out->type == LIA_NODE_OFFER) != (json_object_get(o, "offer") != NULL))
        return bad(err, LIA_EINVAL, "offer",
                   out->type == LIA_NODE_OFFER ? "is required for an offer" : "goes with an offer only");
    return out->type == LIA_NODE_OFFER ? offer(json_object_get(o, "offer"), out, err) : LIA_OK;
}

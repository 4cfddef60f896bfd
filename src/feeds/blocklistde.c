/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Format "blocklistde": blocklist.de's lists (one IP address per line).
 * Which list it is (all, ssh, mail, apache, imap, ftp, sip, bots,
 * strongips, ircbot, bruteforcelogin) decides the classification and the
 * service: taken from the format option (--subtype) or else from the
 * report's file name (imap.txt). An unknown list is a plain block list. */
#include <stdlib.h>

#include "feeds/feedutil.h"

typedef struct bl_list {
    const char *name;
    const char *type;
    const char *app;  /* protocol.application or NULL */
    const char *text; /* event_description.text or NULL */
} bl_list;

static const bl_list lists[] = {
    {"all", "blacklist", NULL, NULL},
    {"ssh", "ids-alert", "ssh", "IP reported as having run attacks on the service SSH"},
    {"mail", "ids-alert", "smtp", "IP reported as having run attacks on the service Mail, Postfix"},
    {"apache", "ids-alert", "http",
     "IP reported as having run attacks on the service Apache, Apache-DDoS, RFI-Attacks"},
    {"imap", "ids-alert", "imap", "IP reported as having run attacks on the service IMAP, SASL, POP3"},
    {"ftp", "ids-alert", "ftp", "IP reported as having run attacks on the service FTP"},
    {"sip", "ids-alert", "sip", "IP reported as having run attacks on the service SIP, VOIP, Asterisk"},
    {"bots", "spam", NULL, "IP reported as having spammed on IRC, open forums, wikis or registration forms."},
    {"strongips", "blacklist", NULL, "IP reported as having run attacks in last 2 months"},
    {"ircbot", "infected-system", "irc", NULL},
    {"bruteforcelogin", "brute-force", NULL,
     "IP reported as having run attacks on Joomlas, Wordpress and other Web-Logins with Brute-Force Logins"},
};

typedef struct bl {
    lia_ctxlines cl;
    const bl_list *list;
} bl;

static const bl_list *find_list(const char *s)
{
    const char *base;
    size_t n;
    if (!s)
        return NULL;
    base = strrchr(s, '/');
    base = base ? base + 1 : s;
    n = strcspn(base, ".?");
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strlen(lists[i].name) == n && strncmp(lists[i].name, base, n) == 0)
            return &lists[i];
    return NULL;
}

static int bl_open(void **st, const lia_feed_opts *o, lia_error *err)
{
    bl *b;
    const bl_list *l = NULL;
    if (o->subtype && *o->subtype && !(l = find_list(o->subtype)))
        return lia_error_set(err, LIA_EINVAL, "subtype", o->subtype, strlen(o->subtype),
                             "not a blocklist.de list (all ssh mail apache imap ftp sip bots "
                             "strongips ircbot bruteforcelogin)");
    if (!l)
        l = find_list(o->report_name);
    b = calloc(1, sizeof *b);
    if (!b)
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    lia_ctxlines_init(&b->cl);
    b->list = l ? l : &lists[0];
    *st = b;
    return LIA_OK;
}

static int bl_line(void *ud, lia_slice line, lia_slice *ctx)
{
    lia_slice t = lia_feed_trim(line);
    return t.len == 0 || t.ptr[0] == '#' ? LIA_LINE_SKIP : LIA_LINE_EMIT;
}

static int bl_parse(void *st, const char *buf, size_t len, int eof, lia_records *out, lia_error *err)
{
    bl *b = st;
    return lia_ctxlines_split(&b->cl, buf, len, eof, out, bl_line, NULL, err);
}

static int bl_normalise(void *st, const lia_records *rs, const lia_record *r, lia_event *ev, lia_error *err)
{
    bl *b = st;
    lia_slice ip = lia_feed_trim(rs->fields[r->first]);
    int rc;
    if ((rc = lia_event_set(ev, LIA_F_SOURCE_IP, ip.ptr, ip.len, err)) ||
        (rc = lia_event_set(ev, LIA_F_CLASSIFICATION_TYPE, b->list->type, strlen(b->list->type), err)))
        return rc;
    if (b->list->app &&
        (rc = lia_event_set(ev, LIA_F_PROTOCOL_APPLICATION, b->list->app, strlen(b->list->app), err)))
        return rc;
    if (b->list->text)
        return lia_event_set(ev, LIA_F_EVENT_DESCRIPTION_TEXT, b->list->text, strlen(b->list->text), err);
    return LIA_OK;
}

static void bl_close(void *st)
{
    bl *b = st;
    if (!b)
        return;
    lia_ctxlines_free(&b->cl);
    free(b);
}

const lia_format lia_format_blocklistde = {
    .name = "blocklistde",
    .summary = "blocklist.de lists (one IP per line; list from --subtype or file name)",
    .open = bl_open,
    .parse = bl_parse,
    .normalise = bl_normalise,
    .close = bl_close,
};

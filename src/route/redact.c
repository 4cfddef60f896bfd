/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Per-recipient redaction: the fields of the configuration's redact,
 * redact_owner and redact_partner lists are removed from an event copy. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/limits.h"
#include "liaison/route.h"
#include "route/internal.h"

/* ---- redaction ---- */

static int redacted(const char *key, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (l && v[i][l - 1] == '*' ? strncmp(key, v[i], l - 1) == 0 : strcmp(key, v[i]) == 0)
            return 1;
    }
    return 0;
}

int lia_route_redact(const lia_route *rt, int idx, const lia_event *ev, lia_event *out, lia_error *err)
{
    static char *const dflt[] = {(char *)"raw"};
    lia_buf js;
    json_t *o = NULL;
    json_error_t je;
    char *txt = NULL;
    const char *key;
    void *tmp;
    json_t *v;
    int rc, kind = rt->p[idx].kind;
    char *const *all = rt->cf.redact_set ? rt->cf.redact[0] : dflt;
    size_t nall = rt->cf.redact_set ? rt->cf.nredact[0] : 1;
    int k2 = kind == LIA_PARTY_OWNER ? 1 : 2;
    lia_buf_init(&js, LIA_MAX_EVENT_TEXT * 2);
    if ((rc = lia_event_to_json(ev, &js))) {
        rc = lia_error_set(err, rc, NULL, NULL, 0, "event too large");
        goto out;
    }
    if (!(o = json_loads(lia_buf_cstr(&js), 0, &je))) {
        rc = lia_error_set(err, LIA_EINVAL, NULL, NULL, 0, "event JSON: %s", je.text);
        goto out;
    }
    json_object_foreach_safe(o, tmp, key, v)
    {
        if (redacted(key, (char **)all, nall) || redacted(key, rt->cf.redact[k2], rt->cf.nredact[k2]))
            json_object_del(o, key);
    }
    if (json_object_size(o) == 0) {
        /* nothing left: keep an explicit, harmless marker */
        json_object_set_new(o, "comment", json_string("all fields redacted for this recipient"));
    }
    if (!(txt = json_dumps(o, JSON_COMPACT))) {
        rc = lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
        goto out;
    }
    rc = lia_event_from_json(out, txt, strlen(txt), err);
    if (rc == LIA_OK) {
        out->id = ev->id;
        out->report_id = ev->report_id;
        out->line = ev->line;
    }
out:
    free(txt);
    json_decref(o);
    lia_buf_free(&js);
    return rc;
}

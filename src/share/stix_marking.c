/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The TLP of a STIX object from its markings (see stix_marking.h). */
#include "share/stix_marking.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "liaison/event.h"
#include "share/share.h"

/* Marking ids are "marking-definition--" and a UUID: far below this. */
#define MARKING_ID_MAX 128

static int strictest(int a, int b)
{
    return a > b ? a : b;
}

/* Lower-case copy of a marking id; 0 if it does not fit. */
static int lower_id(const char *id, size_t n, char out[MARKING_ID_MAX])
{
    if (n == 0 || n >= MARKING_ID_MAX || memchr(id, '\0', n))
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[n] = '\0';
    return 1;
}

/* A TLP label as the marking kinds write it ("red", "TLP:RED", "white");
 * LIA_TLP_RED if v is no string or no label. */
static int label_tlp(json_t *v)
{
    int t;
    if (!json_is_string(v) || lia_parse_tlp(json_string_value(v), json_string_length(v), &t, NULL) != 0)
        return LIA_TLP_RED;
    return t;
}

/* Member of o whose key is name, compared without regard to case. */
static json_t *member_ci(json_t *o, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return v;
    }
    return NULL;
}

int lia__stix_marking_def_tlp(json_t *m)
{
    int tlp = -1, kind_known = 0;
    json_t *ext, *e, *dt, *name;
    const char *k;
    if (!json_is_object(m))
        return LIA_TLP_RED;
    /* TLP 2.0: a property extension with "tlp_2_0" */
    ext = json_object_get(m, "extensions");
    if (ext && !json_is_object(ext))
        return LIA_TLP_RED;
    json_object_foreach(ext, k, e)
    {
        json_t *v = json_is_object(e) ? json_object_get(e, "tlp_2_0") : NULL;
        if (v) {
            tlp = strictest(tlp, label_tlp(v));
            kind_known = 1;
        }
    }
    /* STIX 2.1 section 7.2.1.3: definition_type "tlp" or "statement" */
    dt = json_object_get(m, "definition_type");
    if (dt) {
        const char *d = json_is_string(dt) ? json_string_value(dt) : "";
        json_t *def = json_object_get(m, "definition");
        if (strcasecmp(d, "tlp") == 0) {
            tlp = strictest(tlp, label_tlp(json_is_object(def) ? member_ci(def, "tlp") : NULL));
            kind_known = 1;
        } else if (strcasecmp(d, "statement") == 0 || strcasecmp(d, "pap") == 0) {
            kind_known = 1; /* recognised, and no TLP */
        } else {
            return LIA_TLP_RED;
        }
    }
    /* a name that says TLP is taken at its word, however it is defined */
    name = json_object_get(m, "name");
    if (json_is_string(name) && json_string_length(name) >= 4 &&
        strncasecmp(json_string_value(name), "tlp:", 4) == 0)
        tlp = strictest(tlp, label_tlp(name));
    if (tlp >= 0)
        return tlp;
    return kind_known ? LIA__MARKING_NOT_TLP : LIA_TLP_RED;
}

int lia__stix_marking_def_add(json_t *defs, json_t *m)
{
    char key[MARKING_ID_MAX];
    json_t *type = json_object_get(m, "type"), *id = json_object_get(m, "id"), *had;
    int t;
    if (!json_is_string(type) || strcmp(json_string_value(type), "marking-definition") != 0 ||
        !json_is_string(id))
        return 0;
    if (!lower_id(json_string_value(id), json_string_length(id), key))
        return 0; /* never found again: references to it count as RED */
    t = lia__stix_marking_def_tlp(m);
    had = json_object_get(defs, key);
    if (json_is_integer(had))
        t = strictest(t, (int)json_integer_value(had));
    return json_object_set_new(defs, key, json_integer(t)) == 0 ? 0 : -1;
}

/* The meaning of one marking reference: a level, LIA__MARKING_NOT_TLP, or
 * LIA_TLP_RED (with *why) when unknown. */
static int ref_tlp(json_t *ref, json_t *defs, const char **why)
{
    char key[MARKING_ID_MAX];
    json_t *d;
    int t = -1, found = 0;
    if (!json_is_string(ref)) {
        *why = "a marking reference is not a string";
        return LIA_TLP_RED;
    }
    if (!lower_id(json_string_value(ref), json_string_length(ref), key)) {
        *why = "a marking reference is not a marking id";
        return LIA_TLP_RED;
    }
    if ((t = lia__tlp_from_marking_id(key, strlen(key))) >= 0)
        found = 1;
    if (defs && json_is_integer(d = json_object_get(defs, key))) {
        t = strictest(t, (int)json_integer_value(d));
        found = 1;
    }
    if (!found) {
        *why = "a marking is neither a standard TLP marking nor defined alongside the object";
        return LIA_TLP_RED;
    }
    return t;
}

int lia__stix_object_tlp(json_t *o, json_t *defs, const char **why)
{
    json_t *refs = json_object_get(o, "object_marking_refs");
    json_t *gran = json_object_get(o, "granular_markings"), *e;
    const char *w = NULL;
    size_t i;
    int tlp = -1;
    if (refs) {
        if (!json_is_array(refs)) {
            w = "object_marking_refs is not an array";
            tlp = LIA_TLP_RED;
        }
        json_array_foreach(refs, i, e)
        {
            tlp = strictest(tlp, ref_tlp(e, defs, &w));
        }
    }
    if (gran) {
        if (!json_is_array(gran)) {
            w = "granular_markings is not an array";
            tlp = LIA_TLP_RED;
        }
        json_array_foreach(gran, i, e)
        {
            json_t *mr = json_is_object(e) ? json_object_get(e, "marking_ref") : NULL;
            if (mr)
                tlp = strictest(tlp, ref_tlp(mr, defs, &w));
            else if (!json_is_object(e) || !json_is_string(json_object_get(e, "lang"))) {
                w = "a granular marking has neither marking_ref nor lang";
                tlp = LIA_TLP_RED;
            }
        }
    }
    if (why)
        *why = w;
    return tlp; /* -1 also when only non-TLP markings (statements): as if unmarked */
}

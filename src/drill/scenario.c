/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Drill scenarios (liaison/drill.h): a YAML file read with libyaml into
 * lia_drill_scenario. Every error names the line and column of the node
 * it is about. Pure: no I/O, no globals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "liaison/drill.h"
#include "liaison/field.h"

typedef struct ctx {
    yaml_document_t *doc;
    lia_error *err;
} ctx;

const char *lia_drill_answer_name(lia_drill_answer a)
{
    static const char *const n[] = {"acknowledge", "resolve", "value"};
    return (unsigned)a < 3 ? n[a] : NULL;
}

static int at(ctx *c, const yaml_node_t *n, int code, const char *key, const char *fmt, const char *arg)
{
    char why[256];
    snprintf(why, sizeof why, fmt, arg ? arg : "");
    unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 0;
    unsigned long col = n ? (unsigned long)n->start_mark.column + 1 : 0;
    lia_error_set(c->err, code, key, NULL, 0, "column %lu: %s", col, why);
    if (c->err)
        c->err->line = line;
    return code;
}

/* A node of the document; never NULL (libyaml's loader only makes
 * references to nodes it made; an empty scalar stands in otherwise). */
static yaml_node_t *node(ctx *c, int i)
{
    static yaml_node_t empty = {.type = YAML_SCALAR_NODE,
                                .data.scalar = {.value = (yaml_char_t *)"", .length = 0}};
    yaml_node_t *n = yaml_document_get_node(c->doc, i);
    return n ? n : &empty;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A key given twice in one mapping is refused (YAML says keys are unique;
 * taking the last would hide a mistake). */
static int dup_key(ctx *c, const yaml_node_t *map, const yaml_node_pair_t *p)
{
    const char *k = scalar(node(c, p->key));
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; k && q < p; q++) {
        const char *o = scalar(node(c, q->key));
        if (o && strcmp(o, k) == 0)
            return at(c, node(c, p->key), LIA_EINVAL, k, "this key is given twice here%s", NULL);
    }
    return LIA_OK;
}

static int text(ctx *c, const yaml_node_t *n, const char *key, char **out)
{
    const char *v = scalar(n);
    if (!v)
        return at(c, n, LIA_EINVAL, key, "a text value is expected here%s", NULL);
    if (n->data.scalar.length > LIA_DRILL_MAX_TEXT)
        return at(c, n, LIA_ELIMIT, key, "longer than 4096 bytes%s", NULL);
    if (!*v)
        return at(c, n, LIA_EINVAL, key, "is empty%s", NULL);
    free(*out);
    if (!(*out = strdup(v)))
        return lia_error_set(c->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    return LIA_OK;
}

static int duration(ctx *c, const yaml_node_t *n, const char *key, int64_t max, int64_t *out)
{
    const char *v = scalar(n), *why = NULL;
    if (!v)
        return at(c, n, LIA_EINVAL, key, "a duration is expected (90s, 15m, 2h, 1d)%s", NULL);
    {
        const char *z = v;
        while (*z == '0')
            z++;
        if (z > v && (!*z || (strchr("smhd", *z) && !z[1]))) { /* 0, 0s, 0m: at the start */
            *out = 0;
            return LIA_OK;
        }
    }
    if (lia_parse_duration(v, strlen(v), out, &why))
        return at(c, n, LIA_EINVAL, key, "not a duration (90s, 15m, 2h, 1d): %s", why);
    if (*out < 0 || *out > max)
        return at(c, n, LIA_EINVAL, key, "out of range (0 to 366d)%s", NULL);
    return LIA_OK;
}

static int integer(ctx *c, const yaml_node_t *n, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = scalar(n);
    int64_t x = 0;
    if (!v || !*v)
        return at(c, n, LIA_EINVAL, key, "a whole number is expected%s", NULL);
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || x > hi)
            return at(c, n, LIA_EINVAL, key, "\"%s\": not a whole number in range", v);
        x = x * 10 + (*p - '0');
    }
    if (x < lo || x > hi)
        return at(c, n, LIA_EINVAL, key, "\"%s\": out of range", v);
    *out = x;
    return LIA_OK;
}

static int boolean(ctx *c, const yaml_node_t *n, const char *key, int *out)
{
    const char *v = scalar(n);
    if (v && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0))
        *out = 1;
    else if (v && (strcmp(v, "false") == 0 || strcmp(v, "no") == 0))
        *out = 0;
    else
        return at(c, n, LIA_EINVAL, key, "true or false%s", NULL);
    return LIA_OK;
}

/* A scalar as a JSON string appended to b (escaped). */
static void json_str(lia_buf *b, const char *s)
{
    lia_buf_json_str(b, s, strlen(s));
}

static int event(ctx *c, const yaml_node_t *n, lia_drill_inject *in)
{
    lia_buf b;
    int rc = LIA_OK;
    if (n->type != YAML_MAPPING_NODE)
        return at(c, n, LIA_EINVAL, "event", "a mapping of event fields (source.ip: 192.0.2.1) is expected%s",
                  NULL);
    lia_buf_init(&b, 64 * 1024);
    lia_buf_putc(&b, '{');
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        if ((rc = dup_key(c, n, p)))
            goto out;
        const char *ks = scalar(k), *vs = scalar(v);
        if (!ks || !*ks) {
            rc = at(c, k, LIA_EINVAL, "event", "a field name is expected%s", NULL);
            goto out;
        }
        if (!vs) {
            rc = at(c, v, LIA_EINVAL, ks, "an event field's value is one text or number%s", NULL);
            goto out;
        }
        if (b.len > 1)
            lia_buf_putc(&b, ',');
        json_str(&b, ks);
        lia_buf_putc(&b, ':');
        json_str(&b, vs);
    }
    lia_buf_putc(&b, '}');
    if (b.err) {
        rc = at(c, n, LIA_ELIMIT, "event", "larger than 64 KiB%s", NULL);
        goto out;
    }
    if (!(in->event = strdup(lia_buf_cstr(&b))))
        rc = lia_error_set(c->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
out:
    lia_buf_free(&b);
    return rc;
}

static int expectation(ctx *c, const yaml_node_t *n, lia_drill_inject *in)
{
    lia_drill_expect *e;
    int have_answer = 0, have_expiry = 0;
    int rc;
    if (n->type != YAML_MAPPING_NODE)
        return at(c, n, LIA_EINVAL, "expect", "each expectation is a mapping (answer, score, expiry)%s",
                  NULL);
    if (in->nexpect == LIA_DRILL_MAX_EXPECT)
        return at(c, n, LIA_ELIMIT, "expect", "more than 8 expectations for one inject%s", NULL);
    e = &in->expect[in->nexpect++];
    memset(e, 0, sizeof *e);
    e->score = 1;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        if ((rc = dup_key(c, n, p)))
            return rc;
        const char *ks = scalar(k);
        if (!ks)
            return at(c, k, LIA_EINVAL, "expect", "a key is expected%s", NULL);
        if (strcmp(ks, "answer") == 0) {
            const char *vs = scalar(v);
            if (vs && (strcmp(vs, "acknowledge") == 0 || strcmp(vs, "ack") == 0))
                e->answer = LIA_DRILL_ACK;
            else if (vs && strcmp(vs, "resolve") == 0)
                e->answer = LIA_DRILL_RESOLVE;
            else if (vs && strcmp(vs, "value") == 0)
                e->answer = LIA_DRILL_VALUE;
            else
                return at(c, v, LIA_EINVAL, "answer", "one of acknowledge, resolve, value%s", NULL);
            for (size_t i = 0; i + 1 < in->nexpect; i++)
                if (in->expect[i].answer == e->answer)
                    return at(c, v, LIA_EINVAL, "answer", "\"%s\" is expected twice for this inject", vs);
            have_answer = 1;
        } else if (strcmp(ks, "value") == 0) {
            if ((rc = text(c, v, "value", &e->value)))
                return rc;
        } else if (strcmp(ks, "score") == 0) {
            if ((rc = integer(c, v, "score", 0, 1000000, &e->score)))
                return rc;
        } else if (strcmp(ks, "expiry") == 0) {
            if ((rc = duration(c, v, "expiry", LIA_DRILL_MAX_OFFSET, &e->expiry_s)))
                return rc;
            if (e->expiry_s == 0)
                return at(c, v, LIA_EINVAL, "expiry", "must be longer than 0%s", NULL);
            have_expiry = 1;
        } else {
            return at(c, k, LIA_EINVAL, ks, "unknown expectation key (answer, value, score, expiry)%s", NULL);
        }
    }
    if (!have_answer)
        return at(c, n, LIA_EINVAL, "answer", "required (acknowledge, resolve, value)%s", NULL);
    if (!have_expiry)
        return at(c, n, LIA_EINVAL, "expiry", "required (how long after the inject an answer scores)%s",
                  NULL);
    if ((e->answer == LIA_DRILL_VALUE) != (e->value != NULL))
        return at(c, n, LIA_EINVAL, "value",
                  e->value ? "only an expectation with answer: value has a value%s"
                           : "answer: value needs the value to report back%s",
                  NULL);
    return LIA_OK;
}

static int inject(ctx *c, const yaml_node_t *n, lia_drill_scenario *sc)
{
    lia_drill_inject *in = &sc->injects[sc->ninjects++];
    int have_at = 0, rc;
    memset(in, 0, sizeof *in);
    in->severity = LIA_SEV_MEDIUM;
    if (n->type != YAML_MAPPING_NODE)
        return at(c, n, LIA_EINVAL, "injects", "each inject is a mapping (name, at, title, expect, ...)%s",
                  NULL);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        if ((rc = dup_key(c, n, p)))
            return rc;
        const char *ks = scalar(k);
        if (!ks)
            return at(c, k, LIA_EINVAL, "injects", "a key is expected%s", NULL);
        if (strcmp(ks, "name") == 0)
            rc = text(c, v, "name", &in->name);
        else if (strcmp(ks, "at") == 0)
            rc = duration(c, v, "at", LIA_DRILL_MAX_OFFSET, &in->at_s), have_at = 1;
        else if (strcmp(ks, "title") == 0)
            rc = text(c, v, "title", &in->title);
        else if (strcmp(ks, "description") == 0)
            rc = text(c, v, "description", &in->description);
        else if (strcmp(ks, "tlp") == 0) {
            const char *vs = scalar(v);
            static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"};
            rc = at(c, v, LIA_EINVAL, "tlp", "one of CLEAR, GREEN, AMBER, AMBER+STRICT%s", NULL);
            for (size_t i = 0; vs && i < 4; i++)
                if (strcasecmp(vs, tlps[i]) == 0) {
                    lia_error_clear(c->err);
                    free(in->tlp);
                    rc = (in->tlp = strdup(tlps[i]))
                             ? LIA_OK
                             : lia_error_set(c->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
                }
        } else if (strcmp(ks, "severity") == 0) {
            const char *vs = scalar(v);
            lia_severity sv;
            if (!vs || lia_severity_parse(vs, &sv, NULL))
                rc = at(c, v, LIA_EINVAL, "severity", "one of low, medium, high, critical%s", NULL);
            else
                in->severity = sv, rc = LIA_OK;
        } else if (strcmp(ks, "event") == 0) {
            rc = event(c, v, in);
        } else if (strcmp(ks, "expect") == 0) {
            if (v->type != YAML_SEQUENCE_NODE)
                return at(c, v, LIA_EINVAL, "expect", "a list of expectations is expected%s", NULL);
            rc = LIA_OK;
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 rc == LIA_OK && it < v->data.sequence.items.top; it++)
                rc = expectation(c, node(c, *it), in);
        } else {
            return at(c, k, LIA_EINVAL, ks,
                      "unknown inject key (name, at, title, description, severity, tlp, event, expect)%s",
                      NULL);
        }
        if (rc)
            return rc;
    }
    if (!in->name)
        return at(c, n, LIA_EINVAL, "name", "every inject has a name%s", NULL);
    for (size_t i = 0; i + 1 < sc->ninjects; i++)
        if (strcmp(sc->injects[i].name, in->name) == 0)
            return at(c, n, LIA_EINVAL, "name", "inject \"%s\" is named twice", in->name);
    if (!have_at)
        return at(c, n, LIA_EINVAL, "at", "required: the offset from the drill's start (0m, 30m, 1d)%s",
                  NULL);
    if (!in->title)
        return at(c, n, LIA_EINVAL, "title", "required%s", NULL);
    if (!in->nexpect)
        return at(c, n, LIA_EINVAL, "expect", "an inject expects at least one answer%s", NULL);
    if (!in->tlp && !(in->tlp = strdup("AMBER")))
        return lia_error_set(c->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    return LIA_OK;
}

static int top(ctx *c, const yaml_node_t *root, lia_drill_scenario *sc)
{
    const yaml_node_t *parts = NULL, *injs = NULL;
    int rc;
    if (!root || root->type != YAML_MAPPING_NODE)
        return root ? at(c, root, LIA_EINVAL, NULL, "a scenario is a mapping (name, participants, injects)%s",
                         NULL)
                    : lia_error_set(c->err, LIA_EINVAL, NULL, NULL, 0, "the file is empty");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        if ((rc = dup_key(c, root, p)))
            return rc;
        const char *ks = scalar(k);
        if (!ks)
            return at(c, k, LIA_EINVAL, NULL, "a key is expected%s", NULL);
        if (strcmp(ks, "name") == 0)
            rc = text(c, v, "name", &sc->name);
        else if (strcmp(ks, "rank") == 0)
            rc = boolean(c, v, "rank", &sc->rank);
        else if (strcmp(ks, "participants") == 0)
            parts = v, rc = LIA_OK;
        else if (strcmp(ks, "injects") == 0)
            injs = v, rc = LIA_OK;
        else
            return at(c, k, LIA_EINVAL, ks, "unknown key (name, rank, participants, injects)%s", NULL);
        if (rc)
            return rc;
    }
    if (!sc->name)
        return at(c, root, LIA_EINVAL, "name", "the scenario has no name%s", NULL);
    if (!parts || parts->type != YAML_SEQUENCE_NODE ||
        parts->data.sequence.items.top == parts->data.sequence.items.start)
        return at(c, parts ? parts : root, LIA_EINVAL, "participants",
                  "a list of at least one partner or owner id is expected%s", NULL);
    for (yaml_node_item_t *it = parts->data.sequence.items.start; it < parts->data.sequence.items.top; it++) {
        yaml_node_t *v = node(c, *it);
        if (sc->nparticipants == LIA_DRILL_MAX_PARTICIPANTS)
            return at(c, v, LIA_ELIMIT, "participants", "more than 64 participants%s", NULL);
        if ((rc = text(c, v, "participants", &sc->participants[sc->nparticipants])))
            return rc;
        sc->nparticipants++;
        for (size_t i = 0; i + 1 < sc->nparticipants; i++)
            if (strcmp(sc->participants[i], sc->participants[sc->nparticipants - 1]) == 0)
                return at(c, v, LIA_EINVAL, "participants", "\"%s\" is listed twice",
                          sc->participants[sc->nparticipants - 1]);
    }
    if (!injs || injs->type != YAML_SEQUENCE_NODE ||
        injs->data.sequence.items.top == injs->data.sequence.items.start)
        return at(c, injs ? injs : root, LIA_EINVAL, "injects", "a list of at least one inject is expected%s",
                  NULL);
    {
        size_t n = (size_t)(injs->data.sequence.items.top - injs->data.sequence.items.start);
        if (n > LIA_DRILL_MAX_INJECTS)
            return at(c, injs, LIA_ELIMIT, "injects", "more than 256 injects%s", NULL);
        if (!(sc->injects = calloc(n, sizeof *sc->injects)))
            return lia_error_set(c->err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    for (yaml_node_item_t *it = injs->data.sequence.items.start; it < injs->data.sequence.items.top; it++)
        if ((rc = inject(c, node(c, *it), sc)))
            return rc;
    return LIA_OK;
}

int lia_drill_scenario_parse(const char *buf, size_t len, lia_drill_scenario **out, lia_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    lia_drill_scenario *sc;
    ctx c = {&doc, err};
    int rc;
    if (len > LIA_DRILL_MAX_FILE)
        return lia_error_set(err, LIA_ELIMIT, NULL, NULL, 0, "a scenario larger than 1 MiB");
    if (!(sc = calloc(1, sizeof *sc)))
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    if (!yaml_parser_initialize(&parser)) {
        free(sc);
        return lia_error_set(err, LIA_ENOMEM, NULL, NULL, 0, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = lia_error_set(err, LIA_EPARSE, NULL, NULL, 0, "column %lu: not YAML: %s",
                           (unsigned long)parser.problem_mark.column + 1,
                           parser.problem ? parser.problem : "cannot be read");
        if (err)
            err->line = parser.problem_mark.line + 1;
        yaml_parser_delete(&parser);
        lia_drill_scenario_free(sc);
        return rc;
    }
    rc = top(&c, yaml_document_get_root_node(&doc), sc);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) {
        lia_drill_scenario_free(sc);
        return rc;
    }
    *out = sc;
    return LIA_OK;
}

void lia_drill_scenario_free(lia_drill_scenario *sc)
{
    if (!sc)
        return;
    free(sc->name);
    for (size_t i = 0; i < sc->nparticipants; i++)
        free(sc->participants[i]);
    for (size_t i = 0; i < sc->ninjects; i++) {
        lia_drill_inject *in = &sc->injects[i];
        free(in->name);
        free(in->title);
        free(in->description);
        free(in->tlp);
        free(in->event);
        for (size_t j = 0; j < in->nexpect; j++)
            free(in->expect[j].value);
    }
    free(sc->injects);
    free(sc);
}

/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* CVSS 3.1 base scores (FIRST's specification, section 7 and Appendix A)
 * and the TLP labels of CSAF 2.0. Pure. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "liaison/advisory.h"
#include "liaison/field.h"

/* The base metrics, in the vector's order, with their values' weights. */
enum { AV, AC, PR, UI, S, C, I, A, NBASE };
static const char *const base_names[NBASE] = {"AV", "AC", "PR", "UI", "S", "C", "I", "A"};
static const char *const base_values[NBASE] = {"NALP", "LH", "NLH", "NR", "UC", "HLN", "HLN", "HLN"};
/* Temporal and environmental metrics: allowed, not scored here. */
static const char *const other_names[] = {"E",   "RL",  "RC",  "CR", "IR", "AR", "MAV",
                                          "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"};

/* Appendix A: the smallest number, to one decimal, equal to or higher than
 * its input, computed on integers so that 4.000000001 is not 4.1. */
static double roundup(double x)
{
    int64_t i = (int64_t)llround(x * 100000.0);
    if (i % 10000 == 0)
        return (double)i / 100000.0;
    return (double)(i / 10000 + 1) / 10.0;
}

const char *lia_cvss31_severity(double score)
{
    if (score <= 0.0)
        return "NONE";
    if (score < 4.0)
        return "LOW";
    if (score < 7.0)
        return "MEDIUM";
    if (score < 9.0)
        return "HIGH";
    return "CRITICAL";
}

int lia_cvss31_base(const char *vector, double *score, const char **severity, const char **why)
{
    char v[NBASE] = {0};
    unsigned other_seen = 0;
    const char *p = vector;
    if (!p || strncmp(p, "CVSS:3.1/", 9) != 0) {
        *why = p && strncmp(p, "CVSS:3.0/", 9) == 0 ? "a CVSS 3.0 vector: only CVSS 3.1 is scored"
                                                    : "not a CVSS 3.1 vector (it must begin with CVSS:3.1/)";
        return LIA_EINVAL;
    }
    p += 9;
    for (;;) {
        const char *colon = strchr(p, ':'), *end = strchr(p, '/');
        size_t nl, vl;
        int found = 0;
        if (!end)
            end = p + strlen(p);
        if (!colon || colon > end) {
            *why = "a metric without a value (METRIC:VALUE separated by /)";
            return LIA_EINVAL;
        }
        nl = (size_t)(colon - p);
        vl = (size_t)(end - colon - 1);
        for (int m = 0; m < NBASE && !found; m++) {
            if (strlen(base_names[m]) != nl || memcmp(base_names[m], p, nl) != 0)
                continue;
            found = 1;
            if (v[m]) {
                *why = "a base metric is given twice";
                return LIA_EINVAL;
            }
            if (vl != 1 || !strchr(base_values[m], colon[1]) || colon[1] == '\0') {
                *why = "a base metric has a value CVSS 3.1 does not define";
                return LIA_EINVAL;
            }
            v[m] = colon[1];
        }
        for (size_t m = 0; m < sizeof other_names / sizeof *other_names && !found; m++) {
            if (strlen(other_names[m]) != nl || memcmp(other_names[m], p, nl) != 0)
                continue;
            found = 1;
            if (other_seen & (1u << m)) {
                *why = "a temporal or environmental metric is given twice";
                return LIA_EINVAL;
            }
            other_seen |= 1u << m;
            if (vl != 1) {
                *why = "a temporal or environmental metric has a value of more than one letter";
                return LIA_EINVAL;
            }
        }
        if (!found) {
            *why = "a metric CVSS 3.1 does not define";
            return LIA_EINVAL;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    for (int m = 0; m < NBASE; m++)
        if (!v[m]) {
            *why = "a base metric is missing (AV, AC, PR, UI, S, C, I and A are required)";
            return LIA_EINVAL;
        }
    int changed = v[S] == 'C';
    double av = v[AV] == 'N' ? 0.85 : v[AV] == 'A' ? 0.62 : v[AV] == 'L' ? 0.55 : 0.2;
    double ac = v[AC] == 'L' ? 0.77 : 0.44;
    double pr = v[PR] == 'N' ? 0.85 : v[PR] == 'L' ? (changed ? 0.68 : 0.62) : (changed ? 0.5 : 0.27);
    double ui = v[UI] == 'N' ? 0.85 : 0.62;
    double cia[3];
    for (int k = 0; k < 3; k++) {
        char x = v[C + k];
        cia[k] = x == 'H' ? 0.56 : x == 'L' ? 0.22 : 0.0;
    }
    double iss = 1.0 - (1.0 - cia[0]) * (1.0 - cia[1]) * (1.0 - cia[2]);
    double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
    double expl = 8.22 * av * ac * pr * ui, base;
    if (impact <= 0)
        base = 0.0;
    else if (changed)
        base = roundup(fmin(1.08 * (impact + expl), 10.0));
    else
        base = roundup(fmin(impact + expl, 10.0));
    *score = base;
    *severity = lia_cvss31_severity(base);
    return LIA_OK;
}

/* ---- TLP ---- */

const char *lia_csaf_tlp_label(int tlp, const char **why)
{
    static const char *const labels[] = {"WHITE", "GREEN", "AMBER", NULL, "RED"};
    if (tlp < LIA_TLP_CLEAR || tlp > LIA_TLP_RED) {
        if (why)
            *why = "not a TLP label";
        return NULL;
    }
    if (tlp == LIA_TLP_AMBER_STRICT && why)
        *why = "TLP:AMBER+STRICT has no label in CSAF 2.0 (TLP 1.0): AMBER would let recipients share "
               "with their clients; choose AMBER or RED";
    return labels[tlp];
}

const char *lia_csaf_tlp_folder(int tlp)
{
    static const char *const folders[] = {"white", "green", "amber", NULL, "red"};
    return tlp >= LIA_TLP_CLEAR && tlp <= LIA_TLP_RED ? folders[tlp] : NULL;
}

int lia_csaf_tlp_parse(const char *label)
{
    static const char *const labels[] = {"WHITE", "GREEN", "AMBER", NULL, "RED"};
    for (int t = 0; label && t <= LIA_TLP_RED; t++) {
        size_t i;
        if (!labels[t])
            continue;
        for (i = 0; labels[t][i] && (label[i] & ~0x20) == labels[t][i]; i++)
            ;
        if (!labels[t][i] && !label[i])
            return t;
    }
    return -1;
}

size_t lia_csaf_filename(const char *id, char *out, size_t n)
{
    size_t k = 0;
    if (!n)
        return 0;
    for (const char *p = id; *p && k + 6 < n; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-')) {
            if (k && out[k - 1] == '_')
                continue; /* a run of other characters is one '_' */
            c = '_';
        }
        out[k++] = c;
    }
    memcpy(out + k, ".json", 6);
    return k + 5;
}

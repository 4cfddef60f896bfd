/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Reference Security Incident Taxonomy (RSIT, machinev1.json) tables:
 * classification.taxonomy and classification.type, and which taxonomy each
 * type belongs to. The CERT community's pipeline (IntelMQ 3) also accepts a
 * few types outside RSIT (blacklist, dga-domain, proxy, tor, unknown, and the
 * US spelling unauthorized-use-of-resources); they are kept so that its
 * events import unchanged, each under the taxonomy IntelMQ gives it. */
#include <string.h>

#include "liaison/field.h"
#include "core/field_internal.h"

static const char *const taxonomies[] = {
    "abusive-content", "malicious-code", "information-gathering", "intrusion-attempts",
    "intrusions",      "availability",   "information-content-security",
    "fraud",           "vulnerable",     "other",
    "test",
};
enum { T_ABUSIVE, T_MALICIOUS, T_INFOGATHER, T_ATTEMPTS, T_INTRUSIONS, T_AVAIL, T_INFOSEC,
       T_FRAUD, T_VULN, T_OTHER, T_TEST, T__COUNT };

static const struct {
    const char *name;
    int taxonomy;
} types[] = {
    {"spam", T_ABUSIVE},
    {"harmful-speech", T_ABUSIVE},
    {"violence", T_ABUSIVE},
    {"infected-system", T_MALICIOUS},
    {"c2-server", T_MALICIOUS},
    {"malware-distribution", T_MALICIOUS},
    {"malware-configuration", T_MALICIOUS},
    {"scanner", T_INFOGATHER},
    {"sniffing", T_INFOGATHER},
    {"social-engineering", T_INFOGATHER},
    {"ids-alert", T_ATTEMPTS},
    {"brute-force", T_ATTEMPTS},
    {"exploit", T_ATTEMPTS},
    {"privileged-account-compromise", T_INTRUSIONS},
    {"unprivileged-account-compromise", T_INTRUSIONS},
    {"application-compromise", T_INTRUSIONS},
    {"system-compromise", T_INTRUSIONS},
    {"burglary", T_INTRUSIONS},
    {"dos", T_AVAIL},
    {"ddos", T_AVAIL},
    {"misconfiguration", T_AVAIL},
    {"sabotage", T_AVAIL},
    {"outage", T_AVAIL},
    {"unauthorised-information-access", T_INFOSEC},
    {"unauthorised-information-modification", T_INFOSEC},
    {"data-loss", T_INFOSEC},
    {"data-leak", T_INFOSEC},
    {"unauthorised-use-of-resources", T_FRAUD},
    {"copyright", T_FRAUD},
    {"masquerade", T_FRAUD},
    {"phishing", T_FRAUD},
    {"weak-crypto", T_VULN},
    {"ddos-amplifier", T_VULN},
    {"potentially-unwanted-accessible", T_VULN},
    {"information-disclosure", T_VULN},
    {"vulnerable-system", T_VULN},
    {"other", T_OTHER},
    {"undetermined", T_OTHER},
    {"test", T_TEST},
    /* IntelMQ 3 types outside RSIT. The store keeps a type as its index in
     * this table: append new types at the end, never reorder. */
    {"blacklist", T_OTHER},
    {"dga-domain", T_OTHER},
    {"proxy", T_OTHER},
    {"tor", T_OTHER},
    {"unknown", T_OTHER},
    {"unauthorized-use-of-resources", T_FRAUD},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int eq(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

int lia_class_taxonomy_lookup(const char *s, size_t n)
{
    for (int i = 0; i < COUNT(taxonomies); i++)
        if (eq(s, n, taxonomies[i]))
            return i;
    return -1;
}

int lia_class_type_lookup(const char *s, size_t n)
{
    for (int i = 0; i < COUNT(types); i++)
        if (eq(s, n, types[i].name))
            return i;
    return -1;
}

const char *lia__class_taxonomy_name(int id)
{
    return id >= 0 && id < COUNT(taxonomies) ? taxonomies[id] : "";
}

const char *lia__class_type_name(int id)
{
    return id >= 0 && id < COUNT(types) ? types[id].name : "";
}

int lia__class_type_taxonomy(int type_id)
{
    return type_id >= 0 && type_id < COUNT(types) ? types[type_id].taxonomy : -1;
}

int lia__class_type_count(void)
{
    return COUNT(types);
}

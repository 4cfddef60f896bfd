/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Well-known public feeds for the formats in src/feeds/ (data only): use
 * with `liaison feeds add --preset NAME`. URLs and documentation links are
 * the providers' own; some need a key or an account (see the link). */
#include <stdio.h>
#include <string.h>

#include "liaison/feeds.h"

#define H 3600
const lia_feed_preset lia_feed_presets[] = {
    {"feodotracker", "abuse.ch", "feodotracker", "https://feodotracker.abuse.ch/downloads/ipblocklist.json",
     NULL, "https://feodotracker.abuse.ch/blocklist/", "Feodo Tracker botnet C2 IP block list", 1 * H,
     LIA_TLP_CLEAR, "CC0 (abuse.ch)", NULL},
    {"spamhaus-drop", "Spamhaus", "spamhaus-drop", "https://www.spamhaus.org/drop/drop_v4.json", NULL,
     "https://www.spamhaus.org/blocklists/do-not-route-or-peer/", "Spamhaus DROP (IPv4 netblocks)", 12 * H,
     LIA_TLP_CLEAR, "Spamhaus DROP terms (free for filtering; no redistribution)", NULL},
    {"spamhaus-drop-v6", "Spamhaus", "spamhaus-drop", "https://www.spamhaus.org/drop/drop_v6.json", NULL,
     "https://www.spamhaus.org/blocklists/do-not-route-or-peer/", "Spamhaus DROP (IPv6 netblocks)", 12 * H,
     LIA_TLP_CLEAR, "Spamhaus DROP terms (free for filtering; no redistribution)", NULL},
    {"spamhaus-asndrop", "Spamhaus", "spamhaus-drop", "https://www.spamhaus.org/drop/asndrop.json", NULL,
     "https://www.spamhaus.org/blocklists/do-not-route-or-peer/", "Spamhaus ASN-DROP (autonomous systems)",
     12 * H, LIA_TLP_CLEAR, "Spamhaus DROP terms (free for filtering; no redistribution)", NULL},
    {"phishtank", "PhishTank", "phishtank", "https://data.phishtank.com/data/online-valid.json", NULL,
     "https://phishtank.org/developer_info.php",
     "PhishTank verified online phish (an application key in the URL is advised)", 6 * H, LIA_TLP_CLEAR,
     "PhishTank terms of use (free, attribution)", NULL},
    {"openphish", "OpenPhish", "openphish", "https://openphish.com/feed.txt", NULL,
     "https://openphish.com/phishing_feeds.html", "OpenPhish community phishing URLs", 12 * H, LIA_TLP_CLEAR,
     "OpenPhish community feed terms (free, non-commercial)", NULL},
    {"dshield-block", "DShield", "dshield-block", "https://feeds.dshield.org/block.txt", NULL,
     "https://isc.sans.edu/block.html", "DShield recommended block list (top attacking /24s)", 24 * H,
     LIA_TLP_CLEAR, "SANS ISC / DShield terms (free, non-commercial, attribution)", NULL},
    {"blocklistde-all", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/all.txt", "all",
     "https://www.blocklist.de/en/export.html", "blocklist.de: all attackers of the last 48 hours", 1 * H,
     LIA_TLP_CLEAR, "free for use (blocklist.de)", NULL},
    {"blocklistde-ssh", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/ssh.txt", "ssh",
     "https://www.blocklist.de/en/export.html", "blocklist.de: SSH attackers", 1 * H, LIA_TLP_CLEAR,
     "free for use (blocklist.de)", NULL},
    {"blocklistde-mail", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/mail.txt", "mail",
     "https://www.blocklist.de/en/export.html", "blocklist.de: mail (Postfix) attackers", 1 * H,
     LIA_TLP_CLEAR, "free for use (blocklist.de)", NULL},
    {"blocklistde-apache", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/apache.txt",
     "apache", "https://www.blocklist.de/en/export.html", "blocklist.de: web server attackers", 1 * H,
     LIA_TLP_CLEAR, "free for use (blocklist.de)", NULL},
    {"blocklistde-imap", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/imap.txt", "imap",
     "https://www.blocklist.de/en/export.html", "blocklist.de: IMAP/POP3/SASL attackers", 1 * H,
     LIA_TLP_CLEAR, "free for use (blocklist.de)", NULL},
    {"blocklistde-ftp", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/ftp.txt", "ftp",
     "https://www.blocklist.de/en/export.html", "blocklist.de: FTP attackers", 1 * H, LIA_TLP_CLEAR,
     "free for use (blocklist.de)", NULL},
    {"blocklistde-sip", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/sip.txt", "sip",
     "https://www.blocklist.de/en/export.html", "blocklist.de: SIP/VoIP attackers", 1 * H, LIA_TLP_CLEAR,
     "free for use (blocklist.de)", NULL},
    {"blocklistde-bots", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/bots.txt", "bots",
     "https://www.blocklist.de/en/export.html", "blocklist.de: forum/IRC spam bots", 1 * H, LIA_TLP_CLEAR,
     "free for use (blocklist.de)", NULL},
    {"blocklistde-strongips", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/strongips.txt",
     "strongips", "https://www.blocklist.de/en/export.html", "blocklist.de: persistent attackers", 1 * H,
     LIA_TLP_CLEAR, "free for use (blocklist.de)", NULL},
    {"blocklistde-ircbot", "blocklist.de", "blocklistde", "https://lists.blocklist.de/lists/ircbot.txt",
     "ircbot", "https://www.blocklist.de/en/export.html", "blocklist.de: IRC bots", 1 * H, LIA_TLP_CLEAR,
     "free for use (blocklist.de)", NULL},
    {"blocklistde-bruteforcelogin", "blocklist.de", "blocklistde",
     "https://lists.blocklist.de/lists/bruteforcelogin.txt", "bruteforcelogin",
     "https://www.blocklist.de/en/export.html", "blocklist.de: web login brute-forcers", 1 * H, LIA_TLP_CLEAR,
     "free for use (blocklist.de)", NULL},
    {"feodotracker-misp-csv", "abuse.ch", "misp-csv",
     "https://feodotracker.abuse.ch/downloads/ipblocklist.csv", "2",
     "https://feodotracker.abuse.ch/blocklist/", "Feodo Tracker CSV read as a MISP CSV feed (value column 2)",
     1 * H, LIA_TLP_CLEAR, "CC0 (abuse.ch)", NULL},
    {"ci-badguys", "CINS Score", "misp-freetext", "https://cinsscore.com/list/ci-badguys.txt", NULL,
     "https://cinsscore.com/", "CINS Army list, as in MISP's default free-text feeds", 24 * H, LIA_TLP_CLEAR,
     "free for use (CINS Army list)", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
#undef H

const lia_feed_preset *lia_feed_preset_find(const char *name)
{
    for (const lia_feed_preset *p = lia_feed_presets; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    for (const lia_feed_preset *p = lia_feed_map_presets; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

void lia_feed_from_preset(const lia_feed_preset *p, lia_feed *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", p->name);
    snprintf(f->provider, sizeof f->provider, "%s", p->provider);
    snprintf(f->format, sizeof f->format, "%s", p->format);
    snprintf(f->url, sizeof f->url, "%s", p->url);
    snprintf(f->subtype, sizeof f->subtype, "%s", p->subtype ? p->subtype : "");
    snprintf(f->doc, sizeof f->doc, "%s", p->doc);
    snprintf(f->map_path, sizeof f->map_path, "%s", p->map ? p->map : "");
    f->interval_s = p->interval_s;
    f->tlp = p->tlp;
    f->enabled = 1;
    f->last_ok = 1;
}

/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison ingest --format misp DIR: a MISP feed directory, one report per
 * event file listed in manifest.json. Reports are identified by content, so
 * running it again stores only the events that changed. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "liaison/misp.h"

int cli_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

typedef struct feed_run {
    lia_store *s;
    lia_ingest_opts *o;
    uint64_t files, failed, events, quarantined, skipped;
    int interrupted;
} feed_run;

static int one_file(void *ud, const char *path)
{
    feed_run *r = ud;
    lia_ingest_result res;
    lia_error err;
    int rc;
    r->o->path = path;
    r->o->feed.report_name = NULL;
    lia_error_clear(&err);
    rc = lia_ingest(r->s, r->o, &res, &err);
    r->files++;
    if (rc == LIA_EINTR) {
        cli_error(&err);
        r->interrupted = 1;
        return rc;
    }
    if (rc) { /* one bad event file does not stop the feed */
        cli_error(&err);
        r->failed++;
        return LIA_OK;
    }
    if (res.skipped)
        r->skipped++;
    else {
        r->events += res.report.events;
        r->quarantined += res.report.quarantined;
        printf("%s: report #%lld: %llu attributes, %llu events stored, %llu quarantined\n",
               res.report.name, (long long)res.report.id, (unsigned long long)res.report.rows,
               (unsigned long long)res.report.events, (unsigned long long)res.report.quarantined);
    }
    return LIA_OK;
}

int cli_ingest_misp_feed(cli *c, lia_ingest_opts *o, int strict)
{
    feed_run r;
    lia_error err;
    const char *dir = o->path;
    int rc;
    memset(&r, 0, sizeof r);
    r.o = o;
    if ((rc = cli_open_store(c, &r.s)))
        return rc;
    lia_error_clear(&err);
    rc = lia_misp_feed_files(dir, one_file, &r, &err);
    lia_store_close(r.s);
    if (r.interrupted)
        return LIA_EXIT_INTERRUPTED;
    if (rc) {
        cli_error(&err);
        return LIA_EXIT_ERROR;
    }
    printf("%s: MISP feed, %llu event files (%llu unchanged, %llu failed): %llu events stored, "
           "%llu quarantined\n",
           dir, (unsigned long long)r.files, (unsigned long long)r.skipped,
           (unsigned long long)r.failed, (unsigned long long)r.events,
           (unsigned long long)r.quarantined);
    if (r.failed)
        return LIA_EXIT_ERROR;
    return strict && r.quarantined ? LIA_EXIT_DATA : LIA_EXIT_OK;
}

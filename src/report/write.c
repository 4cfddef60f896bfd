/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* A report to a file: written beside it and renamed into place; a PDF is
 * the HTML printed by headless chromium (Debian's /usr/bin/chromium, as
 * tests/browser runs it). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/internal.h"

extern char **environ;

#define REPORT_MAX ((size_t)256 << 20)

static int write_file(const char *path, const char *p, size_t n, lia_error *err)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f)
        return lia_error_set(err, LIA_EIO, "--out", path, strlen(path), "%s", strerror(errno));
    ok = fwrite(p, 1, n, f) == n;
    ok = (fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
    if (fclose(f) != 0 || !ok) {
        remove(path);
        return lia_error_set(err, LIA_EIO, "--out", path, strlen(path), "cannot write the report");
    }
    return LIA_OK;
}

/* chromium --headless --print-to-pdf=pdf file://html; LIA_OK when pdf
 * holds a PDF. */
static int print_pdf(const char *chromium, const char *html, const char *pdf, lia_error *err)
{
    char a_pdf[4200], a_url[4200], a_prof[4200], dir[] = "/tmp/liaison-report-XXXXXX";
    char o1[] = "--headless", o2[] = "--no-sandbox", o3[] = "--disable-gpu", o4[] = "--no-pdf-header-footer";
    char a_bin[4096];
    char *argv[] = {a_bin, o1, o2, o3, o4, a_prof, a_pdf, a_url, NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = 0, rc;
    char head[5] = "";
    FILE *f;
    char abs[4096];
    snprintf(a_bin, sizeof a_bin, "%s", chromium);
    if (!realpath(html, abs))
        return lia_error_set(err, LIA_EIO, "--out", html, strlen(html), "%s", strerror(errno));
    if (!mkdtemp(dir))
        return lia_error_set(err, LIA_EIO, NULL, NULL, 0, "cannot make a profile directory for chromium");
    snprintf(a_prof, sizeof a_prof, "--user-data-dir=%s", dir);
    snprintf(a_pdf, sizeof a_pdf, "--print-to-pdf=%s", pdf);
    snprintf(a_url, sizeof a_url, "file://%s", abs);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, chromium, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        rmdir(dir);
        return lia_error_set(err, LIA_EIO, "chromium", chromium, strlen(chromium), "%s", strerror(rc));
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "%s", dir);
        /* the profile chromium left: removed with its files */
        pid_t rm;
        char r0[] = "rm", r1[] = "-rf";
        char *rargv[] = {r0, r1, cmd, NULL};
        if (posix_spawnp(&rm, "rm", NULL, NULL, rargv, environ) == 0)
            waitpid(rm, NULL, 0);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return lia_error_set(err, LIA_EIO, "chromium", chromium, strlen(chromium),
                             "chromium failed printing the report to PDF");
    if (!(f = fopen(pdf, "rb")) || fread(head, 1, 4, f) != 4 || memcmp(head, "%PDF", 4) != 0) {
        if (f)
            fclose(f);
        return lia_error_set(err, LIA_EIO, "chromium", chromium, strlen(chromium), "chromium wrote no PDF");
    }
    fclose(f);
    return LIA_OK;
}

int lia_report_write(lia_store *s, const lia_report_opts *o, const char *path, lia_error *err)
{
    lia_buf b;
    char tmp[4096], html[4096];
    int pdf = o->format && strcmp(o->format, "pdf") == 0, rc;
    const char *chromium = o->chromium;
    if (!path || !*path)
        return lia_error_set(err, LIA_EINVAL, "--out", NULL, 0,
                             "a report needs a file to write (--out FILE)");
    if (strlen(path) > 4000)
        return lia_error_set(err, LIA_ELIMIT, "--out", NULL, 0, "path too long");
    if (pdf) {
        if (!chromium)
            chromium = getenv("LIAISON_CHROMIUM");
        if (!chromium || !*chromium)
            chromium = "/usr/bin/chromium";
        if (access(chromium, X_OK) != 0)
            return lia_error_set(err, LIA_EUNSUPPORTED, "chromium", chromium, strlen(chromium),
                                 "PDF needs Debian's headless chromium (apt-get install chromium), not found"
                                 " here; --format html writes the same report");
    }
    lia_buf_init(&b, REPORT_MAX);
    if ((rc = lia_report_render(s, o, &b, err)))
        goto out;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (pdf) {
        snprintf(html, sizeof html, "%s.html.tmp", path);
        if ((rc = write_file(html, b.ptr, b.len, err)))
            goto out;
        rc = print_pdf(chromium, html, tmp, err);
        remove(html);
        if (rc) {
            remove(tmp);
            goto out;
        }
    } else if ((rc = write_file(tmp, b.ptr, b.len, err))) {
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = lia_error_set(err, LIA_EIO, "--out", path, strlen(path), "%s", strerror(errno));
        remove(tmp);
    }
out:
    lia_buf_free(&b);
    return rc;
}

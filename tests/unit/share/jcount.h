/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Test helper: jansson's live and peak bytes, through a counting allocator
 * (json_set_alloc_funcs(jc_malloc, jc_free)); for the importers' memory
 * tests. Plain malloc underneath, since the code frees json_dumps() text
 * with free(). */
#ifndef LIA_TEST_JCOUNT_H
#define LIA_TEST_JCOUNT_H

#include <malloc.h>
#include <stdlib.h>

static size_t jc_live, jc_peak;

static void *jc_malloc(size_t n)
{
    void *p = malloc(n);
    if (p) {
        jc_live += malloc_usable_size(p);
        if (jc_live > jc_peak)
            jc_peak = jc_live;
    }
    return p;
}

static void jc_free(void *p)
{
    if (p)
        jc_live -= malloc_usable_size(p);
    free(p);
}

#endif

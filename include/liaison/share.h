/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/share.h - what the sharing encoders (STIX 2.1, MISP, IODEF) have
 * in common: they write their output through a sink, so a document of any
 * size can go to a file, a socket or a buffer without being held in memory. */
#ifndef LIAISON_SHARE_H
#define LIAISON_SHARE_H

#include <stddef.h>

/* Write n bytes; return LIA_OK or a negative LIA_E* (the encoder stops and
 * returns it). */
typedef int (*lia_sink_fn)(void *ud, const char *p, size_t n);

#endif

/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Internal: recognise one indicator (as MISP's CSV and free-text feeds carry
 * them) and store it in the harmonised field it belongs to: URL ->
 * source.url, IP -> source.ip, IP:port -> source.ip + source.port, network
 * -> source.network, MD5/SHA-1/SHA-256 -> malware.hash.*, e-mail ->
 * source.account, domain -> source.fqdn. Defanged forms (hxxp, [.], [:],
 * [@]) are refanged first. */
#ifndef LIA_FEEDS_IOC_H
#define LIA_FEEDS_IOC_H

#include "liaison/event.h"

/* strict: a value that is no indicator is an error (a CSV value column);
 * otherwise it gives LIA_ENOTFOUND (a word in free text), unless it looks
 * like a broken address (digits, dots and colons only). scratch holds the
 * refanged text. */
int lia_ioc_set(lia_event *ev, lia_slice tok, int strict, lia_buf *scratch, lia_error *err);

/* The kind lia_ioc_set would store ("url", "ip", ...), or NULL. For tests. */
const char *lia_ioc_kind(lia_slice tok, lia_buf *scratch);

#endif

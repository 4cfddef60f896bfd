/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* liaison/liaison.h - the whole public API of libliaison. */
#ifndef LIAISON_H
#define LIAISON_H

#define LIAISON_VERSION "0.1.0"

#include "liaison/accounts.h"
#include "liaison/advisory.h"
#include "liaison/audit.h"
#include "liaison/bus.h"
#include "liaison/csv.h"
#include "liaison/drill.h"
#include "liaison/enrich.h"
#include "liaison/error.h"
#include "liaison/event.h"
#include "liaison/feeds.h"
#include "liaison/field.h"
#include "liaison/http.h"
#include "liaison/incident.h"
#include "liaison/ingest.h"
#include "liaison/iodef.h"
#include "liaison/limits.h"
#include "liaison/mail.h"
#include "liaison/misp.h"
#include "liaison/node.h"
#include "liaison/notify.h"
#include "liaison/pipeline.h"
#include "liaison/report.h"
#include "liaison/route.h"
#include "liaison/shadowserver.h"
#include "liaison/share.h"
#include "liaison/slice.h"
#include "liaison/stix.h"
#include "liaison/store.h"
#include "liaison/taxii.h"

#endif

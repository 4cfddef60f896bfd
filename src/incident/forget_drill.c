/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Deleting a drill's incidents (incident/drill.h). */
#include "incident/drill.h"
#include "incident/internal.h"

#define OF_DRILL "(SELECT id FROM incident WHERE drill = ?1)"

int lia__incident_forget_drill(lia_db *db, int64_t drill, uint64_t *n, lia_error *err)
{
    static const char *const name[] = {
        "incident: forgetting a drill's hand-off messages",
        "incident: forgetting a drill's hand-offs",
        "incident: forgetting a drill's comments",
        "incident: forgetting a drill's links",
        "incident: forgetting a drill's attachments",
        "incident: forgetting a drill's pauses",
        "incident: forgetting a drill's groups",
        "incident: forgetting a drill's incidents",
    };
    static const char *const sql[] = {
        "DELETE FROM handoff_message WHERE incident_id IN " OF_DRILL,
        "DELETE FROM handoff WHERE incident_id IN " OF_DRILL,
        "DELETE FROM incident_comment WHERE incident_id IN " OF_DRILL,
        "DELETE FROM incident_link WHERE incident_id IN " OF_DRILL,
        "DELETE FROM incident_attachment WHERE incident_id IN " OF_DRILL,
        "DELETE FROM incident_pause WHERE incident_id IN " OF_DRILL,
        "DELETE FROM incident_group WHERE incident_id IN " OF_DRILL,
        "DELETE FROM incident WHERE drill = ?1",
    };
    int rc;
    if ((rc = lia__incident_schema(db, err)))
        return rc;
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        lia_stmt *st;
        if ((rc = lia__db_prepare(db, name[i], sql[i], &st, err)))
            return rc;
        lia__db_bind_int64(st, 1, drill);
        rc = lia__db_run(st, err);
        lia__db_done(st);
        if (rc)
            return rc;
        if (n && i + 1 == sizeof sql / sizeof *sql)
            *n = (uint64_t)lia__db_changes(db);
    }
    return LIA_OK;
}
